"""Many people at once, each person in order: interleaved journeys, double taps, a 429 in one
chat that holds nobody else."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot import texts
from bot.channels.telegram import CONCURRENT_UPDATES
from storage.validation import Org
from tests.fakebotapi import FakeBotApi
from tests.harness import TAN_LAP, Person, RunningBot, appoint_link, rows


async def test_two_members_journeys_interleave_without_losing_or_mixing_a_step(
    bot: RunningBot, branch: dict[str, Person]
):
    lan, tu = branch["lan"], branch["tu"]
    steps = [
        ("/gioithieu", "/gioithieu"),
        ("Phạm Thu Hà", "Đỗ Văn Nam"),
        ("12/03/2005", "2001"),
        ("0912 345 678", None),
    ]
    for lan_says, tu_says in steps:
        await asyncio.gather(
            lan.send(lan_says),
            tu.send(tu_says) if tu_says else tu.press(texts.BTN_SKIP),
        )
    await asyncio.gather(lan.press(texts.BTN_ORG[Org.DOAN]), tu.press(texts.BTN_ORG[Org.HOI]))
    await asyncio.gather(lan.press(texts.BTN_CONFIRM), tu.press(texts.BTN_CONFIRM))
    saved = await rows(
        bot,
        """SELECT m.full_name AS member, r.full_name, r.birth_year, r.phone, r.org
           FROM referrals r JOIN members m ON m.id = r.member_id ORDER BY r.birth_year""",
    )
    assert saved == [
        {
            "member": "Mai Văn Tú",
            "full_name": "Đỗ Văn Nam",
            "birth_year": 2001,
            "phone": None,
            "org": "hoi",
        },
        {
            "member": "Trần Thị Lan",
            "full_name": "Phạm Thu Hà",
            "birth_year": 2005,
            "phone": "0912345678",
            "org": "doan",
        },
    ]


async def test_one_persons_updates_never_overlap(bot: RunningBot, person: Callable[..., Person]):
    """A fast second message waits for the first: both answered, in order."""
    lan = person("Lan")
    await asyncio.gather(lan.send("/start"), lan.send("/huy"))
    texts_in_order = [m.text for m in lan.inbox()]
    assert texts_in_order[0] == texts.WELCOME
    assert texts_in_order[-1] == texts.CANCELLED
    assert await rows(bot, "SELECT * FROM conversations") == []


async def test_double_taps_are_done_not_errors(
    api: FakeBotApi, bot: RunningBot, branch: dict[str, Person], person: Callable[..., Person]
):
    newcomer = person("Mới")
    await newcomer.send("/start")
    message, data = newcomer.find_button("Tỉnh đoàn Mẫu")
    await newcomer.press_data(message.message_id, data)
    await newcomer.press_data(message.message_id, data)  # the same edit again: not modified
    admin, leader, lan = branch["admin"], branch["leader"], branch["lan"]
    await admin.send("/stats TD-MAU")
    message, data = admin.find_button("📂 Đoàn xã An Bình")
    await admin.press_data(message.message_id, data)
    await admin.press_data(message.message_id, data)
    await lan.send("/xoadulieu")
    message, data = lan.find_button(texts.BTN_ERASE_NO)
    await lan.press_data(message.message_id, data)
    await lan.press_data(message.message_id, data)
    await lan.send("/gioithieu")
    for step in ("Vũ Minh Quân", "2004"):
        await lan.send(step)
    await lan.press(texts.BTN_SKIP)
    await lan.press(texts.BTN_ORG[Org.DOAN])
    await lan.press(texts.BTN_CONFIRM)
    await leader.send("/duyet")
    message, data = leader.find_button(texts.BTN_LATER)
    await leader.press_data(message.message_id, data)
    await leader.press_data(message.message_id, data)
    for who in (newcomer, admin, lan, leader):
        assert texts.ERROR not in [m.text for m in who.inbox()], who.user.first_name
    refused = [c for c in api.calls if c.method.startswith("edit") and not c.ok]
    assert refused, "the second taps did meet Telegram's 'message is not modified'"


async def test_a_429_in_one_chat_holds_nobody_else(
    api: FakeBotApi, bot: RunningBot, person: Callable[..., Person]
):
    slow, other = person("Chậm"), person("Khác")
    api.fail_next("sendMessage", status=429, retry_after=3, chat_id=slow.chat_id)
    waiting = asyncio.create_task(slow.send("/help"))
    await api.wait_until(
        lambda: any(c.error and c.error.status == 429 for c in api.calls_to("sendMessage")),
        seconds=5,
        what="429",
    )
    started = time.monotonic()
    replies = await other.send("/help")
    assert time.monotonic() - started < 1.5
    assert replies and replies[-1].text.startswith(texts.HELP_INTRO)
    late = await waiting  # waited out its own 429, then answered: no apology into the same 429
    assert [m.text for m in late] == [replies[-1].text]


async def test_a_flood_from_one_waiting_chat_holds_nobody_else(
    api: FakeBotApi, bot: RunningBot, person: Callable[..., Person]
):
    """More queued updates from one held-up chat than the bot serves at once: the others'
    turn still comes (the per-chat wait happens before taking a serving slot)."""
    slow, other = person("Chậm"), person("Khác")
    api.fail_next("sendMessage", status=429, retry_after=3, chat_id=slow.chat_id)
    first = api.inject_message(slow.user, "/help")
    await api.wait_until(
        lambda: any(c.error and c.error.status == 429 for c in api.calls_to("sendMessage")),
        seconds=5,
        what="429",
    )
    flood = [api.inject_message(slow.user, "/huy") for _ in range(CONCURRENT_UPDATES + 6)]
    await api.wait_until(lambda: not api.pending_updates, seconds=5, what="flood taken")
    started = time.monotonic()
    replies = await other.send("/help")
    assert time.monotonic() - started < 1.5
    assert replies and replies[-1].text.startswith(texts.HELP_INTRO)
    for update_id in (first, *flood):
        await bot.processed(update_id)
    assert slow.inbox()[-1].text == texts.NOTHING_TO_CANCEL


async def test_an_update_served_again_after_a_crash_is_acted_on_once(
    api: FakeBotApi, bot: RunningBot, branch: dict[str, Person]
):
    leader = branch["leader"]
    await leader.send("/moi moi")  # asks first; the press renews
    before = len(leader.inbox())
    message, data = leader.find_button(texts.BTN_RENEW_YES)
    update_id = api.inject_callback(leader.user, message.message_id, data)
    await bot.processed(update_id)
    renewed = await rows(bot, "SELECT invite_generation FROM units WHERE code = 'CD-AB-THON1'")
    shown = len(leader.inbox())
    assert shown > before
    await bot.stop()
    bot.forget(update_id)
    api.resend(update_id)  # Telegram never heard the update was taken
    await bot.start()
    await bot.processed(update_id)
    assert (
        await rows(bot, "SELECT invite_generation FROM units WHERE code = 'CD-AB-THON1'") == renewed
    ), "the link just shown is still the valid one"
    assert len(leader.inbox()) == shown


async def test_two_people_on_one_appointment_link_the_second_chooses_their_own_unit(
    bot: RunningBot, admin: Person, person: Callable[..., Person]
):
    payload = await appoint_link(admin, TAN_LAP)
    first, second = person("Một"), person("Hai")
    await first.send(f"/start {payload}")
    await second.send(f"/start {payload}")
    for who, name in ((first, "Nguyễn Văn Một"), (second, "Trần Văn Hai")):
        await who.send(name)
        await who.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    await first.send(texts.BTN_SKIP)
    replies = await second.send(texts.BTN_SKIP)
    assert replies[0].text.startswith(texts.GRANT_PROBLEM["grant_used"])
    assert texts.CHOOSE_OWN_UNIT in replies[0].text
    assert texts.CHOOSE_ROOT in replies[-1].text  # back to choosing a unit
    saved = await rows(bot, "SELECT full_name FROM members ORDER BY id")
    assert [r["full_name"] for r in saved] == ["Nguyễn Văn Một"]


async def test_a_command_in_a_group_gets_one_pointer_and_nothing_is_recorded(
    api: FakeBotApi, bot: RunningBot, person: Callable[..., Person]
):
    lan = person("Lan")
    group = {"id": -100123, "type": "supergroup", "title": "Chi đoàn thôn Tân Lập"}
    before = await rows(bot, "SELECT COUNT(*) AS n FROM seen_updates")
    for text in ("/start", f"/gioithieu@{api.bot_username}", "/help@another_bot", "chào cả nhà"):
        update_id = api.inject_message(lan.user, text, chat=group)
        await bot.processed(update_id)
    sent = [m.text for m in api.messages(-100123)]
    pointer = texts.group_pointer(f"https://t.me/{api.bot_username}")
    assert sent == [pointer, pointer]  # to this bot's commands only, never to chatter
    assert await rows(bot, "SELECT COUNT(*) AS n FROM seen_updates") == before
    assert await rows(bot, "SELECT * FROM members") == []
    assert await rows(bot, "SELECT * FROM conversations") == []


async def test_a_burst_from_one_chat_runs_one_at_a_time_in_order():
    from bot.channels import PerChat

    chats, inside, order = PerChat(), [], []

    async def update(n: int) -> None:
        async with chats.hold("chat"):
            inside.append(n)
            assert len(inside) == 1, inside  # never two of one chat at once
            await asyncio.sleep(0.01)
            order.append(n)
            inside.remove(n)

    await asyncio.gather(*(update(n) for n in range(6)))
    assert order == list(range(6))
    assert len(chats) == 0  # forgotten once nobody holds or waits
