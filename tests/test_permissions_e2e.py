"""Permissions end to end: forged and replayed buttons, commands without the role, expired and
reused links, a removed leader, one's own referral, other members' youths, masked phones.

Every refusal is checked three ways: the exact answer, no new message to anybody (no sendMessage,
no edit, no delete: nothing leaks), and a dump of every row of every table that does not move.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bot import texts
from handlers import flow, picker
from storage.clock import ManualClock
from storage.periods import expected_share_on
from storage.roles import GRANT_TTL
from storage.validation import Org
from tests.fakebotapi import FakeBotApi, SentMessage
from tests.harness import (
    ADMIN_HELP,
    LEADER_HELP,
    MEMBER_HELP,
    TAN_LAP,
    Person,
    RunningBot,
    appoint_link,
    code_in,
    decline,
    payload_in,
    refer,
    rows,
)

HOA_LAC = ["Tỉnh đoàn Mẫu", "Đoàn phường Hòa Lạc"]
KP3 = [*HOA_LAC, "Chi đoàn khu phố 3"]
ASK_ROOT = texts.ask(f"{texts.CHOOSE_ROOT}\n{texts.SEARCH_HINT}")
BIG = "9" * 30  # all digits, far beyond SQLite's 64-bit INTEGER
PHONE_A, PHONE_C = "0912345678", "0987654321"

# --- helpers ---------------------------------------------------------------------------------

BOOKKEEPING = {"seen_updates"}


async def snapshot(bot: RunningBot) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema version): the whole database, comparable."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    async with bot.app.bot_data["deps"].db.read() as conn:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        async with conn.execute(sql) as cur:
            tables = [row[0] for row in await cur.fetchall()]
        # The ledger of handled updates grows with every update, refused or not: bookkeeping
        # of delivery, not state anybody could change.
        for table in (t for t in tables if t not in BOOKKEEPING):
            async with conn.execute(f'SELECT * FROM "{table}"') as cur:
                dump[table] = sorted((tuple(row) for row in await cur.fetchall()), key=repr)
        async with conn.execute("PRAGMA user_version") as cur:
            version = await cur.fetchone()
        dump["PRAGMA user_version"] = [tuple(version or ())]
    assert {"members", "roles", "referrals", "grants", "conversations"} <= dump.keys()
    return dump


def outgoing(api: FakeBotApi) -> list[tuple[str, Any]]:
    """Every call that shows something to anybody: sends, edits, deletes (not answers)."""
    quiet = {"getupdates", "answercallbackquery", "getme", "setmycommands", "deletewebhook"}
    return [(c.method, c.params) for c in api.calls if c.method.lower() not in quiet]


def shown_data(p: Person) -> set[str]:
    """callback_data of every button the bot ever showed this person, edited away or not."""
    found: set[str] = set()
    for message in p.api.messages(p.chat_id, include_deleted=True):
        for markup in [message.reply_markup, *(old for _, old in message.history)]:
            for row in (markup or {}).get("inline_keyboard") or []:
                found.update(b["callback_data"] for b in row if b.get("callback_data"))
    return found


def everything_said_to(p: Person) -> str:
    """All text the person was ever shown, including versions later edited away."""
    parts: list[str] = []
    for message in p.api.messages(p.chat_id, include_deleted=True):
        parts += [message.text or "", *(old or "" for old, _ in message.history)]
    return "\n".join(parts)


def expected_answer(data: str) -> str:
    """Journey buttons outside the user's current step are stale; every other one is refused."""
    return texts.STALE_BUTTON if data.split(":", 1)[0] in flow.JOURNEYS else texts.NO_PERMISSION


async def refused(
    api: FakeBotApi,
    bot: RunningBot,
    who: Person,
    data: str,
    answer: str = texts.NO_PERMISSION,
    *,
    message_id: int | None = None,
) -> None:
    """`who` presses `data`: the exact answer, no message to anybody, not one row changed."""
    before, calls = await snapshot(bot), len(outgoing(api))
    if message_id is None:
        inbox = who.inbox()
        message_id = inbox[-1].message_id if inbox else 1
    replies = await who.press_data(message_id, data)
    errors = [repr(e) for e in bot.errors]
    bot.errors.clear()  # reported here, not as a teardown error
    assert errors == [], (data, errors)
    assert who.last_answer is not None, data
    assert who.last_answer.get("text") == answer, (data, who.last_answer)
    assert not who.last_answer.get("url"), data
    assert [r.text for r in replies] == [], data
    assert outgoing(api)[calls:] == [], data
    assert await snapshot(bot) == before, data


async def said(api: FakeBotApi, bot: RunningBot, who: Person, command: str, expected: str) -> None:
    """`who` types a command: exactly one reply, to them only, and not one row changed."""
    before, calls = await snapshot(bot), len(outgoing(api))
    replies = await who.send(command)
    assert [r.text for r in replies] == [expected], command
    sent = outgoing(api)[calls:]
    assert [(m, p.get("chat_id")) for m, p in sent] == [("sendMessage", who.chat_id)], command
    assert await snapshot(bot) == before, command


async def take_link(p: Person, payload: str, name: str) -> list[SentMessage]:
    """An unregistered person opens a one-time link and registers through it."""
    first = await p.send(f"/start {payload}")
    await p.send(name)
    await p.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    return [*first, *await p.send(texts.BTN_SKIP)]


async def remove_leader(admin: Person, path: list[str], name: str) -> None:
    await admin.send("/bonhiem")
    for label in path:
        await admin.press(label)
    await admin.press(texts.BTN_CHOOSE_HERE)
    await admin.press(texts.remove_leader_button(name))
    await admin.press(texts.BTN_REMOVE_YES)
    assert admin.last_answer is not None
    removed = texts.role_removed(name, "leader", "Chi đoàn thôn Tân Lập", Org.DOAN)
    assert admin.last_answer.get("text") == removed


async def role_rows(bot: RunningBot) -> list[tuple[str, str, str]]:
    got = await rows(
        bot,
        "SELECT m.full_name, u.code, r.role FROM roles r JOIN members m ON m.id = r.member_id "
        "JOIN units u ON u.id = r.unit_id ORDER BY m.full_name, u.code",
    )
    return [(g["full_name"], g["code"], g["role"]) for g in got]


@dataclass
class World:
    api: FakeBotApi
    bot: RunningBot
    admin: Person
    leader: Person  # Nguyễn Văn Hùng, leader of Chi đoàn thôn Tân Lập
    lan: Person  # member of Tân Lập
    tu: Person  # member of Tân Lập
    khoa: Person  # leader of Chi đoàn khu phố 3 (another branch, another xã)
    stranger: Person  # never registered
    unit: dict[str, int]
    member: dict[str, int]
    a: int  # Lan's, pending, phone PHONE_A
    b: int  # Lan's, declined by the leader
    c: int  # Tú's, pending, phone PHONE_C


@pytest.fixture
async def world(
    api: FakeBotApi,
    bot: RunningBot,
    admin: Person,
    branch: dict[str, Person],
    person: Callable[..., Person],
) -> World:
    leader, lan, tu = branch["leader"], branch["lan"], branch["tu"]
    khoa = person("Khoa")
    replies = await take_link(khoa, await appoint_link(admin, KP3), "Lý Văn Khoa")
    assert replies[-1].text == texts.grant_received("leader", "Chi đoàn khu phố 3")

    b = await refer(lan, "Phạm Thị Bích", "2003", None, Org.HOI)
    await leader.send("/duyet")
    assert (await decline(leader))[-1].text == texts.NO_PENDING
    a = await refer(lan, "Lê Văn An", "12/05/2005", PHONE_A, Org.DOAN)
    c = await refer(tu, "Đỗ Minh Châu", "2006", "+84 987 654 321", Org.DOAN)

    unit = {r["code"]: r["id"] for r in await rows(bot, "SELECT id, code FROM units")}
    member = {r["full_name"]: r["id"] for r in await rows(bot, "SELECT id, full_name FROM members")}
    assert await role_rows(bot) == [
        ("Lý Văn Khoa", "CD-HL-KP3", "leader"),
        ("Nguyễn Văn Hùng", "CD-AB-THON1", "leader"),
    ]
    stranger = person("Lạ")
    return World(api, bot, admin, leader, lan, tu, khoa, stranger, unit, member, a, b, c)


def forged_presses(w: World) -> list[tuple[str, str]]:
    """Edited callback_data: other ids, other ops, junk. (data, the exact answer)."""
    tl, td, xab = w.unit["CD-AB-THON1"], w.unit["TD-MAU"], w.unit["X-AN-BINH"]
    hung = w.member["Nguyễn Văn Hùng"]
    a, b, c = w.a, w.b, w.c
    no = [
        # review cards
        *(f"rv:{op}:{ref}" for op in "adl" for ref in (a, b, c)),
        "rv:a:999999",
        "rv:a:0",
        "rv:a:-1",
        "rv:a:abc",
        f"rv:x:{a}",
        f"rv::{a}",
        f"rv:A:{a}",
        f"rv:a:{a}:0",
        f"rv:a: {a}",
        f"rv:a:{a} ",
        "rv:",
        "rv:a:" + "x" * 59,
        # a queue limited to a unit, and the list of decided referrals
        f"rv:u:{tl}",
        f"rv:u:{td}",
        f"rv:l:{a}:{tl}",
        f"rv:a:{a}:{td}",
        f"rv:u:{tl}:0",
        f"dd:m:0:{tl}",
        f"dd:u:{tl}",
        f"dd:u:{td}",
        "dd:m:99999",
        "dd:x:0",
        # the unit picker: other purposes, other units, unknown ops, broken shapes
        *(f"pk:{code}:s:{tl}:0" for code in sorted(picker.PURPOSES)),
        *(f"pk:{code}:o:{td}:0" for code in sorted(picker.PURPOSES)),
        f"pk:dv:o:{xab}:1",
        f"pk:zz:s:{tl}:0",
        f"pk:dv:x:{tl}:0",
        f"pk:dv::{tl}:0",
        "pk:dv:s:abc:0",
        f"pk:dv:s:-{tl}:0",
        f"pk:dv:s:{tl}",
        f"pk:dv:s:{tl}:0:0",
        "pk:dv:s:999999:0",
        "pk:" + "9" * 61,
        # /donvi drill-down and name pages
        f"dv:u:{tl}:0",
        f"dv:n:{tl}:0",
        f"dv:m:{tl}:1",
        f"dv:u:{td}:0",
        f"dv:n:{xab}:0",
        f"dv:q:{tl}:0",
        f"dv:n:{tl}:x",
        f"dv:n:{tl}",
        "dv:u:999999:0",
        "dv:" + ":" * 61,
        # the appoint panel
        f"ap:l:{tl}:0",
        f"ap:a:{tl}:0",
        f"ap:a:{td}:0",
        f"ap:r:{tl}:{hung}",
        f"ap:r:{td}:{hung}",
        f"ap:x:{tl}:0",
        f"ap:r:{tl}:abc",
        f"ap:y:{tl}:{hung}",
        f"ap:Y:{tl}:{hung}",
        f"ap:b:{tl}:0",
        f"ap:l:{tl}",
        "ap:l:999999:0",
        # invite renewal
        f"iv:n:{tl}",
        f"iv:n:{td}",
        "iv:n:abc",
        "iv:n:",
        f"iv:n:{tl}:0",
        "iv:n:999999",
        f"iv:y:{tl}",
        f"iv:k:{tl}",
        f"iv:y:{td}",
        # withdrawing someone else's referral (all of them are Lan's)
        *(f"mn:{op}:{ref}" for op in "wWk" for ref in (a, b)),
        "mn:W:999999",
        "mn:W:abc",
    ]
    stale = [
        "adm:date:today",
        "adm:date:26/11/2026",
        "tgt:org:doan",
        "ref:ok:yes",
        f"reg:unit:s{tl}",
        f"reg:unit:o{td}.0",
        "reo:reason:x",
        "zz:1",
        "rv",
        "x" * 64,
    ]
    return [(d, texts.NO_PERMISSION) for d in no] + [(d, texts.STALE_BUTTON) for d in stale]


# --- forged and replayed buttons -------------------------------------------------------------


async def test_replayed_and_forged_buttons_do_nothing(world: World):
    """A member, a stranger and another branch's leader replay and edit real buttons."""
    w = world
    # The leader, the admin and Lan use the bot, so there are real buttons to replay.
    await w.leader.send("/duyet")
    await w.leader.send("/donvi")
    await w.leader.send("/chitieu")
    await w.leader.send("/huy")
    await w.admin.send("/donvi")
    for label in ["Tỉnh đoàn Mẫu", "Đoàn xã An Bình", texts.BTN_CHOOSE_HERE]:
        await w.admin.press(label)
    await w.admin.send("/bonhiem")
    for label in [*TAN_LAP, texts.BTN_CHOOSE_HERE]:
        await w.admin.press(label)
    await w.admin.send("/moi")
    await w.lan.send("/cuatoi")
    real = shown_data(w.leader) | shown_data(w.admin) | shown_data(w.lan)
    tl, hung = w.unit["CD-AB-THON1"], w.member["Nguyễn Văn Hùng"]
    for must in [
        f"rv:a:{w.a}",
        f"rv:d:{w.a}",
        f"rv:l:{w.a}",
        f"rv:d:{w.b}",
        f"pk:dv:o:{w.unit['TD-MAU']}:0",
        f"pk:dv:s:{w.unit['X-AN-BINH']}:0",
        f"pk:bn:s:{tl}:0",
        f"pk:bn:o:{w.unit['X-AN-BINH']}:0",
        f"pk:mi:o:{w.unit['TD-MAU']}:0",
        f"dv:u:{tl}:0",
        f"dv:n:{tl}:0",
        f"dv:m:{tl}:0",
        f"ap:l:{tl}:0",
        f"ap:a:{tl}:0",
        f"ap:r:{tl}:{hung}",
        f"iv:n:{tl}",
        f"mn:w:{w.a}",
    ]:
        assert must in real, (must, sorted(real))
    # Journey buttons carry the journey's nonce: tgt:org:<nonce>:doan
    assert any(re.fullmatch(r"tgt:org:[0-9a-f]{6}:doan", data) for data in real), sorted(real)

    presses = [(d, expected_answer(d)) for d in sorted(real)] + forged_presses(w)
    assert len(presses) > 120
    assert {"bn", "ct", "dv", "mi", "mn"} <= picker.PURPOSES.keys()
    for who in (w.tu, w.stranger, w.khoa):
        for data, answer in presses:
            await refused(w.api, w.bot, who, data, answer)
    assert w.stranger.inbox() == []  # not one message, ever

    # The owners' own buttons still work afterwards: nothing was used up or broken.
    card, data = w.leader.find_button(texts.BTN_LATER)
    assert data == f"rv:l:{w.a}"
    replies = await w.leader.press_data(card.message_id, data)
    assert replies[-1].text.startswith(f"Chờ xét: 2\nSố {w.c}: Đỗ Minh Châu")


# --- commands without the role ---------------------------------------------------------------


async def test_leader_and_admin_commands_refused_without_the_role(world: World):
    w = world
    for who in (w.tu, w.stranger):
        for command, expected in [
            ("/duyet", texts.NOT_A_LEADER),
            ("/review", texts.NOT_A_LEADER),
            ("/donvi", texts.NOT_A_LEADER),
            ("/chitieu", texts.NOT_A_LEADER),
            ("/moi", texts.NOT_A_LEADER),
            ("/moi moi", texts.NOT_A_LEADER),
            ("/bonhiem", texts.NOT_AN_ADMIN),
            ("/nhacnho", texts.NOT_A_LEADER),
            ("/lichnhac", texts.NOT_A_LEADER),
            (f"/molai {w.b}", texts.NOT_A_LEADER),
            (f"/molai #{w.b}", texts.NOT_A_LEADER),
            (f"/molai {w.a}", texts.NOT_A_LEADER),  # pending: refused before saying so
            ("/molai 999999", texts.NOT_A_LEADER),  # does not exist: the same answer
            ("/molai", texts.REOPEN_USAGE),
        ]:
            await said(w.api, w.bot, who, command, expected)
        assert (await who.send("/help"))[-1].text == MEMBER_HELP

    # A leader of another branch, in another xã: their own unit only.
    k = w.khoa
    # Another unit's number and a number nobody has get the same answer.
    await said(w.api, w.bot, k, f"/molai {w.b}", texts.no_referral_here(w.b))
    await said(w.api, w.bot, k, "/molai 999999", texts.no_referral_here(999999))
    await said(w.api, w.bot, k, "/bonhiem", texts.NOT_AN_ADMIN)
    await said(w.api, w.bot, k, "/duyet", texts.NO_PENDING)  # Tân Lập has 2 waiting
    replies = await k.send("/donvi")
    share = expected_share_on(w.bot.app.bot_data["deps"].today())
    assert replies[-1].text == texts.unit_picture(
        "Chi đoàn khu phố 3", 2026, 1, 0, 0, 0, 0, 0, 1, share
    )
    for label, expected in [
        (texts.BTN_NOT_MET, "Chi đoàn khu phố 3\nChưa đạt 1+1 (1): Lý Văn Khoa"),
        (texts.BTN_MET, "Chi đoàn khu phố 3\nĐã đạt 1+1 (0): không có"),
    ]:
        assert (await k.press(label))[-1].text == expected
    said_to_khoa = everything_said_to(k)
    for secret in ["Tân Lập", "Trần Thị Lan", "Mai Văn Tú", "Lê Văn An", "Đỗ Minh Châu", "Bích"]:
        assert secret not in said_to_khoa
    # The leader of Tân Lập is no admin either.
    await said(w.api, w.bot, w.leader, "/bonhiem", texts.NOT_AN_ADMIN)


# --- a removed leader ------------------------------------------------------------------------


async def test_a_removed_leaders_buttons_and_journey_stop_working_at_once(world: World):
    w = world
    leader = w.leader
    card = (await leader.send("/duyet"))[-1]
    picture = (await leader.send("/donvi"))[-1]
    invite = (await leader.send("/moi"))[-1]
    held = [
        (card, card.button_data(texts.BTN_ADMIT)),
        (card, card.button_data(texts.BTN_DECLINE)),
        (card, card.button_data(texts.BTN_LATER)),
        (picture, picture.button_data(texts.BTN_NOT_MET)),
        (picture, picture.button_data(texts.BTN_MET)),
        (invite, invite.button_data(texts.BTN_RENEW_LINK)),
    ]
    # The leader is half-way through admitting Lê Văn An when the admin removes them.
    await leader.press_data(card.message_id, f"rv:a:{w.a}")
    assert leader.last_text == texts.ask(texts.ask_admission_date(w.a, "Lê Văn An"))
    await remove_leader(w.admin, TAN_LAP, "Nguyễn Văn Hùng")
    assert await role_rows(w.bot) == [("Lý Văn Khoa", "CD-HL-KP3", "leader")]
    before = await snapshot(w.bot)
    lan_seen = len(w.lan.inbox())

    replies = await leader.send("26/11/2026")
    assert [r.text for r in replies] == [texts.NO_PERMISSION]
    after = await snapshot(w.bot)
    assert after["conversations"] == []
    assert {k: v for k, v in after.items() if k != "conversations"} == {
        k: v for k, v in before.items() if k != "conversations"
    }
    assert len(w.lan.inbox()) == lan_seen

    for message, data in held:
        edits = leader.message(message.message_id).edit_count
        await refused(w.api, w.bot, leader, data, message_id=message.message_id)
        assert leader.message(message.message_id).edit_count == edits
    for command, expected in [
        ("/duyet", texts.NOT_A_LEADER),
        ("/donvi", texts.NOT_A_LEADER),
        ("/moi", texts.NOT_A_LEADER),
        ("/chitieu", texts.NOT_A_LEADER),
        (f"/molai {w.b}", texts.NOT_A_LEADER),
    ]:
        await said(w.api, w.bot, leader, command, expected)
    assert LEADER_HELP not in (await leader.send("/help"))[-1].text

    # The admin's own remove button, replayed: the leader is already gone.
    data = f"ap:r:{w.unit['CD-AB-THON1']}:{w.member['Nguyễn Văn Hùng']}"
    assert data in shown_data(w.admin)
    await refused(w.api, w.bot, w.admin, data, message_id=w.admin.last.message_id)


async def test_a_leader_removed_before_pressing_today(
    bot: RunningBot, branch: dict[str, Person], admin: Person
):
    leader = branch["leader"]
    number = await refer(branch["lan"], "Lê Văn An", "2005", None, Org.DOAN)
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    await remove_leader(admin, TAN_LAP, "Nguyễn Văn Hùng")
    before = await snapshot(bot)
    message, data = leader.find_button(texts.BTN_TODAY)
    replies = await leader.press_data(message.message_id, data)
    errors = [repr(e) for e in bot.errors]
    bot.errors.clear()
    after = await snapshot(bot)
    assert after["referrals"] == before["referrals"]  # this much holds today
    assert await rows(bot, "SELECT status FROM referrals WHERE id = ?", number) == [
        {"status": "introduced"}
    ]
    assert errors == []
    assert texts.ERROR not in [r.text for r in replies]
    answer = (leader.last_answer or {}).get("text")
    assert texts.NO_PERMISSION in [answer, *(r.text for r in replies)]
    assert after["conversations"] == []


async def test_a_leader_removed_while_typing_a_target(
    bot: RunningBot, branch: dict[str, Person], admin: Person
):
    leader = branch["leader"]
    await leader.send("/chitieu")
    await leader.press(texts.ORG_SHORT[Org.DOAN])
    await remove_leader(admin, TAN_LAP, "Nguyễn Văn Hùng")
    replies = await leader.send("5")
    assert [r.text for r in replies] == [texts.NO_PERMISSION]
    assert await rows(bot, "SELECT * FROM targets") == []
    assert await rows(bot, "SELECT * FROM conversations") == []


async def test_a_leader_removed_while_typing_a_reopen_reason(
    bot: RunningBot, branch: dict[str, Person], admin: Person
):
    leader = branch["leader"]
    number = await refer(branch["lan"], "Phạm Thị Bích", "2003", None, Org.HOI)
    await leader.send("/duyet")
    await decline(leader)
    assert (await leader.send(f"/molai {number}"))[-1].text == texts.ask(texts.ASK_REOPEN_REASON)
    await remove_leader(admin, TAN_LAP, "Nguyễn Văn Hùng")
    replies = await leader.send("Bấm nhầm nút, xét lại")
    assert [r.text for r in replies] == [texts.NO_PERMISSION]
    got = await rows(bot, "SELECT status FROM referrals WHERE id = ?", number)
    assert got == [{"status": "declined"}]
    audit = await rows(bot, "SELECT action FROM referral_audit WHERE referral_id = ?", number)
    assert audit == [{"action": "decline"}]
    assert await rows(bot, "SELECT * FROM conversations") == []


# --- one's own referral ----------------------------------------------------------------------


async def test_a_leader_never_decides_their_own_referral(
    api: FakeBotApi, bot: RunningBot, branch: dict[str, Person], admin: Person
):
    leader, lan = branch["leader"], branch["lan"]
    own = await refer(leader, "Hoàng Văn Minh", "2004", "0933222111", Org.DOAN)
    await said(api, bot, leader, "/duyet", texts.NO_PENDING)
    for op in "adl":
        await refused(api, bot, leader, f"rv:{op}:{own}")
    # With someone else's referral waiting, the count and the queue still skip their own.
    other = await refer(lan, "Lê Văn An", "12/05/2005", None, Org.DOAN)
    replies = await leader.send("/duyet")
    assert replies[-1].text.startswith(f"Chờ xét: 1\nSố {other}: Lê Văn An")
    assert (await leader.press(texts.BTN_LATER))[-1].text == texts.review_pass_done(1, "/duyet")
    card = replies[-1]
    for op in "adl":
        await refused(api, bot, leader, f"rv:{op}:{own}", message_id=card.message_id)
    assert await rows(bot, "SELECT status FROM referrals WHERE id = ?", own) == [
        {"status": "introduced"}
    ]
    # Someone above can decide it: the admin's queue has it.
    replies = await admin.send("/duyet")
    assert replies[-1].text.startswith(f"Chờ xét: 2\nSố {own}: Hoàng Văn Minh")
    assert replies[-1].text.endswith("\nĐiện thoại: 093****111")


async def test_a_leader_cannot_reopen_their_own_referral(
    bot: RunningBot, branch: dict[str, Person], admin: Person
):
    leader = branch["leader"]
    own = await refer(leader, "Hoàng Văn Minh", "2004", None, Org.DOAN)
    await admin.send("/duyet")
    await decline(admin)
    assert await rows(bot, "SELECT status FROM referrals WHERE id = ?", own) == [
        {"status": "declined"}
    ]
    replies = await leader.send(f"/molai {own}")
    await leader.send("/huy")
    assert [r.text for r in replies] == [texts.NO_PERMISSION]


# --- other members' youths -------------------------------------------------------------------


async def test_members_see_and_touch_only_their_own_youths(world: World):
    w = world
    lan_view = (await w.lan.send("/cuatoi"))[-1]
    assert f"Số {w.a}: Lê Văn An" in lan_view.text and f"Số {w.b}: Phạm Thị Bích" in lan_view.text
    assert "Đỗ Minh Châu" not in lan_view.text
    assert lan_view.buttons() == [
        [
            (texts.withdraw_button(w.a), f"mn:w:{w.a}"),
            (texts.correct_button(w.a), f"mn:e:{w.a}"),
        ]
    ]
    tu_view = (await w.tu.send("/cuatoi"))[-1]
    assert f"Số {w.c}: Đỗ Minh Châu" in tu_view.text
    for secret in ["Lê Văn An", "Phạm Thị Bích", PHONE_A]:
        assert secret not in everything_said_to(w.tu)
    assert tu_view.buttons() == [
        [
            (texts.withdraw_button(w.c), f"mn:w:{w.c}"),
            (texts.correct_button(w.c), f"mn:e:{w.c}"),
        ]
    ]

    # Each edits the button of a message the bot really sent them.
    tl = w.unit["CD-AB-THON1"]
    for op in "wWke":  # withdraw, confirm, keep, correct (/sua)
        await refused(w.api, w.bot, w.tu, f"mn:{op}:{w.a}", message_id=tu_view.message_id)
        await refused(w.api, w.bot, w.lan, f"mn:{op}:{w.c}", message_id=lan_view.message_id)
    for data in [f"rv:a:{w.a}", f"rv:d:{w.c}", f"dv:n:{tl}:0", f"iv:n:{tl}"]:
        await refused(w.api, w.bot, w.tu, data, message_id=tu_view.message_id)
    assert w.tu.message(tu_view.message_id).edit_count == 0
    # A leader is no owner either.
    await refused(w.api, w.bot, w.leader, f"mn:W:{w.a}")
    await refused(w.api, w.bot, w.admin, f"mn:W:{w.a}")

    # The owner's real button asks first, and only the owner's "Rút" withdraws.
    replies = await w.lan.press(texts.withdraw_button(w.a))
    assert replies[-1].text == texts.confirm_withdraw(w.a, "Lê Văn An")
    confirm, data = w.lan.find_button(texts.BTN_WITHDRAW_YES)
    assert data == f"mn:W:{w.a}"
    await refused(w.api, w.bot, w.tu, data)
    assert (await rows(w.bot, "SELECT status FROM referrals WHERE id = ?", w.a)) == [
        {"status": "introduced"}
    ]
    await w.lan.press_data(confirm.message_id, data)
    assert w.lan.message(confirm.message_id).text == texts.WITHDRAWN
    assert (await rows(w.bot, "SELECT status FROM referrals WHERE id = ?", w.a)) == [
        {"status": "withdrawn"}
    ]


@pytest.mark.parametrize("op", ["", "Wk"])
async def test_an_edited_withdraw_op_is_refused(
    api: FakeBotApi, bot: RunningBot, branch: dict[str, Person], op: str
):
    lan = branch["lan"]
    number = await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)
    await refused(api, bot, lan, f"mn:{op}:{number}")


async def test_an_edited_invite_op_is_refused(api: FakeBotApi, bot: RunningBot, admin: Person):
    await refused(api, bot, admin, "iv:x:1")


# --- buttons and commands whose numbers are not plain ASCII digits ---------------------------


def _crash(where: str, what: str) -> Any:
    """Once a bug (fixed since): the place and what went wrong, kept for the record."""
    return ()


_SUPER = "str.isdigit() accepts '²', then int('²') raises ValueError: texts.ERROR, not refused"
_OVER = "an all-digit id beyond 64 bits reaches SQLite: OverflowError, texts.ERROR, not refused"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("rv:a:²", marks=_crash("handlers/review.py:98", _SUPER), id="rv-sup"),
        pytest.param("pk:dv:s:²:0", marks=_crash("handlers/picker.py:112", _SUPER), id="pk-sup"),
        pytest.param("dv:u:²:0", marks=_crash("handlers/unit.py:93", _SUPER), id="dv-sup"),
        pytest.param("ap:l:²:0", marks=_crash("handlers/appoint.py:61", _SUPER), id="ap-sup"),
        pytest.param("iv:n:²", marks=_crash("handlers/invite.py:59", _SUPER), id="iv-sup"),
        pytest.param("mn:w:²", marks=_crash("handlers/mine.py:47", _SUPER), id="mn-sup"),
        pytest.param(f"rv:a:{BIG}", marks=_crash("handlers/review.py:98", _OVER), id="rv-big"),
        pytest.param(
            f"pk:dv:s:{BIG}:0", marks=_crash("handlers/picker.py:112", _OVER), id="pk-big"
        ),
        pytest.param(f"dv:u:{BIG}:0", marks=_crash("handlers/unit.py:93", _OVER), id="dv-big"),
        pytest.param(f"ap:l:{BIG}:0", marks=_crash("handlers/appoint.py:61", _OVER), id="ap-big"),
        pytest.param(f"iv:n:{BIG}", marks=_crash("handlers/invite.py:59", _OVER), id="iv-big"),
        pytest.param(f"mn:w:{BIG}", marks=_crash("handlers/mine.py:47", _OVER), id="mn-big"),
    ],
)
async def test_odd_numbers_in_buttons_are_refused_not_crashed(
    api: FakeBotApi, bot: RunningBot, admin: Person, data: str
):
    # Pressed by the admin: holding roles, every check goes as far as the database.
    await refused(api, bot, admin, data)


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("²", marks=_crash("handlers/review.py:231", _SUPER), id="sup"),
        pytest.param(BIG, marks=_crash("handlers/review.py:231", _OVER), id="big"),
    ],
)
async def test_odd_numbers_in_molai_are_refused_not_crashed(
    bot: RunningBot, admin: Person, number: str
):
    before = await snapshot(bot)
    replies = await admin.send(f"/molai {number}")
    errors = [repr(e) for e in bot.errors]
    bot.errors.clear()
    assert errors == []
    assert [r.text for r in replies] in ([texts.NO_PERMISSION], [texts.REOPEN_USAGE])
    assert await snapshot(bot) == before


# --- one-time links and invite links ---------------------------------------------------------


async def test_a_leader_link_works_once_and_only_its_hash_is_stored(
    api: FakeBotApi,
    bot: RunningBot,
    branch: dict[str, Person],
    admin: Person,
    person: Callable[..., Person],
):
    tu = branch["tu"]
    payload = await appoint_link(admin, TAN_LAP)
    admin_payload = await appoint_link(admin, HOA_LAC, texts.BTN_ADMIN_LINK)
    assert payload.startswith("l_") and admin_payload.startswith("a_")
    secrets = (payload, admin_payload, payload[2:], admin_payload[2:])

    # An unregistered opener: while they register, the draft holds only the token's hash.
    first = person("Phó")
    replies = await first.send(f"/start {payload}")
    assert [r.text for r in replies] == [
        texts.grant_welcome("leader", "Chi đoàn thôn Tân Lập"),
        texts.ask(texts.ASK_MEMBER_NAME),
    ]
    await first.send("Hà Văn Phó")
    dump = repr(await snapshot(bot))
    assert not [s for s in secrets if s in dump]
    await first.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    replies = await first.send(texts.BTN_SKIP)
    assert replies[-1].text == texts.grant_received("leader", "Chi đoàn thôn Tân Lập")

    # The same link again: a registered member, the one who took it, an unregistered person.
    before_roles = await role_rows(bot)
    await said(api, bot, tu, f"/start {payload}", texts.GRANT_PROBLEM["grant_used"])
    await said(api, bot, first, f"/start {payload}", texts.GRANT_PROBLEM["grant_used"])
    late = person("Muộn")
    replies = await late.send(f"/start {payload}")
    assert [r.text for r in replies] == [texts.GRANT_PROBLEM["grant_used"], texts.WELCOME, ASK_ROOT]
    assert "Tân Lập" not in everything_said_to(late)
    assert (
        await role_rows(bot)
        == before_roles
        == [
            ("Hà Văn Phó", "CD-AB-THON1", "leader"),
            ("Nguyễn Văn Hùng", "CD-AB-THON1", "leader"),
        ]
    )

    dump = repr(await snapshot(bot))
    assert not [s for s in secrets if s in dump]
    grants = await rows(bot, "SELECT token_hash FROM grants ORDER BY id")
    assert len(grants) == 3
    assert all(re.fullmatch(r"[0-9a-f]{64}", g["token_hash"]) for g in grants)


async def test_an_expired_link_grants_nothing(
    api: FakeBotApi,
    bot: RunningBot,
    branch: dict[str, Person],
    admin: Person,
    clock: ManualClock,
    person: Callable[..., Person],
):
    payload = await appoint_link(admin, TAN_LAP)
    clock.advance(GRANT_TTL + timedelta(minutes=1))
    before_roles = await role_rows(bot)
    # A registered opener…
    await said(api, bot, branch["tu"], f"/start {payload}", texts.GRANT_PROBLEM["grant_expired"])
    # …and one who is not: they may register, but choose their unit themselves.
    late = person("Trễ")
    replies = await late.send(f"/start {payload}")
    assert [r.text for r in replies] == [
        texts.GRANT_PROBLEM["grant_expired"],
        texts.WELCOME,
        ASK_ROOT,
    ]
    assert await role_rows(bot) == before_roles
    drafts = await rows(bot, "SELECT draft FROM conversations")
    assert len(drafts) == 1 and "grant" not in drafts[0]["draft"]
    assert await rows(bot, "SELECT used_by, used_at FROM grants ORDER BY id DESC LIMIT 1") == [
        {"used_by": None, "used_at": None}
    ]


async def test_a_link_that_expires_during_registration_grants_nothing(
    bot: RunningBot, admin: Person, clock: ManualClock, person: Callable[..., Person]
):
    payload = await appoint_link(admin, TAN_LAP)
    clock.advance(GRANT_TTL - timedelta(minutes=1))
    slow = person("Chậm")
    replies = await slow.send(f"/start {payload}")
    assert replies[0].text == texts.grant_welcome("leader", "Chi đoàn thôn Tân Lập")
    await slow.send("Vũ Văn Chậm")
    clock.advance(timedelta(minutes=2))
    await slow.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    replies = await slow.send(texts.BTN_SKIP)
    # Told before joining the leader's unit, and asked to choose their own.
    assert replies[0].text.startswith(texts.GRANT_PROBLEM["grant_expired"])
    assert replies[-1].text == ASK_ROOT
    assert await role_rows(bot) == []
    assert await rows(bot, "SELECT * FROM members WHERE full_name = 'Vũ Văn Chậm'") == []
    await slow.send("/huy")
    assert (await slow.send("/duyet"))[-1].text == texts.NOT_A_LEADER


async def test_a_link_one_minute_before_expiry_still_works(
    bot: RunningBot, branch: dict[str, Person], admin: Person, clock: ManualClock
):
    payload = await appoint_link(admin, TAN_LAP)
    clock.advance(GRANT_TTL - timedelta(minutes=1))
    replies = await branch["tu"].send(f"/start {payload}")
    assert [r.text for r in replies] == [texts.grant_received("leader", "Chi đoàn thôn Tân Lập")]
    assert ("Mai Văn Tú", "CD-AB-THON1", "leader") in await role_rows(bot)


async def test_forged_grant_payloads_grant_nothing(
    api: FakeBotApi,
    bot: RunningBot,
    branch: dict[str, Person],
    admin: Person,
    person: Callable[..., Person],
):
    tu = branch["tu"]
    real = await appoint_link(admin, TAN_LAP)
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    forged = [
        "l_" + "A" * 32,
        "a_" + "A" * 32,
        "a_" + real[2:],  # the leader token presented as an admin one
        flipped,
        real + "x",
        "l_" + "9" * 62,
    ]
    for payload in forged:
        await said(api, bot, tu, f"/start {payload}", texts.GRANT_PROBLEM["grant_invalid"])
    before = await snapshot(bot)
    for payload in forged:
        stranger = person("Giả")
        replies = await stranger.send(f"/start {payload}")
        assert [r.text for r in replies] == [
            texts.GRANT_PROBLEM["grant_invalid"],
            texts.WELCOME,
            ASK_ROOT,
        ]
    after = await snapshot(bot)
    assert {k: v for k, v in after.items() if k != "conversations"} == {
        k: v for k, v in before.items() if k != "conversations"
    }
    assert len(after["conversations"]) == len(forged)
    assert all("grant" not in str(row) for row in after["conversations"])
    # The real link was not used up by any of that.
    assert (await tu.send(f"/start {real}"))[-1].text == texts.grant_received(
        "leader", "Chi đoàn thôn Tân Lập"
    )


async def test_an_admin_link_gives_admin_on_a_subtree_only(
    world: World, person: Callable[..., Person]
):
    w = world
    api, bot = w.api, w.bot
    payload = await appoint_link(w.admin, HOA_LAC, texts.BTN_ADMIN_LINK)
    vy = person("Vy")
    replies = await take_link(vy, payload, "Đặng Thị Vy")
    assert replies[-1].text == texts.grant_received("admin", "Đoàn phường Hòa Lạc")
    assert w.admin.last_text == texts.grant_used_by("Đặng Thị Vy", "admin", "Đoàn phường Hòa Lạc")
    assert ADMIN_HELP in (await vy.send("/help"))[-1].text

    hl, kp3, kp7 = w.unit["P-HOA-LAC"], w.unit["CD-HL-KP3"], w.unit["CD-HL-KP7"]
    page = (await vy.send("/bonhiem"))[-1]
    assert page.text == texts.picker_title("Bổ nhiệm", "Đoàn phường Hòa Lạc")
    assert page.buttons() == [
        [(texts.BTN_CHOOSE_HERE, f"pk:bn:s:{hl}:0")],
        [("📂 Chi đoàn khu phố 3", f"pk:bn:o:{kp3}:0")],
        [("📂 Chi đoàn khu phố 7", f"pk:bn:o:{kp7}:0")],
    ]  # no way up: the parent is not theirs
    await vy.press("Chi đoàn khu phố 3")
    assert vy.last.buttons()[-1] == [(texts.BTN_BACK, f"pk:bn:o:{hl}:0")]
    panel = (await vy.press(texts.BTN_CHOOSE_HERE))[-1]
    assert panel.text == texts.appoint_panel("Chi đoàn khu phố 3", ["Lý Văn Khoa"])
    link = payload_in((await vy.press(texts.BTN_LEADER_LINK))[-1].text)
    newcomer = person("Mới")
    replies = await take_link(newcomer, link, "Tôn Thất Mới")
    assert replies[-1].text == texts.grant_received("leader", "Chi đoàn khu phố 3")
    assert vy.last_text == texts.grant_used_by("Tôn Thất Mới", "leader", "Chi đoàn khu phố 3")

    # Outside Hòa Lạc: nothing.
    tl, td, xab = w.unit["CD-AB-THON1"], w.unit["TD-MAU"], w.unit["X-AN-BINH"]
    hung = w.member["Nguyễn Văn Hùng"]
    for data in [
        f"pk:bn:o:{td}:0",
        f"pk:bn:s:{td}:0",
        f"pk:bn:o:{xab}:0",
        f"pk:bn:s:{tl}:0",
        f"pk:dv:s:{tl}:0",
        f"pk:ct:s:{tl}:0",
        f"pk:mn:s:{tl}:0",
        f"ap:l:{tl}:0",
        f"ap:a:{tl}:0",
        f"ap:a:{td}:0",
        f"ap:r:{tl}:{hung}",
        f"dv:u:{tl}:0",
        f"dv:n:{td}:0",
        f"iv:n:{tl}",
        f"rv:a:{w.a}",
        f"rv:d:{w.c}",
    ]:
        await refused(api, bot, vy, data)
    await said(api, bot, vy, "/duyet", texts.NO_PENDING)
    await said(api, bot, vy, f"/molai {w.b}", texts.no_referral_here(w.b))

    # Inside it: removing a leader of Khu phố 3 works.
    khoa = w.member["Lý Văn Khoa"]
    await vy.press_data(panel.message_id, f"ap:r:{kp3}:{khoa}")
    await vy.press(texts.BTN_REMOVE_YES)
    assert vy.last_answer is not None
    removed = texts.role_removed("Lý Văn Khoa", "leader", "Chi đoàn khu phố 3", Org.DOAN)
    assert vy.last_answer.get("text") == removed
    assert await role_rows(bot) == [
        ("Nguyễn Văn Hùng", "CD-AB-THON1", "leader"),
        ("Tôn Thất Mới", "CD-HL-KP3", "leader"),
        ("Đặng Thị Vy", "P-HOA-LAC", "admin"),
    ]


async def test_a_renewed_invite_refuses_the_old_link(
    api: FakeBotApi, bot: RunningBot, branch: dict[str, Person], person: Callable[..., Person]
):
    leader = branch["leader"]
    tan_lap = "Chi đoàn thôn Tân Lập"

    def url(payload: str) -> str:
        return f"https://t.me/{api.bot_username}?start={payload}"

    first = payload_in((await leader.send("/moi"))[-1].text)
    assert leader.last_text == texts.member_invite(tan_lap, url(first), code_in(leader.last_text))
    assert (await leader.send("/moi moi"))[-1].text == texts.confirm_renew(tan_lap)
    replies = await leader.press(texts.BTN_RENEW_YES)
    second = payload_in(replies[-1].text)
    assert second != first
    renewed = texts.invite_renewed(tan_lap, url(second), code_in(replies[-1].text))
    assert replies[-1].text == renewed

    old = person("Cũ")
    assert [r.text for r in await old.send(f"/start {first}")] == [texts.INVITE_INVALID, ASK_ROOT]
    new = person("Mới")
    replies = await new.send(f"/start {second}")
    assert replies[0].text == f"{texts.WELCOME}\n{texts.invited_to(tan_lap)}"
    await new.send("/huy")

    # The renew button on the last message kills the second link too.
    await leader.press(texts.BTN_RENEW_LINK)
    await leader.press(texts.BTN_RENEW_YES)
    third = payload_in(leader.last_text)
    assert third not in (first, second)
    again = person("Lại")
    assert [r.text for r in await again.send(f"/start {second}")] == [
        texts.INVITE_INVALID,
        ASK_ROOT,
    ]
    # Another unit's id with Tân Lập's tag is no link either.
    unit = {r["code"]: r["id"] for r in await rows(bot, "SELECT id, code FROM units")}
    tag = third.rsplit("_", 1)[1]
    for forged in (f"u_{unit['CD-HL-KP3']}_{tag}", f"u_{unit['CD-AB-THON1']}_{'A' * 22}", "u_1_x"):
        someone = person("Ai")
        replies = await someone.send(f"/start {forged}")
        assert [r.text for r in replies] == [texts.INVITE_INVALID, ASK_ROOT], forged
    # None of those people was registered anywhere: the leader, Lan and Tú only.
    assert len(await rows(bot, "SELECT id FROM members")) == 3


# --- phones shown to leaders -----------------------------------------------------------------


async def test_phones_shown_to_leaders_are_masked(world: World):
    w = world
    card = (await w.leader.send("/duyet"))[-1].text
    assert card == texts.review_card(
        2,
        w.a,
        "Lê Văn An",
        "21 tuổi",
        Org.DOAN,
        "Trần Thị Lan",
        "Chi đoàn thôn Tân Lập",
        "26/11/2026",
        "091****678",
    )
    card = (await w.leader.press(texts.BTN_LATER))[-1].text
    assert card.startswith(f"Chờ xét: 2\nSố {w.c}: Đỗ Minh Châu")
    assert card.endswith("\nĐiện thoại: 098****321")
    await decline(w.leader)
    await w.leader.send("/duyet")
    await w.leader.press(texts.BTN_ADMIT)
    await w.leader.press(texts.BTN_TODAY)
    await w.leader.send("/donvi")
    await w.leader.press(texts.BTN_MET)
    assert (await w.admin.send("/duyet"))[-1].text == texts.NO_PENDING
    await w.leader.send(f"/molai {w.a}")
    await w.leader.send("Bấm nhầm nút, xét lại")
    assert (await w.admin.send("/duyet"))[-1].text.endswith("\nĐiện thoại: 091****678")

    bare = {PHONE_A, PHONE_C, PHONE_A[1:], PHONE_C[1:]}
    for watcher in (w.leader, w.admin, w.khoa):
        seen = re.sub(r"[\s.\-]", "", everything_said_to(watcher))
        assert [p for p in bare if p in seen] == [], watcher.user.first_name
    assert "091****678" in everything_said_to(w.leader)
    assert "098****321" in everything_said_to(w.leader)
    # The member who typed the phone saw it in their own summary; nobody else did.
    assert PHONE_A in everything_said_to(w.lan)
    assert PHONE_A not in everything_said_to(w.tu)
