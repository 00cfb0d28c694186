"""A member logs the young people they brought in, end to end through the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot import texts
from bot.settings import Settings
from storage.clock import ManualClock
from storage.validation import Org
from tests.fakebotapi import FakeBotApi
from tests.harness import MEMBER_HELP, Person, RunningBot, join

ASK_NAME = texts.ask(texts.ASK_YOUTH_NAME)
ASK_BIRTH = texts.ask(texts.ASK_BIRTH)
ASK_PHONE = texts.ask(texts.ASK_YOUTH_PHONE)
ASK_ORG = texts.ask(texts.ASK_ORG)
ASK_GUARDIAN = texts.ask(texts.ASK_GUARDIAN)


async def _rows(bot: RunningBot, sql: str, *args: Any) -> list[dict[str, Any]]:
    async with bot.app.bot_data["deps"].db.read() as conn, conn.execute(sql, args) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def _referrals(bot: RunningBot) -> list[dict[str, Any]]:
    return await _rows(bot, "SELECT * FROM referrals ORDER BY id")


@pytest.fixture
async def lan(person: Callable[..., Person]) -> Person:
    p = person("Lan")
    await join(p, "CD-AB-THON1", "Trần Thị Lan")
    return p


async def _refer(p: Person, name: str, birth: str, phone: str | None, org: Org) -> list[Any]:
    await p.send("/gioithieu")
    await p.send(name)
    await p.send(birth)
    if phone is None:
        await p.press(texts.BTN_SKIP)
    else:
        await p.send(phone)
    await p.press(texts.BTN_ORG[org])
    return await p.press(texts.BTN_CONFIRM)


async def test_whole_referral(bot: RunningBot, lan: Person):
    replies = await lan.send("/gioithieu")
    assert [r.text for r in replies] == [ASK_NAME]
    assert (await lan.send("nguyễn   văn bảo"))[-1].text == ASK_BIRTH
    assert (await lan.send("5/3/2008"))[-1].text == ASK_PHONE
    assert (await lan.send("+84 912 345 678"))[-1].text == ASK_ORG
    summary = (await lan.press(texts.BTN_ORG[Org.DOAN]))[-1]
    assert summary.text == texts.referral_summary(
        "Nguyễn Văn Bảo", "05/03/2008", "18 tuổi", "0912345678", Org.DOAN, False
    )
    replies = await lan.press(texts.BTN_CONFIRM)
    rows = await _referrals(bot)
    assert len(rows) == 1
    row = rows[0]
    assert replies[-1].text == texts.referral_saved(row["id"], "Nguyễn Văn Bảo", 2026, 0) or (
        replies[-1].text.startswith(f"Đã ghi nhận giới thiệu số {row['id']}: Nguyễn Văn Bảo")
    )
    assert "chưa đạt" in replies[-1].text
    member = (await _rows(bot, "SELECT id, unit_id FROM members"))[0]
    assert {k: row[k] for k in ("full_name", "birth_date", "birth_year", "phone", "org")} == {
        "full_name": "Nguyễn Văn Bảo",  # stored capitalised
        "birth_date": "2008-03-05",
        "birth_year": 2008,
        "phone": "0912345678",
        "org": "doan",
    }
    assert (row["status"], row["member_id"], row["unit_id"]) == (
        "introduced",
        member["id"],
        member["unit_id"],
    )
    assert row["guardian_consent"] == 0
    assert await _rows(bot, "SELECT * FROM conversations") == []

    mine = (await lan.send("/cuatoi"))[-1].text
    assert f"Số {row['id']}: Nguyễn Văn Bảo (05/03/2008) – Đoàn – chờ xét" in mine
    assert "chưa đạt" in mine


async def test_every_wrong_answer_gets_a_reason_and_the_same_question(bot: RunningBot, lan: Person):
    await lan.send("/gioithieu")
    for bad, code in [("B", "name_too_short"), ("Bảo 2008", "name_invalid")]:
        assert [r.text for r in await lan.send(bad)] == [texts.invalid(code), ASK_NAME]
    await lan.send("Lê Văn Bảo")
    for bad, code in [
        ("mùng 5 tháng 3", "birth_format"),
        ("5/3/08", "birth_format"),
        ("31/04/2008", "birth_invalid"),
        ("01/01/2099", "birth_in_future"),
        ("2099", "birth_in_future"),
    ]:
        assert [r.text for r in await lan.send(bad)] == [texts.invalid(code), ASK_BIRTH], bad
    ages = bot.settings.ages
    replies = await lan.send("1980")
    assert [r.text for r in replies] == [texts.age_outside_all("45–46 tuổi", ages), ASK_BIRTH]
    await lan.send("2011")  # 14–15 years old: Hội only, with a guardian's consent
    for bad, code in [("12345", "phone_invalid"), ("+33 6 12 34 56 78", "phone_not_vietnamese")]:
        assert [r.text for r in await lan.send(bad)] == [texts.invalid(code), ASK_PHONE]
    await lan.press(texts.BTN_SKIP)
    replies = await lan.send("không biết")  # typed where a button is expected
    assert [r.text for r in replies] == [texts.USE_BUTTONS, ASK_ORG]
    replies = await lan.send("Đoàn")  # a label's word, typed: as if pressed
    assert replies[0].text == texts.age_outside_org("14–15 tuổi", Org.DOAN, ages)
    assert replies[1].text == ASK_ORG
    replies = await lan.press(texts.BTN_ORG[Org.DOAN])
    assert replies[0].text == texts.age_outside_org("14–15 tuổi", Org.DOAN, ages)
    assert replies[1].text == ASK_ORG
    replies = await lan.press(texts.BTN_ORG[Org.HOI])
    assert replies[-1].text == ASK_GUARDIAN
    await lan.press(texts.BTN_GUARDIAN_YES)
    assert "Cha mẹ/người giám hộ đã đồng ý" in lan.last_text
    await lan.press(texts.BTN_CONFIRM)
    rows = await _referrals(bot)
    assert [(r["full_name"], r["birth_date"], r["org"], r["guardian_consent"]) for r in rows] == [
        ("Lê Văn Bảo", None, "hoi", 1)
    ]


async def test_no_guardian_consent_means_nothing_is_kept(bot: RunningBot, lan: Person):
    await lan.send("/gioithieu")
    await lan.send("Vũ Thị Hà")
    await lan.send("20/12/2010")  # 15 years old
    await lan.press(texts.BTN_SKIP)
    await lan.press(texts.BTN_ORG[Org.HOI])
    replies = await lan.press(texts.BTN_GUARDIAN_NO)
    assert replies[-1].text == texts.GUARDIAN_MISSING
    assert await _referrals(bot) == []
    assert await _rows(bot, "SELECT * FROM conversations") == []


async def test_cancel_at_every_step_writes_nothing(bot: RunningBot, lan: Person):
    steps = [[], ["Hồ Văn Nam"], ["Hồ Văn Nam", "2005"], ["Hồ Văn Nam", "2005", "0988777666"]]
    for answers in steps:
        await lan.send("/gioithieu")
        for answer in answers:
            await lan.send(answer)
        assert (await lan.send("/huy"))[-1].text == texts.CANCELLED
    # …and the Cancel button on the summary
    await lan.send("/gioithieu")
    for answer in ["Hồ Văn Nam", "2005", "0988777666"]:
        await lan.send(answer)
    await lan.press(texts.BTN_ORG[Org.DOAN])
    assert (await lan.press(texts.BTN_CANCEL))[-1].text == texts.CANCELLED
    assert await _referrals(bot) == []
    assert await _rows(bot, "SELECT * FROM conversations") == []


async def test_duplicates_are_refused_without_naming_anyone(
    bot: RunningBot, lan: Person, person: Callable[..., Person]
):
    await _refer(lan, "Đinh Công Tráng", "12/07/2006", "0901234567", Org.DOAN)
    other = person("Tú")
    await join(other, "CD-HL-KP3", "Mai Văn Tú")

    # Same phone: refused as soon as the phone is typed.
    await other.send("/gioithieu")
    await other.send("Đinh Tráng")
    await other.send("2004")
    replies = await other.send("090 123 4567")
    assert [r.text for r in replies] == [texts.DUPLICATE]
    # Same name (another tone placement and case) and birth year: refused at the birth date.
    await other.send("/gioithieu")
    await other.send("đinh công tráng")
    replies = await other.send("2006")
    assert [r.text for r in replies] == [texts.DUPLICATE]
    for reply in other.inbox():
        assert "Lan" not in (reply.text or "") and "Trần Thị" not in (reply.text or "")
    assert len(await _referrals(bot)) == 1
    # A different youth of the same name but another birth date is fine.
    await _refer(other, "Đinh Công Tráng", "01/01/2007", None, Org.DOAN)
    assert len(await _referrals(bot)) == 2


async def test_duplicate_caught_at_confirmation(
    bot: RunningBot, lan: Person, person: Callable[..., Person]
):
    """Two members type the same youth at the same time: the second confirmation is refused."""
    other = person("Tú")
    await join(other, "CD-HL-KP3", "Mai Văn Tú")
    for p in (lan, other):
        await p.send("/gioithieu")
        await p.send("Phan Thị Hồng")
        await p.send("2007")
        await p.send("0977000111")
        await p.press(texts.BTN_ORG[Org.HOI])
    await lan.press(texts.BTN_CONFIRM)
    replies = await other.press(texts.BTN_CONFIRM)
    assert replies[-1].text == texts.DUPLICATE
    assert [r["member_id"] for r in await _referrals(bot)] == [1]


async def test_two_users_talking_at_once(
    api: FakeBotApi, bot: RunningBot, lan: Person, person: Callable[..., Person]
):
    tu = person("Tú")
    await join(tu, "CD-HL-KP3", "Mai Văn Tú")
    script = [
        (lan, ["/gioithieu", "Ngô Thị Mai", "03/02/2003", "0345678901"]),
        (tu, ["/gioithieu", "Lý Văn Hùng", "2001", "0356789012"]),
    ]
    for i in range(4):
        # Both messages are queued before the bot sees either.
        ids = [api.inject_message(p.user, lines[i]) for p, lines in script]
        await asyncio.gather(*(bot.processed(u) for u in ids))
    for p, _ in script:
        assert p.last_text == ASK_ORG
    await lan.press(texts.BTN_ORG[Org.DOAN])
    await tu.press(texts.BTN_ORG[Org.HOI])
    await tu.press(texts.BTN_CONFIRM)
    await lan.press(texts.BTN_CONFIRM)
    rows = await _referrals(bot)
    assert {(r["full_name"], r["phone"], r["org"]) for r in rows} == {
        ("Ngô Thị Mai", "0345678901", "doan"),
        ("Lý Văn Hùng", "0356789012", "hoi"),
    }
    members = {m["id"]: m["full_name"] for m in await _rows(bot, "SELECT * FROM members")}
    owner = {r["full_name"]: members[r["member_id"]] for r in rows}
    assert owner == {"Ngô Thị Mai": "Trần Thị Lan", "Lý Văn Hùng": "Mai Văn Tú"}


async def test_a_restart_resumes_the_conversation(
    api: FakeBotApi, settings: Settings, bot: RunningBot, lan: Person, clock: ManualClock
):
    await lan.send("/gioithieu")
    await lan.send("Quách Thị Yến")
    await lan.send("2004")
    await bot.stop()

    again = RunningBot(settings, clock)
    await again.start()
    try:
        lan.bot = again
        replies = await lan.send("0399888777")
        assert replies[-1].text == ASK_ORG
        await lan.press(texts.BTN_ORG[Org.DOAN])
        await lan.press(texts.BTN_CONFIRM)
        assert "Quách Thị Yến" in lan.last_text
        rows = await _referrals(again)
        assert [(r["full_name"], r["birth_year"], r["phone"]) for r in rows] == [
            ("Quách Thị Yến", 2004, "0399888777")
        ]
    finally:
        await again.stop()
    assert again.errors == []
    await bot.start()  # so the fixture's teardown has a running bot to stop


async def test_other_commands_during_a_referral(bot: RunningBot, lan: Person):
    await lan.send("/gioithieu")
    await lan.send("Tạ Văn Khoa")
    birth_question = lan.last
    replies = await lan.send("/start")
    assert [r.text for r in replies] == [texts.greeting("Trần Thị Lan", "Chi đoàn thôn Tân Lập")]
    replies = await lan.send("/gioithieu")
    assert [r.text for r in replies] == [texts.IN_PROGRESS, ASK_BIRTH]
    assert (await lan.send("/help"))[-1].text == MEMBER_HELP
    assert (await lan.send("/khonglenh"))[-1].text == texts.UNKNOWN_IN_CONVERSATION
    # The conversation is still there: the birth date is taken.
    assert (await lan.send("2003"))[-1].text == ASK_PHONE
    # A button from an earlier question does nothing.
    await lan.press_data(birth_question.message_id, "ref:org:doan")
    assert lan.last_answer is not None and lan.last_answer["text"] == texts.STALE_BUTTON
    assert lan.last_text == ASK_PHONE


async def test_personal_data_stays_out_of_the_logs(
    bot: RunningBot, lan: Person, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    await _refer(lan, "Kim Thị Ngân", "2002", "0366554433", Org.DOAN)
    assert len(await _referrals(bot)) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("Kim Thị Ngân", "0366554433", "Trần Thị Lan"):
        assert secret not in logged


async def test_a_member_erases_their_data(bot: RunningBot, lan: Person):
    await _refer(lan, "Kim Thị Ngân", "2002", "0366554433", Org.DOAN)
    replies = await lan.send("/xoadulieu")
    assert replies[-1].text == texts.CONFIRM_ERASE
    await lan.press(texts.BTN_ERASE_NO)
    assert lan.last_text == texts.ERASE_KEPT
    assert len(await _referrals(bot)) == 1
    await lan.send("/xoadulieu")
    await lan.press(texts.BTN_ERASE_YES)
    assert lan.last_text == texts.ERASED
    assert await _referrals(bot) == []
    assert await _rows(bot, "SELECT * FROM members") == []
    assert (await lan.send("/cuatoi"))[-1].text == texts.NOT_REGISTERED
    # The youth can now be introduced again by someone else (nothing of them is left).


async def test_a_button_of_a_cancelled_referral_cannot_confirm_the_next(
    bot: RunningBot, lan: Person
):
    async def to_summary(name: str, org: Org) -> Any:
        await lan.send("/gioithieu")
        await lan.send(name)
        await lan.send("2005")
        await lan.press(texts.BTN_SKIP)
        return (await lan.press(texts.BTN_ORG[org]))[-1]

    old_summary = await to_summary("Lê Văn An", Org.DOAN)
    await lan.send("/huy")
    await to_summary("Trần Thị Bình", Org.HOI)
    await lan.press_data(old_summary.message_id, old_summary.button_data(texts.BTN_CONFIRM))
    assert lan.last_answer is not None and lan.last_answer["text"] == texts.STALE_BUTTON
    assert await _referrals(bot) == []
    await lan.press(texts.BTN_CONFIRM)
    assert [r["full_name"] for r in await _referrals(bot)] == ["Trần Thị Bình"]


async def test_skip_typed_at_the_youths_phone_skips_it(bot: RunningBot, branch: dict[str, Person]):
    lan = branch["lan"]
    await lan.send("/gioithieu")
    await lan.send("Vũ Minh Quân")
    await lan.send("2004")
    replies = await lan.send("bỏ qua")
    assert replies[-1].text == ASK_ORG
