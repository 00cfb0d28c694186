"""Leaders' work end to end (issue 9, item 9): one pass through the /duyet queue that ends, a
queue limited to a unit, declining with an optional reason and a confirmation, the list of
decided referrals (/daduyet), /molai's answer for a number that is not theirs, and the
confirmations before renewing an invite and removing a leader; on Telegram and on Zalo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot import texts
from bot.settings import Settings
from storage import referrals
from storage.clock import ManualClock
from storage.referrals import Decision
from storage.validation import Org
from tests.conftest import ADMIN_ID
from tests.fakebotapi import FakeBotApi
from tests.fakezalo import FakeZaloApi
from tests.harness import (
    TAN_LAP,
    Person,
    RunningBot,
    ZaloPerson,
    appoint_link,
    choices_in,
    code_in,
    decline,
    join,
    make_settings,
    payload_in,
    refer,
    rows,
)

TL = "Chi đoàn thôn Tân Lập"


@pytest.fixture
def settings(api: FakeBotApi, zalo: FakeZaloApi, db_path: Path) -> Settings:
    return make_settings(api, db_path, zalo, admin_ids=[ADMIN_ID])


def numbered(text: str) -> list[str]:
    return [label for _, label in choices_in(text)]


async def status_of(bot: RunningBot, number: int) -> str:
    got = await rows(bot, "SELECT status FROM referrals WHERE id = ?", number)
    return str(got[0]["status"])


async def audit_of(bot: RunningBot, number: int) -> list[tuple[str, str | None]]:
    got = await rows(
        bot, "SELECT action, reason FROM referral_audit WHERE referral_id = ? ORDER BY id", number
    )
    return [(g["action"], g["reason"]) for g in got]


def card_start(number: int, name: str, waiting: int) -> str:
    return f"Chờ xét: {waiting}\nSố {number}: {name}"


# --- one pass through the queue ---------------------------------------------------------------


async def test_later_goes_forward_and_the_pass_ends(bot: RunningBot, branch: dict[str, Person]):
    leader, lan, tu = branch["leader"], branch["lan"], branch["tu"]
    a = await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)
    b = await refer(lan, "Phạm Thị Bích", "2003", None, Org.HOI)
    c = await refer(tu, "Đỗ Minh Châu", "2006", None, Org.DOAN)

    assert (await leader.send("/duyet"))[-1].text.startswith(card_start(a, "Lê Văn An", 3))
    assert (await leader.press(texts.BTN_LATER))[-1].text.startswith(card_start(b, "Phạm", 3))
    assert (await leader.press(texts.BTN_LATER))[-1].text.startswith(card_start(c, "Đỗ", 3))
    replies = await leader.press(texts.BTN_LATER)
    assert [r.text for r in replies] == [texts.review_pass_done(3, "/duyet")]
    assert replies[-1].buttons() == []  # nothing to press round again
    assert [await status_of(bot, n) for n in (a, b, c)] == ["introduced"] * 3

    # /duyet starts a new pass from the lowest number; deciding goes on forward.
    assert (await leader.send("/duyet"))[-1].text.startswith(card_start(a, "Lê Văn An", 3))
    await leader.press(texts.BTN_LATER)
    replies = await decline(leader)  # Bích; Châu follows
    assert replies[-1].text.startswith(card_start(c, "Đỗ Minh Châu", 2))
    await leader.press(texts.BTN_ADMIT)
    replies = await leader.press(texts.BTN_TODAY)
    assert replies[-1].text == texts.review_pass_done(1, "/duyet")  # An, left for later
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    replies = await leader.press(texts.BTN_TODAY)
    assert replies[-1].text == texts.NO_PENDING
    assert [await status_of(bot, n) for n in (a, b, c)] == ["admitted", "declined", "admitted"]


# --- declining: a reason, a confirmation ------------------------------------------------------


async def test_declining_asks_a_reason_then_confirmation(
    bot: RunningBot, branch: dict[str, Person]
):
    leader, lan = branch["leader"], branch["lan"]
    a = await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)
    b = await refer(lan, "Phạm Thị Bích", "2003", None, Org.HOI)
    question = texts.ask(texts.decline_reason_question(a, "Lê Văn An"))

    card = (await leader.send("/duyet"))[-1]
    replies = await leader.press(texts.BTN_DECLINE)
    assert replies[-1].text == question
    assert [label for row in replies[-1].buttons() for label, _ in row] == [
        texts.BTN_SKIP,
        texts.BTN_BACK,
    ]
    assert leader.message(card.message_id).buttons() == []  # the card waits for the answer
    for typed in ("ngắn", "x" * 301):
        replies = await leader.send(typed)
        assert [r.text for r in replies] == [texts.DECLINE_REASON_LENGTH, question]
    reason = "Chưa đủ 16 tuổi theo Điều lệ Đoàn"
    replies = await leader.send(f"  {reason}  ")
    assert replies[-1].text == texts.ask(texts.confirm_decline(a, "Lê Văn An", reason))

    # "Quay lại": nothing written, nobody told, the same card again.
    seen_by_lan = len(lan.inbox())
    replies = await leader.press(texts.BTN_BACK)
    assert replies[-1].text.startswith(card_start(a, "Lê Văn An", 2))
    assert await status_of(bot, a) == "introduced"
    assert await audit_of(bot, a) == []
    assert len(lan.inbox()) == seen_by_lan
    assert await rows(bot, "SELECT * FROM conversations") == []

    # Again, to the end: the reason is kept with the decision, and told to the member kindly.
    await leader.press(texts.BTN_DECLINE)
    await leader.send(reason)
    replies = await leader.press(texts.BTN_DECLINE_YES)
    assert replies[0].text == texts.decided_number(a, texts.BTN_DECLINE)
    assert replies[-1].text.startswith(card_start(b, "Phạm Thị Bích", 1))
    assert await status_of(bot, a) == "declined"
    assert await audit_of(bot, a) == [("decline", reason)]
    assert lan.last_text == texts.declined_kindly(a, "Lê Văn An", reason)
    assert reason in lan.last_text and "Cảm ơn đồng chí" in lan.last_text

    # Without a reason ("Bỏ qua", pressed or typed), the notice has none.
    await leader.press(texts.BTN_DECLINE)
    replies = await leader.send("bo qua")
    assert replies[-1].text == texts.ask(texts.confirm_decline(b, "Phạm Thị Bích", None))
    replies = await leader.press(texts.BTN_DECLINE_YES)
    assert replies[-1].text == texts.NO_PENDING
    assert await audit_of(bot, b) == [("decline", None)]
    assert lan.last_text == texts.declined_kindly(b, "Phạm Thị Bích", None)
    assert "Lý do" not in lan.last_text

    # /huy in the middle leaves the referral as it was.
    c = await refer(lan, "Đỗ Minh Châu", "2006", None, Org.DOAN)
    await leader.send("/duyet")
    await leader.press(texts.BTN_DECLINE)
    await leader.send("Gia đình chưa đồng ý")
    await leader.send("/huy")
    assert await status_of(bot, c) == "introduced" and await audit_of(bot, c) == []


async def test_the_confirmation_checks_the_right_again(
    bot: RunningBot, branch: dict[str, Person], admin: Person
):
    leader, lan = branch["leader"], branch["lan"]
    a = await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)
    await leader.send("/duyet")
    await leader.press(texts.BTN_DECLINE)
    await leader.press(texts.BTN_SKIP)
    confirm, data = leader.find_button(texts.BTN_DECLINE_YES)
    await admin.send("/bonhiem")
    for label in [*TAN_LAP, texts.BTN_CHOOSE_HERE]:
        await admin.press(label)
    await admin.press(texts.remove_leader_button("Nguyễn Văn Hùng"))
    await admin.press(texts.BTN_REMOVE_YES)
    seen_by_lan = len(lan.inbox())
    await leader.press_data(confirm.message_id, data)
    assert leader.last_answer is not None
    assert leader.last_answer.get("text") == texts.NO_PERMISSION
    assert await status_of(bot, a) == "introduced" and await audit_of(bot, a) == []
    assert len(lan.inbox()) == seen_by_lan
    assert await rows(bot, "SELECT * FROM conversations") == []


# --- a queue limited to a unit ----------------------------------------------------------------


async def test_duyet_limited_to_a_unit(
    bot: RunningBot,
    branch: dict[str, Person],
    admin: Person,
    person: Callable[..., Person],
):
    leader, lan = branch["leader"], branch["lan"]
    quang = person("Quang")
    await join(quang, "CD-HL-KP3", "Vũ Văn Quang")
    k = await refer(quang, "Ngô Thị Kim", "2004", None, Org.DOAN)
    a = await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)
    b = await refer(lan, "Phạm Thị Bích", "2003", None, Org.HOI)
    unit = {r["code"]: r["id"] for r in await rows(bot, "SELECT id, code FROM units")}
    tl, kp3 = unit["CD-AB-THON1"], unit["CD-HL-KP3"]

    # By code: only Khu phố 3, and the limit holds on the next card and at the end of the pass.
    replies = await admin.send("/duyet cd-hl-kp3")
    assert replies[-1].text.startswith(card_start(k, "Ngô Thị Kim", 1))
    assert replies[-1].button_data(texts.BTN_LATER) == f"rv:l:{k}:{kp3}"
    replies = await admin.press(texts.BTN_LATER)
    assert replies[-1].text == texts.review_pass_done(1, "/duyet CD-HL-KP3")

    # By part of a name: the Đoàn's and the Hội's Tân Lập both match; the admin chooses.
    replies = await admin.send("/duyet tan lap")
    assert replies[-1].text.startswith(texts.units_many("tan lap", False))
    labels = [label for row in replies[-1].buttons() for label, _ in row]
    assert len(labels) == 2 and any(TL in label for label in labels)
    replies = await admin.press(TL)
    assert replies[-1].text.startswith(card_start(a, "Lê Văn An", 2))
    replies = await admin.press(texts.BTN_LATER)
    assert replies[-1].text.startswith(card_start(b, "Phạm Thị Bích", 2))
    replies = await decline(admin, "Đã là hội viên ở nơi khác")
    assert replies[-1].text == texts.review_pass_done(1, "/duyet CD-AB-THON1")
    assert await status_of(bot, k) == "introduced"  # never shown inside Tân Lập's queue

    # A unit outside the leader's reach is answered exactly like one that does not exist.
    for typed in ("CD-HL-KP3", "khu pho 3", "khong co dau"):
        replies = await leader.send(f"/duyet {typed}")
        assert [r.text for r in replies] == [texts.unit_not_found(typed)]
    assert (await leader.send("/duyet tan lap"))[-1].text.startswith(card_start(a, "Lê", 1))
    # Edited buttons naming another unit do nothing.
    for data in (f"rv:l:{a}:{kp3}", f"rv:u:{kp3}", f"rv:a:{a}:{unit['TD-MAU']}", f"rv:u:{tl}:0"):
        seen = len(leader.inbox())
        await leader.press_data(leader.last.message_id, data)
        assert leader.last_answer is not None
        assert leader.last_answer.get("text") == texts.NO_PERMISSION, data
        assert len(leader.inbox()) == seen


# --- decided referrals, and /molai --------------------------------------------------------------


async def test_decided_referrals_newest_first_by_pages(
    bot: RunningBot, branch: dict[str, Person], admin: Person, clock: ManualClock
):
    leader, lan, tu = branch["leader"], branch["lan"], branch["tu"]
    names = [
        "Lê Văn An",
        "Phạm Thị Bích",
        "Đỗ Minh Châu",
        "Vũ Thị Dung",
        "Hà Văn Em",
        "Ngô Thị Giang",
        "Lý Văn Hải",
        "Trịnh Thị Hoa",
        "Đinh Văn Khải",
        "Bùi Thị Lụa",
        "Tạ Văn Mạnh",
        "Cao Thị Nga",
    ]
    numbers = [
        await refer(lan if i % 2 else tu, n, "2004", None, Org.DOAN) for i, n in enumerate(names)
    ]
    own = await refer(leader, "Hoàng Văn Minh", "2004", None, Org.DOAN)
    deps = bot.deps
    # Decided one after another, an hour apart, in an order that is not the numbers' order.
    order = numbers[6:] + numbers[:6]
    for i, number in enumerate(order):
        clock.advance(timedelta(hours=1))
        decision = Decision.ADMIT if i % 3 == 0 else Decision.DECLINE
        day = deps.today() - timedelta(days=40) if decision is Decision.ADMIT else None
        await referrals.change_status(
            deps.db, number, decision, None, clock, admitted_on=day, tz=deps.settings.tz
        )
    await referrals.change_status(deps.db, own, Decision.DECLINE, None, clock)
    newest_first = list(reversed(order))

    def line(number: int) -> str:
        i = order.index(number)
        admitted = i % 3 == 0
        day = deps.today() - timedelta(days=40) if admitted else deps.today()
        return texts.decided_line(
            number,
            names[numbers.index(number)],
            "admitted" if admitted else "declined",
            day.strftime("%d/%m/%Y"),
        )

    replies = await leader.send("/daduyet")
    first = replies[-1]
    assert first.text == "\n".join(
        [
            texts.decided_title(None, 0),
            *(line(n) for n in newest_first[:10]),
            "",
            texts.DECIDED_HINT,
        ]
    )
    assert "Hoàng Văn Minh" not in first.text  # their own is not theirs to reopen
    assert "đã kết nạp ngày" in first.text and "không kết nạp ngày" in first.text
    replies = await leader.press(texts.BTN_MORE)
    assert replies[-1].text.splitlines()[1:3] == [line(n) for n in newest_first[10:]]
    assert replies[-1].text.startswith(texts.decided_title(None, 1))
    assert replies[-1].buttons() == []
    # The admin sees the leader's own too; by unit, by code.
    replies = await admin.send("/daduyet CD-AB-THON1")
    assert replies[-1].text.startswith(texts.decided_title(TL, 0))
    assert "Hoàng Văn Minh" in replies[-1].text
    assert replies[-1].button_data(texts.BTN_MORE).endswith(":" + str(await unit_id(bot)))

    # The number found is the one /molai takes.
    target = newest_first[0]
    replies = await leader.send(f"/molai {target}")
    assert replies[-1].text == texts.ask(texts.ASK_REOPEN_REASON)
    await leader.send("/huy")
    # Members are told the command is not theirs; a leader with nothing decided, so.
    assert (await lan.send("/daduyet"))[-1].text == texts.NOT_A_LEADER
    assert (await admin.send("/daduyet CD-HL-KP3"))[-1].text == texts.NO_DECIDED


async def unit_id(bot: RunningBot, code: str = "CD-AB-THON1") -> int:
    return int((await rows(bot, "SELECT id FROM units WHERE code = ?", code))[0]["id"])


async def test_molai_of_a_number_not_in_the_leaders_units(
    bot: RunningBot, branch: dict[str, Person], admin: Person, person: Callable[..., Person]
):
    leader = branch["leader"]
    quang = person("Quang")
    await join(quang, "CD-HL-KP3", "Vũ Văn Quang")
    k = await refer(quang, "Ngô Thị Kim", "2004", None, Org.DOAN)
    await admin.send("/duyet CD-HL-KP3")
    await decline(admin)
    for number in (k, 999_999):
        replies = await leader.send(f"/molai {number}")
        assert [r.text for r in replies] == [texts.no_referral_here(number)]
    assert await status_of(bot, k) == "declined"
    assert await rows(bot, "SELECT * FROM conversations") == []


# --- renewing an invite, removing a leader ------------------------------------------------------


async def test_renewing_an_invite_asks_first(
    bot: RunningBot, branch: dict[str, Person], person: Callable[..., Person]
):
    leader = branch["leader"]

    async def generation() -> int:
        got = await rows(bot, "SELECT invite_generation FROM units WHERE code = 'CD-AB-THON1'")
        return int(got[0]["invite_generation"])

    before = await generation()
    old = payload_in((await leader.send("/moi"))[-1].text)
    replies = await leader.send("/moi moi")
    assert replies[-1].text == texts.confirm_renew(TL)
    replies = await leader.press(texts.BTN_RENEW_NO)
    assert replies[-1].text == texts.RENEW_KEPT
    assert await generation() == before
    newcomer = person("Mới")
    assert texts.invited_to(TL) in (await newcomer.send(f"/start {old}"))[0].text
    await newcomer.send("/huy")

    # The button under an invite asks too; then the old link stops working.
    await leader.send("/moi")
    assert (await leader.press(texts.BTN_RENEW_LINK))[-1].text == texts.confirm_renew(TL)
    assert await generation() == before
    replies = await leader.press(texts.BTN_RENEW_YES)
    fresh = payload_in(replies[-1].text)
    assert replies[-1].text.startswith("Đường dẫn và mã cũ đã bị hủy.")
    assert await generation() == before + 1 and fresh != old
    late = person("Muộn")
    assert (await late.send(f"/start {old}"))[0].text == texts.INVITE_INVALID


async def test_removing_a_zalo_leader_asks_first_and_tells_them_on_zalo(
    bot: RunningBot,
    admin: Person,
    branch: dict[str, Person],
    zperson: Callable[..., ZaloPerson],
):
    await appoint_link(admin, TAN_LAP)
    hoa = zperson("Hoa")
    await hoa.send(f"start {code_in(admin.last_text)}")
    await hoa.send("Đỗ Thị Hoa")
    await hoa.send("1")
    await hoa.send("bo qua")

    await admin.send("/bonhiem")
    for label in [*TAN_LAP, texts.BTN_CHOOSE_HERE]:
        await admin.press(label)
    await admin.press(texts.remove_leader_button("Đỗ Thị Hoa"))
    assert admin.last_text == texts.confirm_remove("Đỗ Thị Hoa", "leader", TL, Org.DOAN)
    held = await rows(bot, "SELECT COUNT(*) AS n FROM roles")
    # "Quay lại": the panel again, nobody removed.
    await admin.press(texts.BTN_BACK)
    assert admin.last_text == texts.appoint_panel(TL, ["Nguyễn Văn Hùng", "Đỗ Thị Hoa"])
    assert await rows(bot, "SELECT COUNT(*) AS n FROM roles") == held
    seen = len(hoa.inbox())
    await admin.press(texts.remove_leader_button("Đỗ Thị Hoa"))
    await admin.press(texts.BTN_REMOVE_YES)
    assert admin.last_answer is not None
    assert admin.last_answer.get("text") == texts.role_removed("Đỗ Thị Hoa", "leader", TL, Org.DOAN)
    assert admin.last_text == texts.appoint_panel(TL, ["Nguyễn Văn Hùng"])
    assert [m.text for m in hoa.inbox()[seen:]] == [
        texts.role_removed_notice("leader", TL, Org.DOAN)
    ]
    assert (await hoa.send("duyet"))[-1].text == texts.NOT_A_LEADER


# --- Zalo: declining with a reason by numbers -----------------------------------------------------


async def test_a_zalo_leader_declines_with_a_reason_by_numbers(
    bot: RunningBot,
    admin: Person,
    branch: dict[str, Person],
    zperson: Callable[..., ZaloPerson],
):
    lan = branch["lan"]
    await appoint_link(admin, TAN_LAP)
    hoa = zperson("Hoa")
    await hoa.send(f"start {code_in(admin.last_text)}")
    await hoa.send("Đỗ Thị Hoa")
    await hoa.send("1")
    await hoa.send("bo qua")
    a = await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)
    b = await refer(lan, "Phạm Thị Bích", "2003", None, Org.HOI)

    replies = await hoa.send("duyet")
    assert replies[-1].text.startswith(card_start(a, "Lê Văn An", 2))
    replies = await hoa.choose(texts.BTN_DECLINE)
    question = replies[-1].text
    assert question.startswith(texts.ask(texts.decline_reason_question(a, "Lê Văn An")))
    assert numbered(question) == [texts.BTN_SKIP, texts.BTN_BACK]
    replies = await hoa.send("ngắn")
    assert replies[0].text == texts.DECLINE_REASON_LENGTH
    reason = "Chưa tham gia sinh hoạt đủ 3 tháng"
    replies = await hoa.send(reason)
    assert replies[-1].text.startswith(texts.ask(texts.confirm_decline(a, "Lê Văn An", reason)))
    assert numbered(replies[-1].text) == [texts.BTN_DECLINE_YES, texts.BTN_BACK]
    replies = await hoa.send("2")  # Quay lại
    assert replies[-1].text.startswith(card_start(a, "Lê Văn An", 2))
    assert await status_of(bot, a) == "introduced" and await audit_of(bot, a) == []

    await hoa.choose(texts.BTN_DECLINE)
    await hoa.send(reason)
    replies = await hoa.send("1")
    assert replies[0].text == texts.decided_number(a, texts.BTN_DECLINE)
    assert replies[-1].text.startswith(card_start(b, "Phạm Thị Bích", 1))
    assert await status_of(bot, a) == "declined"
    assert await audit_of(bot, a) == [("decline", reason)]
    who = await rows(bot, "SELECT actor_ref FROM referral_audit WHERE referral_id = ?", a)
    assert who == [{"actor_ref": f"zalo:{hoa.user_id}"}]
    assert lan.last_text == texts.declined_kindly(a, "Lê Văn An", reason)  # on Telegram

    # "Để sau" on the last card ends the pass; "daduyet" lists the decision.
    replies = await hoa.choose(texts.BTN_LATER)
    assert replies[-1].text == texts.review_pass_done(1, "/duyet")
    replies = await hoa.send("da duyet")
    assert texts.decided_line(a, "Lê Văn An", "declined", "26/11/2026") in replies[-1].text
