"""Zalo end to end: the real runtime with both channels, the fake Telegram and Zalo APIs over
HTTP, the real SQLite file and scheduler. People type; the bot answers in numbered lines."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import texts
from bot.channels.zalo import split_text
from bot.settings import Settings
from storage.clock import ManualClock
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
    make_settings,
    refer,
    rows,
    serving_files,
)

ZALO_ADMIN = "a0a0a0a0a0a0a0a0a0a0"
_ids = iter(range(1, 10_000))


@pytest.fixture
def settings(api: FakeBotApi, zalo: FakeZaloApi, db_path: Path) -> Settings:
    """Both channels in one process, and the HTTP server that serves files by link."""
    admins = [ADMIN_ID, f"zalo:{ZALO_ADMIN}"]
    return make_settings(api, db_path, zalo, admin_ids=admins, **serving_files())


def numbered(text: str) -> list[str]:
    """The labels of the choices of a message: its last run of lines numbered 1, 2, 3…"""
    return [label for _, label in choices_in(text)]


async def join_by_code(p: ZaloPerson, code: str, name: str, membership: str = "doan vien") -> None:
    replies = await p.send(f"start {code}")
    assert texts.invited_to("Chi đoàn thôn Tân Lập") in replies[0].text
    await p.send(name)
    await p.send(membership)  # the label typed without diacritics
    replies = await p.send("1")  # 1. Bỏ qua
    assert replies[-1].text.startswith("Đã ghi danh"), replies[-1].text


async def tan_lap_code(leader: Person) -> str:
    return code_in((await leader.send("/moi"))[-1].text)


# --- members -----------------------------------------------------------------------------------


async def test_a_newcomer_gets_the_menu_and_joins_by_numbers(
    bot: RunningBot, zalo: FakeZaloApi, zperson: Callable[..., ZaloPerson]
):
    lan = zperson("Lan")
    replies = await lan.send("Xin chào")
    assert [r.text for r in replies] == [
        "\n".join([texts.NEWCOMER_MENU, "", f"1. {texts.MENU_WORDS['start']}", texts.NUMBER_HINT])
    ]
    replies = await lan.send("1")
    assert replies[0].text == texts.WELCOME
    assert numbered(replies[1].text) == ["📂 Hội LHTN Việt Nam tỉnh Mẫu", "📂 Tỉnh đoàn Mẫu"]
    await lan.choose("Tỉnh đoàn Mẫu")
    await lan.choose("Đoàn xã An Bình")
    replies = await lan.choose("Chi đoàn thôn Tân Lập")
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_NAME)
    replies = await lan.send("Trần Thị Lan")
    assert numbered(replies[-1].text) == ["Đoàn viên", "Hội viên"]
    replies = await lan.send("5")  # not on the list: said so, and asked again
    assert replies[0].text == texts.USE_NUMBERS
    replies = await lan.send("DOAN VIEN")
    assert texts.ASK_MEMBER_PHONE_TYPED in replies[-1].text
    assert numbered(replies[-1].text) == [texts.BTN_SKIP]
    replies = await lan.send("0912 345 678")
    assert replies[-1].text == texts.registered("Trần Thị Lan", "Chi đoàn thôn Tân Lập")
    saved = await rows(bot, "SELECT channel, user_ref, full_name, phone FROM members")
    assert saved == [
        {
            "channel": "zalo",
            "user_ref": lan.user_id,
            "full_name": "Trần Thị Lan",
            "phone": "0912345678",
        }
    ]
    # Registered, any message gets the member's numbered menu.
    replies = await lan.send("hello")
    assert numbered(replies[-1].text)[:2] == [
        texts.MENU_WORDS["start"],
        texts.MENU_WORDS["gioithieu"],
    ]
    assert texts.MENU_WORDS["duyet"] not in replies[-1].text
    # Zalo has no keyboards: not one call carried a reply_markup, and every call succeeded.
    assert all("reply_markup" not in c.json for c in zalo.calls)
    assert all(c.ok for c in zalo.calls_to("sendMessage"))


async def test_commands_typed_without_slash_or_diacritics(
    bot: RunningBot, zperson: Callable[..., ZaloPerson]
):
    ted = zperson()
    for typed in ("/help", "help", "Trợ giúp", "tro giup", "MENU"):
        replies = await ted.send(typed)
        assert replies[-1].text.startswith(texts.NEWCOMER_MENU), typed
    assert (await ted.send("huy"))[-1].text == texts.NOTHING_TO_CANCEL
    assert (await ted.send("Hủy"))[-1].text == texts.NOTHING_TO_CANCEL
    assert (await ted.send("/khongco"))[-1].text == texts.UNKNOWN


async def test_a_leaders_code_works_typed_any_way_and_dies_when_renewed(
    bot: RunningBot, branch: dict[str, Person], zperson: Callable[..., ZaloPerson]
):
    leader = branch["leader"]
    code = await tan_lap_code(leader)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    stored = await rows(bot, "SELECT digest FROM invite_codes")
    assert code not in str(stored) and code.replace("-", "") not in str(stored)
    # Keyed with LINK_SECRET: trying all 2^40 codes against a copy of the database finds none.
    plain = hashlib.sha256(f"code:{code.replace('-', '')}".encode()).hexdigest()
    assert plain not in str(stored)
    minh = zperson("Minh")
    await join_by_code(minh, code.lower().replace("-", " "), "Lê Văn Minh")
    # Typed as the answer to the unit question, too.
    hoa = zperson("Hoa")
    await hoa.send("start")
    replies = await hoa.send(code.replace("-", ""))
    assert replies[0].text == texts.invited_to("Chi đoàn thôn Tân Lập")
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_NAME)
    # Renewing the link kills the code as well.
    await leader.send("/moi moi")
    renewed = (await leader.press(texts.BTN_RENEW_YES))[-1].text
    assert code_in(renewed) != code
    late = zperson("Muộn")
    replies = await late.send(f"start {code}")
    assert replies[0].text == texts.INVITE_INVALID


async def test_a_code_typed_alone_opens_the_invite(
    bot: RunningBot, branch: dict[str, Person], zperson: Callable[..., ZaloPerson]
):
    """What people copy from a poster is the code alone: it works like `start CODE`. A word
    that only looks like a code (eight letters) is an ordinary message."""
    code = await tan_lap_code(branch["leader"])
    lan = zperson("Lan")
    replies = await lan.send("hello bot")  # reads as HE110B0T: not a live code
    assert replies[-1].text.startswith(texts.NEWCOMER_MENU)
    replies = await lan.send(f"  {code.lower()} ")
    assert texts.invited_to("Chi đoàn thôn Tân Lập") in replies[0].text
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_NAME)
    await lan.send("Trần Thị Lan")
    await lan.send("doan vien")
    replies = await lan.send("1")  # 1. Bỏ qua
    assert replies[-1].text == texts.registered("Trần Thị Lan", "Chi đoàn thôn Tân Lập")
    joined = await rows(
        bot,
        """SELECT m.full_name, u.code FROM members m JOIN units u ON u.id = m.unit_id
           WHERE m.user_ref = ?""",
        lan.user_id,
    )
    assert joined == [{"full_name": "Trần Thị Lan", "code": "CD-AB-THON1"}]


async def test_a_zalo_referral_admitted_on_telegram_is_told_on_zalo(
    bot: RunningBot,
    zalo: FakeZaloApi,
    branch: dict[str, Person],
    zperson: Callable[..., ZaloPerson],
):
    leader = branch["leader"]
    minh = zperson("Minh")
    await join_by_code(minh, await tan_lap_code(leader), "Lê Văn Minh")
    replies = await minh.send("giới thiệu")
    assert replies[-1].text == texts.ask(texts.ASK_YOUTH_NAME)
    await minh.send("Phạm Thu Hà")
    replies = await minh.send("12/03/2005")
    assert numbered(replies[-1].text) == [texts.BTN_SKIP]
    replies = await minh.send("1")
    assert numbered(replies[-1].text) == [texts.BTN_ORG[Org.DOAN], texts.BTN_ORG[Org.HOI]]
    replies = await minh.send("vao doan")
    assert numbered(replies[-1].text) == [texts.BTN_CONFIRM, texts.BTN_CANCEL]
    replies = await minh.send("1")
    number = int(re.search(r"giới thiệu số (\d+)", replies[-1].text)[1])  # type: ignore[index]
    # The Telegram leader admits it with buttons; the Zalo member hears it on Zalo.
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    await leader.press(texts.BTN_TODAY)
    notice = texts.admitted_notice(number, "Phạm Thu Hà", Org.DOAN, "26/11/2026", True, 2026)
    assert minh.last_text == notice
    assert notice not in [m.text for m in leader.inbox()]
    saved = await rows(bot, "SELECT status FROM referrals WHERE id = ?", number)
    assert saved == [{"status": "admitted"}]


async def test_a_zalo_leader_appointed_by_code_reviews_by_numbers(
    bot: RunningBot,
    admin: Person,
    branch: dict[str, Person],
    zperson: Callable[..., ZaloPerson],
):
    await appoint_link(admin, TAN_LAP)
    code = code_in(admin.last_text)
    hoa = zperson("Hoa")
    replies = await hoa.send(f"start {code}")
    assert replies[0].text == texts.grant_welcome("leader", "Chi đoàn thôn Tân Lập")
    await hoa.send("Đỗ Thị Hoa")
    await hoa.send("1")  # Đoàn viên
    replies = await hoa.send("bo qua")
    assert replies[-1].text == texts.grant_received("leader", "Chi đoàn thôn Tân Lập")
    assert "Đỗ Thị Hoa" in admin.last_text  # the admin is told who took it, on Telegram
    # A second use of the one-time code is refused.
    other = zperson("Khác")
    replies = await other.send(f"start {code}")
    assert replies[0].text == texts.GRANT_PROBLEM["grant_used"]

    number = await refer(branch["lan"], "Vũ Minh Quân", "2004", None, Org.DOAN)
    replies = await hoa.send("duyet")
    assert numbered(replies[-1].text) == [texts.BTN_ADMIT, texts.BTN_DECLINE, texts.BTN_LATER]
    replies = await hoa.choose(texts.BTN_ADMIT)
    assert numbered(replies[-1].text) == [texts.BTN_TODAY]
    replies = await hoa.send("1")
    assert replies[0].text == texts.decided_number(number, texts.BTN_ADMIT)
    saved = await rows(bot, "SELECT status, admitted_on FROM referrals WHERE id = ?", number)
    assert saved == [{"status": "admitted", "admitted_on": "2026-11-26"}]
    assert branch["lan"].last_text.startswith("Tin vui!")


# --- admins: pictures and files by link ---------------------------------------------------------


async def test_a_zalo_admin_gets_the_chart_as_a_photo_and_the_report_as_a_link(
    bot: RunningBot, zalo: FakeZaloApi, zperson: Callable[..., ZaloPerson]
):
    boss = zperson("Sếp", user_id=ZALO_ADMIN)
    replies = await boss.send("thống kê TD-MAU")
    assert "Tỉnh đoàn Mẫu" in replies[0].text
    assert texts.BTN_EXPORT in numbered(replies[0].text)
    photo = replies[-1]
    assert photo.kind == "photo" and photo.photo_bytes is not None
    assert photo.photo_bytes.startswith(b"\x89PNG")  # Zalo fetched it from our server
    assert photo.caption and "Tỉnh đoàn Mẫu" in photo.caption

    replies = await boss.choose(texts.BTN_EXPORT)
    assert replies[-1].text == texts.HEAVY_STARTED
    await bot.background()
    url = re.search(r"https?://\S+", boss.last_text)[0]  # type: ignore[index]
    async with httpx.AsyncClient() as client:
        got = await client.get(url)
        assert got.status_code == 200 and got.content.startswith(b"PK")  # an XLSX (zip)
        _file_id, expires, signature, _name = url.split("/files/")[1].split("/")
        forged = "0" * len(signature) if signature[0] != "0" else "1" * len(signature)
        tampered = url.replace(f"/{signature}/", f"/{forged}/")
        assert (await client.get(tampered)).status_code == 403
        longer = url.replace(f"/{expires}/", f"/{int(expires) + 3600}/")
        assert (await client.get(longer)).status_code == 403
        shelf = bot.runtime.web.shelf
        shelf.now = lambda: time.time() + 31 * 60
        assert (await client.get(url)).status_code == 404


async def test_zalo_alone_without_a_public_url_says_where_files_are(
    zalo: FakeZaloApi, db_path: Path, sample_units: None, clock: ManualClock
):
    settings = make_settings(None, db_path, zalo, admin_ids=[f"zalo:{ZALO_ADMIN}"])
    running = RunningBot(settings, clock)
    await running.start()
    try:
        boss = ZaloPerson(zalo, running, ZALO_ADMIN, "Sếp")
        await boss.send("/xuat")
        await boss.choose(texts.BTN_BOTH_ORGS)  # the admin holds both roots: asked which
        await running.background()
        assert boss.last_text == texts.FILE_NEEDS_SERVER
        assert zalo.calls_to("sendPhoto") == []
    finally:
        await running.stop()
    assert running.errors == []


# --- delivery: redelivery, media, long text, reminders ---------------------------------------


async def test_a_redelivered_update_is_acted_on_once(
    bot: RunningBot, zalo: FakeZaloApi, zperson: Callable[..., ZaloPerson]
):
    ted = zperson()
    await ted.send("start")
    await ted.choose("Tỉnh đoàn Mẫu")
    await ted.choose("Đoàn xã An Bình")
    message_id = zalo.inject_text(ted.user_id, "2")  # 📂 … no: a leaf, Chi đoàn thôn Phú Hòa?
    await bot.zalo_handled(message_id)
    before = len(ted.inbox())
    state = await rows(bot, "SELECT journey, step, draft FROM conversations")
    zalo.redeliver(message_id)
    await bot.zalo_handled(message_id, times=2)
    assert len(ted.inbox()) == before
    assert await rows(bot, "SELECT journey, step, draft FROM conversations") == state
    assert len(await rows(bot, "SELECT * FROM seen_updates WHERE update_ref = ?", message_id)) == 1


@pytest.mark.parametrize(
    ("event", "fields"),
    [
        ("message.image.received", {"photo_url": "https://example.invalid/a.jpg"}),
        ("message.sticker.received", {"sticker": "0e078a2fb66a5f34067b"}),
        ("message.voice.received", {}),
        ("message.unsupported.received", {}),
    ],
)
async def test_pictures_stickers_and_voice_get_a_short_answer(
    bot: RunningBot, zalo: FakeZaloApi, event: str, fields: dict[str, Any]
):
    user = "b1b1b1b1b1b1b1b1b1b1"
    message_id = zalo.inject_event(event, user, **fields)
    await bot.zalo_handled(message_id)
    assert zalo.texts(user) == [texts.ONLY_TEXT]


def test_long_text_is_split_at_paragraphs_within_2000_characters():
    paragraphs = [("Đoàn viên " * 30).strip() for _ in range(12)]  # ~300 characters each
    pieces = split_text("\n\n".join(paragraphs))
    assert all(len(p) <= 2000 for p in pieces) and len(pieces) == 2
    assert "\n\n".join(pieces) == "\n\n".join(paragraphs)  # cut only between paragraphs
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


async def test_a_nudge_reaches_zalo_members_through_zalo(
    bot: RunningBot,
    zalo: FakeZaloApi,
    branch: dict[str, Person],
    zperson: Callable[..., ZaloPerson],
):
    leader = branch["leader"]
    minh = zperson("Minh")
    await join_by_code(minh, await tan_lap_code(leader), "Lê Văn Minh")
    replies = await leader.send("/nhacnho")
    assert replies[-1].text == texts.nudging(3)  # Lan and Tú on Telegram, Minh on Zalo
    await bot.idle()
    assert minh.last_text == texts.MANUAL_NUDGE
    deliveries = await rows(bot, "SELECT channel, status FROM reminder_deliveries")
    assert sorted((d["channel"], d["status"]) for d in deliveries) == [
        ("telegram", "sent"),
        ("telegram", "sent"),
        ("zalo", "sent"),
    ]


async def test_zalo_quota_spent_fails_the_delivery_once_and_says_so_once(
    bot: RunningBot,
    zalo: FakeZaloApi,
    branch: dict[str, Person],
    zperson: Callable[..., ZaloPerson],
    caplog: pytest.LogCaptureFixture,
):
    leader = branch["leader"]
    people = [zperson(f"Người {n}") for n in range(3)]
    code = await tan_lap_code(leader)
    for n, p in enumerate(people):
        await join_by_code(p, code, f"Nguyễn Văn {'ABC'[n]}")
    zalo.quota(len(zalo.sent))  # the month's messages are spent
    await leader.send("/nhacnho")
    await bot.idle()
    deliveries = await rows(
        bot, "SELECT status, attempts FROM reminder_deliveries WHERE channel = 'zalo'"
    )
    assert [d["status"] for d in deliveries] == ["failed"] * 3
    quota_lines = [r for r in caplog.records if "quota" in r.getMessage()]
    assert len(quota_lines) == 1 and quota_lines[0].levelno == logging.ERROR
    # Telegram went on regardless, and the leader hears the count.
    assert branch["lan"].last_text == texts.MANUAL_NUDGE
    assert leader.last_text == texts.nudged(2, 0, 3)


async def test_an_answer_that_starts_like_a_command_is_an_answer(
    bot: RunningBot, zperson: Callable[..., ZaloPerson]
):
    ted = zperson()
    await ted.send("start")
    replies = await ted.send("Mới chuyển về thôn")  # "mới" is /moi's name: here, a search
    assert replies[0].text == texts.SEARCH_NONE
    replies = await ted.send("hủy")  # the whole line: the way out
    assert replies[-1].text == texts.CANCELLED
