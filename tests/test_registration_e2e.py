"""A new member joins their branch, end to end through the fake Bot API."""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from storage import invites, members, units
from storage.db import Database
from tests.fakebotapi import FakeBotApi
from tests.harness import MEMBER_COMMANDS, MEMBER_HELP, Person, RunningBot, menu_of


async def _member(bot: RunningBot, person: Person) -> members.Member | None:
    db: Database = bot.app.bot_data["deps"].db
    return await members.member_of(db, "telegram", str(person.user.id))


async def _choose_unit(p: Person, *path: str) -> None:
    await p.send("/start")
    for label in path:
        await p.press(label)


async def test_whole_registration_through_the_tree(bot: RunningBot, person: Callable[..., Person]):
    lan = person("Lan")
    replies = await lan.send("/start")
    assert texts.WELCOME in replies[0].text
    tree = replies[-1]
    labels = [label for row in tree.buttons() for label, _ in row]
    assert "📂 Tỉnh đoàn Mẫu" in labels and "📂 Hội LHTN Việt Nam tỉnh Mẫu" in labels

    await lan.press("Tỉnh đoàn Mẫu")
    assert lan.last.message_id == tree.message_id, "drilling down edits the same message"
    assert "Tỉnh đoàn Mẫu" in lan.last_text
    await lan.press("Đoàn xã An Bình")
    await lan.press(texts.BTN_BACK)
    assert "Tỉnh đoàn Mẫu" in lan.last_text
    await lan.press("Đoàn xã An Bình")
    replies = await lan.press("Chi đoàn thôn Tân Lập")
    assert "→ Chi đoàn thôn Tân Lập" in lan.message(tree.message_id).text
    assert [r.text for r in replies] == [texts.ask(texts.ASK_MEMBER_NAME)]

    replies = await lan.send("  trần   thị LAN  ")
    assert replies[-1].text == texts.ask(texts.ASK_MEMBERSHIP)
    replies = await lan.press(texts.BTN_MEMBERSHIP[members.Org.DOAN])
    phone_question = replies[-1]
    contact_buttons = phone_question.reply_keyboard()
    assert contact_buttons[0][0] == {"text": texts.BTN_SHARE_PHONE, "request_contact": True}

    replies = await lan.share_contact("+84 912 345 678")
    assert replies[-1].text.startswith(
        "Đã ghi danh đồng chí Trần Thị Lan vào Chi đoàn thôn Tân Lập"
    )
    assert replies[-1].removes_keyboard

    member = await _member(bot, lan)
    assert member is not None
    assert (member.full_name, member.membership, member.phone) == (
        "Trần Thị Lan",  # stored capitalised
        members.Org.DOAN,
        "0912345678",
    )
    async with bot.app.bot_data["deps"].db.read() as conn:
        unit = await units.get(conn, member.unit_id)
    assert unit is not None and unit.code == "CD-AB-THON1"

    # A registered member gets the menu, not a second registration.
    replies = await lan.send("/start")
    assert replies[-1].text == texts.greeting("Trần Thị Lan", "Chi đoàn thôn Tân Lập")


async def test_invite_link_skips_the_tree(bot: RunningBot, person: Callable[..., Person]):
    deps = bot.app.bot_data["deps"]
    async with deps.db.read() as conn:
        unit = await units.get_by_code(conn, "CD-HL-KP7")
    assert unit is not None
    payload = invites.unit_payload(deps.link_secret, unit)
    assert len(payload) <= 64

    minh = person("Minh")
    replies = await minh.send(f"/start {payload}")
    assert texts.invited_to("Chi đoàn khu phố 7") in replies[0].text
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_NAME)
    await minh.send("Phạm Văn Minh")
    await minh.press(texts.BTN_MEMBERSHIP[members.Org.HOI])
    replies = await minh.send(texts.BTN_SKIP)
    assert "Chi đoàn khu phố 7" in replies[-1].text
    member = await _member(bot, minh)
    assert member is not None and member.unit_id == unit.id and member.phone is None
    assert member.membership is members.Org.HOI


async def test_revoked_or_forged_invite_falls_back_to_the_tree(
    bot: RunningBot, person: Callable[..., Person]
):
    deps = bot.app.bot_data["deps"]
    async with deps.db.read() as conn:
        unit = await units.get_by_code(conn, "CD-HL-KP3")
    assert unit is not None
    old = invites.unit_payload(deps.link_secret, unit)
    async with deps.db.write() as conn:
        await units.bump_invite_generation(conn, unit.id)

    for payload in (old, old[:-2] + "xx", "u_999999_AAAAAAAAAAAAAAAAAAAAAA", "u_garbage"):
        p = person()
        replies = await p.send(f"/start {payload}")
        assert texts.INVITE_INVALID in [r.text for r in replies]
        assert texts.CHOOSE_ROOT in replies[-1].text
        assert await _member(bot, p) is None


async def test_search_by_name_finds_the_branch(bot: RunningBot, person: Callable[..., Person]):
    hoa = person("Hoa")
    await hoa.send("/start")
    replies = await hoa.send("phu hoa")  # no diacritics, as people type on a phone
    labels = [label for row in replies[-1].buttons() for label, _ in row]
    assert sorted(labels) == [
        "Chi hội thôn Phú Hòa – Hội LHTN xã An Bình",
        "Chi đoàn thôn Phú Hòa – Đoàn xã An Bình",
    ]
    replies = await hoa.send("không có chi đoàn này")
    assert replies[0].text == texts.SEARCH_NONE
    assert texts.CHOOSE_ROOT in replies[-1].text
    await hoa.press("Chi đoàn thôn Phú Hòa –")
    await hoa.send("Lê Thị Hoa")
    await hoa.press(texts.BTN_MEMBERSHIP[members.Org.DOAN])
    await hoa.send(texts.BTN_SKIP)
    member = await _member(bot, hoa)
    assert member is not None


async def test_every_wrong_answer_gets_a_reason_and_the_same_question(
    bot: RunningBot, person: Callable[..., Person]
):
    an = person("An")
    await _choose_unit(an, "Tỉnh đoàn Mẫu", "Đoàn phường Hòa Lạc", "Chi đoàn khu phố 3")
    question = texts.ask(texts.ASK_MEMBER_NAME)
    for bad, code in [
        ("A", "name_too_short"),
        ("Nguyễn Văn 3", "name_invalid"),
        ("Trần 😀", "name_invalid"),
        ("Đ" * 81, "name_too_long"),
    ]:
        replies = await an.send(bad)
        assert [r.text for r in replies] == [texts.invalid(code), question], bad

    await an.send("Nguyễn Văn An")
    replies = await an.send("thanh niên")  # typed, and no button says so
    assert replies[0].text == texts.USE_BUTTONS
    assert replies[1].text == texts.ask(texts.ASK_MEMBERSHIP)
    replies = await an.send("đoàn viên")  # a button's label typed: as if pressed
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_PHONE)

    phone_question = texts.ask(texts.ASK_MEMBER_PHONE)
    for bad, code in [("0212345678", "phone_invalid"), ("+1 202 555 0100", "phone_not_vietnamese")]:
        replies = await an.send(bad)
        assert [r.text for r in replies] == [texts.invalid(code), phone_question]
    replies = await an.share_contact("0912345678", own=False)
    assert [r.text for r in replies] == [texts.CONTACT_NOT_OWN, phone_question]
    replies = await an.send("0987.654.321")
    assert replies[-1].text.startswith("Đã ghi danh")
    member = await _member(bot, an)
    assert member is not None and member.phone == "0987654321"


async def test_cancel_in_the_middle_writes_nothing(bot: RunningBot, person: Callable[..., Person]):
    binh = person("Bình")
    await _choose_unit(binh, "Tỉnh đoàn Mẫu", "Đoàn xã An Bình", "Chi đoàn thôn Phú Hòa")
    await binh.send("Đỗ Văn Bình")
    replies = await binh.send("/huy")
    assert replies[-1].text == texts.CANCELLED
    assert await _member(bot, binh) is None
    replies = await binh.send("Đỗ Văn Bình")
    assert replies[-1].text == texts.NEWCOMER_MENU
    replies = await binh.send("/huy")
    assert replies[-1].text == texts.NOTHING_TO_CANCEL


async def test_unknown_input_is_never_silent(bot: RunningBot, person: Callable[..., Person]):
    cuong = person("Cường")
    # A newcomer's stray message says what 1+1 is and offers the way in, as a button.
    welcome = (await cuong.send("xin chào"))[-1]
    assert welcome.text == texts.NEWCOMER_MENU
    assert welcome.buttons() == [[(texts.MENU_WORDS["start"], "cmd:start")]]
    opened = await cuong.press(texts.MENU_WORDS["start"])
    assert [m.text for m in opened][:1] == [texts.WELCOME]
    assert (await cuong.send("/huy"))[-1].text == texts.CANCELLED
    assert (await cuong.send("/lenhla"))[-1].text == texts.UNKNOWN
    assert (await cuong.send("/help"))[-1].text == MEMBER_HELP
    assert (await cuong.send("/cuatoi"))[-1].text == texts.NOT_REGISTERED
    assert (await cuong.send("/gioithieu"))[-1].text == texts.NOT_REGISTERED
    # A button from nowhere is answered, and changes nothing.
    await cuong.press_data(4242, "reg:unit:s1")
    assert cuong.last_answer is not None and cuong.last_answer.get("text") == texts.STALE_BUTTON
    assert await _member(bot, cuong) is None


async def test_commands_are_registered_in_vietnamese(bot: RunningBot, api: FakeBotApi):
    registered = [(c["command"], c["description"]) for c in api.commands_for()]
    assert registered == menu_of(MEMBER_COMMANDS)
    assert all(description[0].isupper() for _, description in registered)


async def test_searches_and_typed_codes_are_limited_per_person(
    bot: RunningBot, person: Callable[..., Person]
):
    guesser, other = person("Đoán"), person("Khác")
    await guesser.send("/start")
    answers = [(await guesser.send(f"ABCD-{n:04d}"))[0].text for n in range(12)]
    assert answers[:9] == [texts.CODE_UNKNOWN] * 9  # the /start payload-free tries count too
    assert texts.TOO_MANY_TRIES in answers
    await other.send("/start")
    assert (await other.send("tan lap"))[0].text == texts.SEARCH_RESULTS  # someone else: fine
