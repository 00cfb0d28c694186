"""Leaders and admins end to end: appoint, invite, refer, admit and decline, notify, /donvi,
targets through three levels, reopening with an audit trail, withdrawal, a race between two
leaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from bot import texts
from storage.validation import Org
from tests.conftest import ADMIN_ID
from tests.fakebotapi import FakeBotApi
from tests.harness import (
    LEADER_COMMANDS,
    LEADER_HELP,
    MEMBER_COMMANDS,
    TAN_LAP,
    Person,
    RunningBot,
    appoint_link,
    appointed,
    decline,
    menu_of,
    refer,
    rows,
)


async def test_admin_appoints_a_leader_through_a_one_time_link(
    api: FakeBotApi, bot: RunningBot, admin: Person, person: Callable[..., Person]
):
    replies = await admin.send("/bonhiem")
    labels = [label for row in replies[-1].buttons() for label, _ in row]
    assert labels == ["Hội LHTN Việt Nam tỉnh Mẫu", "Tỉnh đoàn Mẫu"]
    payload = await appoint_link(admin, TAN_LAP)
    assert payload.startswith("l_") and len(payload) <= 64
    assert texts.grant_link("leader", "Chi đoàn thôn Tân Lập", "") in admin.last_text + ""
    stored = await rows(bot, "SELECT token_hash FROM grants")
    assert payload not in str(stored), "only the token's hash is stored"

    hung = person("Hùng")
    replies = await hung.send(f"/start {payload}")
    assert replies[0].text == texts.grant_welcome("leader", "Chi đoàn thôn Tân Lập")
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_NAME)
    await hung.send("Nguyễn Văn Hùng")
    await hung.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    replies = await hung.send(texts.BTN_SKIP)
    assert replies[-1].text == texts.grant_received("leader", "Chi đoàn thôn Tân Lập")
    assert admin.last_text == texts.grant_used_by(
        "Nguyễn Văn Hùng", "leader", "Chi đoàn thôn Tân Lập"
    )
    assert LEADER_HELP in (await hung.send("/help"))[-1].text
    # The leader's own chat menu now lists the leaders' commands.
    own_menu = {"type": "chat", "chat_id": hung.user.id}
    menu = [(c["command"], c["description"]) for c in api.commands_for(own_menu)]
    assert menu == menu_of(MEMBER_COMMANDS + LEADER_COMMANDS)

    # The link works once.
    late = person("Muộn")
    replies = await late.send(f"/start {payload}")
    assert replies[0].text == texts.GRANT_PROBLEM["grant_used"]
    members = await rows(bot, "SELECT full_name FROM members")
    roles = await rows(
        bot, "SELECT m.full_name, r.role FROM roles r JOIN members m ON m.id = r.member_id"
    )
    assert roles == [{"full_name": "Nguyễn Văn Hùng", "role": "leader"}]
    assert {"full_name": "Nguyễn Văn Hùng"} in members

    # The admin sees the leader and can remove them; the leader loses the right at once.
    await admin.send("/bonhiem")
    for label in TAN_LAP:
        await admin.press(label)
    replies = await admin.press(texts.BTN_CHOOSE_HERE)
    assert replies[-1].text == texts.appoint_panel("Chi đoàn thôn Tân Lập", ["Nguyễn Văn Hùng"])
    replies = await admin.press(texts.remove_leader_button("Nguyễn Văn Hùng"))
    assert admin.last_text == texts.confirm_remove(
        "Nguyễn Văn Hùng", "leader", "Chi đoàn thôn Tân Lập", Org.DOAN
    )
    assert (await hung.send("/duyet"))[-1].text != texts.NOT_A_LEADER, "nothing before yes"
    await admin.press(texts.BTN_REMOVE_YES)
    assert admin.last_text == texts.appoint_panel("Chi đoàn thôn Tân Lập", [])
    assert hung.last_text == texts.role_removed_notice("leader", "Chi đoàn thôn Tân Lập", Org.DOAN)
    assert (await hung.send("/duyet"))[-1].text == texts.NOT_A_LEADER
    assert api.commands_for(own_menu) == [], "back to the members' menu"


async def test_a_branch_from_referral_to_admission(
    api: FakeBotApi, bot: RunningBot, branch: dict[str, Person]
):
    leader, lan, tu = branch["leader"], branch["lan"], branch["tu"]
    a = await refer(lan, "Lê Văn An", "12/05/2005", "0912345678", Org.DOAN)
    b = await refer(lan, "Phạm Thị Bích", "2003", None, Org.HOI)
    c = await refer(tu, "Đỗ Minh Châu", "2006", None, Org.DOAN)

    replies = await leader.send("/duyet")
    card = replies[-1].text
    assert card == texts.review_card(
        3,
        a,
        "Lê Văn An",
        "21 tuổi",
        Org.DOAN,
        "Trần Thị Lan",
        "Chi đoàn thôn Tân Lập",
        "26/11/2026",
        "091****678",
    )
    assert "0912345678" not in card
    replies = await leader.press(texts.BTN_ADMIT)
    assert replies[-1].text == texts.ask(texts.ask_admission_date(a, "Lê Văn An"))
    replies = await leader.press(texts.BTN_TODAY)
    assert lan.last_text == texts.admitted_notice(
        a, "Lê Văn An", Org.DOAN, "26/11/2026", True, 2026
    )
    assert replies[-1].text.startswith("Chờ xét: 2\nSố " + str(b))

    replies = await decline(leader)
    assert lan.last_text == texts.declined_kindly(b, "Phạm Thị Bích", None)
    assert "→ " + texts.BTN_DECLINE in leader.message(replies[0].message_id).text or any(
        ("→ " + texts.BTN_DECLINE) in (m.text or "") for m in leader.inbox()
    )
    assert leader.last_text.startswith("Chờ xét: 1\nSố " + str(c))
    assert (await leader.press(texts.BTN_LATER))[-1].text == texts.review_pass_done(1, "/duyet")

    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    for typed, problem in [
        ("mai", texts.ADMISSION_DATE_FORMAT),
        ("27/11/2026", texts.ADMISSION_IN_FUTURE),
        ("31/12/2024", texts.admission_too_old("01/01/2025")),
    ]:
        replies = await leader.send(typed)
        question = texts.ask(texts.ask_admission_date(c, "Đỗ Minh Châu"))
        assert [r.text for r in replies] == [problem, question]
    replies = await leader.send("26/11/2026")
    assert replies[-1].text == texts.NO_PENDING
    assert tu.last_text.endswith("Đồng chí đã hoàn thành 1+1 năm 2026! 🎉")

    got = await rows(bot, "SELECT id, status, admitted_on, decided_by FROM referrals ORDER BY id")
    leader_id = (await rows(bot, "SELECT id FROM members WHERE full_name = 'Nguyễn Văn Hùng'"))[0][
        "id"
    ]
    assert got == [
        {"id": a, "status": "admitted", "admitted_on": "2026-11-26", "decided_by": leader_id},
        {"id": b, "status": "declined", "admitted_on": None, "decided_by": leader_id},
        {"id": c, "status": "admitted", "admitted_on": "2026-11-26", "decided_by": leader_id},
    ]
    mine = (await lan.send("/cuatoi"))[-1].text
    assert "đã đạt ✅ (1 người được kết nạp)" in mine
    assert f"Số {b}: Phạm Thị Bích (2003) – Hội – không kết nạp" in mine

    # /donvi: 3 members (the leader too), 2 met 1+1, default target = 3 members.
    replies = await leader.send("/donvi")
    assert replies[-1].text == texts.unit_picture(
        "Chi đoàn thôn Tân Lập", 2026, 3, 2, 3, 2, 1, 0, 3, 1.0
    )
    replies = await leader.press(texts.BTN_NOT_MET)
    assert replies[-1].text.endswith("Chưa đạt 1+1 (1): Nguyễn Văn Hùng")
    replies = await leader.press(texts.BTN_MET)
    assert replies[-1].text.endswith("Đã đạt 1+1 (2): Trần Thị Lan, Mai Văn Tú")

    # Reopening a decision keeps who, when, what, before and after.
    replies = await leader.send(f"/molai {b}")
    assert replies[-1].text == texts.ask(texts.ASK_REOPEN_REASON)
    assert (await leader.send("sai"))[0].text == texts.REASON_TOO_SHORT
    await leader.send("Bấm nhầm nút, xét lại")
    assert leader.last_text == texts.reopened(b)
    assert lan.last_text == texts.reopened_notice(b, "Phạm Thị Bích")
    audit = await rows(
        bot,
        "SELECT actor_id, action, before, after, reason FROM referral_audit "
        "WHERE referral_id = ? ORDER BY id",
        b,
    )
    assert [(x["action"], x["reason"]) for x in audit] == [
        ("decline", None),
        ("reopen", "Bấm nhầm nút, xét lại"),
    ]
    assert audit[1]["before"] == '{"status": "declined", "admitted_on": null}'
    assert audit[1]["after"] == '{"status": "introduced", "admitted_on": null}'
    assert audit[1]["actor_id"] == leader_id

    # The member withdraws the reopened referral from /cuatoi.
    await lan.send("/cuatoi")
    await lan.press(texts.withdraw_button(b))
    replies = await lan.press(texts.BTN_WITHDRAW_YES)
    assert lan.last_text == texts.WITHDRAWN
    assert (await rows(bot, "SELECT status FROM referrals WHERE id = ?", b)) == [
        {"status": "withdrawn"}
    ]


async def test_targets_roll_up_through_three_levels(
    bot: RunningBot, branch: dict[str, Person], admin: Person
):
    leader = branch["leader"]
    # The leader of a single branch goes straight to it.
    await leader.send("/chitieu")
    await leader.press(texts.ORG_SHORT[Org.DOAN])
    assert (await leader.send("nhiều"))[0].text == texts.TARGET_INVALID
    replies = await leader.send("5")
    assert replies[-1].text == texts.target_saved("Chi đoàn thôn Tân Lập", 2026, Org.DOAN, 5, 5)
    await leader.send("/chitieu")
    await leader.press(texts.ORG_SHORT[Org.HOI])
    await leader.send("2")
    assert leader.last_text.endswith("Tổng chỉ tiêu của đơn vị (kể cả đơn vị trực thuộc): 7.")

    # The admin sets a sibling branch's target, then reads the parents' sums.
    await admin.send("/chitieu")
    for label in ("Tỉnh đoàn Mẫu", "Đoàn xã An Bình", "Chi đoàn thôn Phú Hòa"):
        await admin.press(label)
    await admin.press(texts.BTN_CHOOSE_HERE)
    await admin.press(texts.ORG_SHORT[Org.DOAN])
    await admin.send("4")
    assert admin.last_text.endswith(": 4.")

    async def target_line(path: list[str]) -> str:
        await admin.send("/donvi")
        for label in path:
            await admin.press(label)
        replies = await admin.press(texts.BTN_CHOOSE_HERE)
        return next(line for line in replies[-1].text.splitlines() if "chỉ tiêu" in line)

    assert (await target_line(["Tỉnh đoàn Mẫu", "Đoàn xã An Bình"])).startswith(
        "Kết nạp/chỉ tiêu: 0/11 (0%)"
    )
    assert (await target_line(["Tỉnh đoàn Mẫu"])).startswith("Kết nạp/chỉ tiêu: 0/11 (0%)")
    got = await rows(bot, "SELECT unit_id, year, org, value FROM targets ORDER BY value")
    assert [(g["org"], g["value"]) for g in got] == [("hoi", 2), ("doan", 4), ("doan", 5)]


async def test_two_leaders_decide_the_same_referral_at_once(
    api: FakeBotApi,
    bot: RunningBot,
    branch: dict[str, Person],
    admin: Person,
    person: Callable[..., Person],
):
    leader, lan = branch["leader"], branch["lan"]
    number = await refer(lan, "Vương Thị Dung", "2004", None, Org.DOAN)
    other = await appointed(admin, person("Phó"), TAN_LAP, "Hà Văn Phó")
    cards = []
    for p in (leader, other):
        await p.send("/duyet")
        await p.press(texts.BTN_DECLINE)
        await p.press(texts.BTN_SKIP)
        cards.append(p.find_button(texts.BTN_DECLINE_YES))
    # Both presses are queued before the bot handles either.
    ids = [
        api.inject_callback(p.user, message.message_id, data)
        for p, (message, data) in zip((leader, other), cards, strict=True)
    ]
    await asyncio.gather(*(bot.processed(u) for u in ids))
    answers = [api.callback_answer(u) or {} for u in ids]
    assert answers[1].get("text") == texts.ALREADY_DECIDED
    assert not answers[0].get("text")
    audit = await rows(bot, "SELECT action FROM referral_audit WHERE referral_id = ?", number)
    assert audit == [{"action": "decline"}]
    notice = texts.declined_kindly(number, "Vương Thị Dung", None)
    assert [m.text for m in lan.inbox()].count(notice) == 1


async def test_an_admin_appointed_by_link_can_be_removed(
    bot: RunningBot, admin: Person, person: Callable[..., Person]
):
    payload = await appoint_link(admin, ["Tỉnh đoàn Mẫu", "Đoàn xã An Bình"], texts.BTN_ADMIN_LINK)
    assert payload.startswith("a_")
    xa = person("Xã")
    await xa.send(f"/start {payload}")
    await xa.send("Lò Văn Xã")
    await xa.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    replies = await xa.send(texts.BTN_SKIP)
    assert replies[-1].text == texts.grant_received("admin", "Đoàn xã An Bình")
    assert (await xa.send("/bonhiem"))[-1].text.startswith(texts.PICK_APPOINT)

    await admin.send("/bonhiem")
    for label in ("Tỉnh đoàn Mẫu", "Đoàn xã An Bình"):
        await admin.press(label)
    replies = await admin.press(texts.BTN_CHOOSE_HERE)
    assert replies[-1].text == texts.appoint_panel("Đoàn xã An Bình", [], ["Lò Văn Xã"])
    await admin.press(texts.remove_admin_button("Lò Văn Xã"))
    assert (await xa.send("/bonhiem"))[-1].text.startswith(texts.PICK_APPOINT), "not yet"
    await admin.press(texts.BTN_REMOVE_YES)
    assert xa.last_text == texts.role_removed_notice("admin", "Đoàn xã An Bình", Org.DOAN)
    assert admin.last_answer is not None
    assert admin.last_answer["text"] == texts.role_removed(
        "Lò Văn Xã", "admin", "Đoàn xã An Bình", Org.DOAN
    )
    assert admin.last_text == texts.appoint_panel("Đoàn xã An Bình", [])
    assert (await xa.send("/bonhiem"))[-1].text == texts.NOT_AN_ADMIN


async def test_a_unit_with_many_children_pages_them(bot: RunningBot, admin: Person, db_path: Path):
    from storage import units as unit_store
    from storage.db import Database

    rows = "\n".join(f"CD-NTMK-{i:02d},Chi đoàn lớp {i:02d},DCS-THPT-NTMK,doan" for i in range(14))
    async with Database(db_path) as db:
        await unit_store.import_rows(
            db, unit_store.parse_csv("code,name,parent_code,org\n" + rows + "\n")
        )
    await admin.send("/donvi")
    for label in ("Tỉnh đoàn Mẫu", "Đoàn trường THPT Nguyễn Thị Minh Khai"):
        await admin.press(label)
    picture = (await admin.press(texts.BTN_CHOOSE_HERE))[-1]
    first = [label for row in picture.buttons() for label, _ in row if label.startswith("📂")]
    assert len(first) == 10
    replies = await admin.press(texts.BTN_NEXT)
    assert replies[-1].text == texts.children_page("Đoàn trường THPT Nguyễn Thị Minh Khai", 1, 2)
    second = [label for row in replies[-1].buttons() for label, _ in row if label.startswith("📂")]
    assert len(second) == 6 and not set(first) & set(second)


async def test_an_unregistered_admin_is_named_in_the_audit_trail(
    bot: RunningBot, branch: dict[str, Person], admin: Person
):
    number = await refer(branch["lan"], "Quan Văn Ích", "2004", None, Org.DOAN)
    await admin.send("/duyet")
    await decline(admin)
    await admin.send(f"/molai {number}")
    await admin.send("Xét lại theo đề nghị của chi đoàn")
    audit = await rows(
        bot, "SELECT actor_id, actor_ref, action FROM referral_audit WHERE referral_id = ?", number
    )
    who = f"telegram:{admin.user.id}"
    assert audit == [
        {"actor_id": None, "actor_ref": who, "action": "decline"},
        {"actor_id": None, "actor_ref": who, "action": "reopen"},
    ]


async def test_admins_from_admin_ids_have_their_menu_from_the_start(
    api: FakeBotApi, bot: RunningBot
):
    own_menu = {"type": "chat", "chat_id": ADMIN_ID}
    menu = [(c["command"], c["description"]) for c in api.commands_for(own_menu)]
    assert ("bonhiem", texts.MENU_WORDS["bonhiem"]) in menu
    assert ("duyet", texts.MENU_WORDS["duyet"]) in menu
