"""A member corrects a referral of theirs that still waits for a decision (/sua, or "Sửa" in
/cuatoi): each detail, checked as in the referral journey; old → new and a confirmation;
written with an audit row; nothing written before the confirmation or after /huy; refused for
a decided, withdrawn, self-registered or someone else's referral, also when a leader decides
while the member is confirming. On Telegram (buttons) and Zalo (numbered choices)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.settings import Settings
from storage.validation import Org
from tests.conftest import ADMIN_ID
from tests.fakebotapi import FakeBotApi
from tests.fakezalo import FakeZaloApi
from tests.harness import (
    Person,
    RunningBot,
    ZaloPerson,
    choices_in,
    code_in,
    make_settings,
    payload_in,
    refer,
    rows,
)

ASK_NAME = texts.ask(texts.ASK_NEW_NAME)
ASK_BIRTH = texts.ask(texts.ASK_NEW_BIRTH)
ASK_PHONE = texts.ask(texts.ASK_NEW_PHONE)
FIELD = texts.CORRECT_FIELD
_ids = iter(range(9_000, 20_000))


@pytest.fixture
def settings(api: FakeBotApi, zalo: FakeZaloApi, db_path: Path) -> Settings:
    return make_settings(api, db_path, zalo, admin_ids=[ADMIN_ID])


async def referral(bot: RunningBot, number: int) -> dict[str, Any]:
    found = await rows(
        bot,
        """SELECT full_name, name_key, birth_date, birth_year, phone, org, guardian_consent,
                  status FROM referrals WHERE id = ?""",
        number,
    )
    return found[0]


async def edits(bot: RunningBot, number: int) -> list[dict[str, Any]]:
    found = await rows(
        bot,
        """SELECT actor_id, actor_ref, before, after FROM referral_audit
           WHERE referral_id = ? AND action = 'edit' ORDER BY id""",
        number,
    )
    return [
        {**e, "before": json.loads(e["before"]), "after": json.loads(e["after"])} for e in found
    ]


async def stats(bot: RunningBot) -> list[dict[str, Any]]:
    return await rows(bot, "SELECT * FROM unit_stats ORDER BY unit_id, bucket, metric")


def which(number: int, name: str, birth: str, phone: str | None, org: Org) -> str:
    return texts.correct_which(number, name, birth, phone, org)


async def test_a_member_corrects_each_detail_of_a_waiting_referral(
    bot: RunningBot, branch: dict[str, Person]
):
    lan = branch["lan"]
    number = await refer(lan, "lê văn bảo", "2005", None, Org.DOAN)
    assert (await referral(bot, number))["full_name"] == "Lê Văn Bảo"  # stored capitalised
    lan_id = (await rows(bot, "SELECT id FROM members WHERE full_name = 'Trần Thị Lan'"))[0]["id"]

    # The name: a one-word name and the same name are refused, the question asked again.
    replies = await lan.send(f"/sua {number}")
    assert replies[-1].text == which(number, "Lê Văn Bảo", "2005", None, Org.DOAN)
    labels = [label for row in replies[-1].buttons() for label, _ in row]
    assert labels == [FIELD["full_name"], FIELD["birth"], FIELD["phone"], FIELD["org"]]
    assert (await lan.press(FIELD["full_name"]))[-1].text == ASK_NAME
    replies = await lan.send("Bảo")
    assert [r.text for r in replies] == [texts.invalid("name_one_word"), ASK_NAME]
    replies = await lan.send("LÊ VĂN BẢO")
    assert [r.text for r in replies] == [texts.CORRECT_SAME, ASK_NAME]
    replies = await lan.send("lê  văn   báo")
    assert replies[-1].text == texts.ask(
        texts.correct_confirm(number, "full_name", "Lê Văn Bảo", "Lê Văn Báo")
    )
    assert (await referral(bot, number))["full_name"] == "Lê Văn Bảo", "nothing before yes"
    before = await stats(bot)
    replies = await lan.press(texts.BTN_CONFIRM)
    assert replies[-1].text == texts.corrected(number, "Lê Văn Báo")
    saved = await referral(bot, number)
    assert (saved["full_name"], saved["name_key"], saved["status"]) == (
        "Lê Văn Báo",
        "lê văn báo",
        "introduced",
    )
    assert await edits(bot, number) == [
        {
            "actor_id": lan_id,
            "actor_ref": f"telegram:{lan.user.id}",
            # Initials only: a wrong name may be a stranger's (the row holds the name now).
            "before": {"status": "introduced", "admitted_on": None, "full_name": "L. V. B."},
            "after": {"status": "introduced", "admitted_on": None, "full_name": "L. V. B."},
        }
    ]
    assert await rows(bot, "SELECT * FROM conversations") == []

    # The birth date, from /cuatoi's "Sửa" choice; the referral's organisation sets the ages.
    replies = await lan.send("/cuatoi")
    assert texts.correct_button(number) in [
        label for row in replies[-1].buttons() for label, _ in row
    ]
    await lan.press(texts.correct_button(number))
    assert (await lan.press(FIELD["birth"]))[-1].text == ASK_BIRTH
    for bad, code in [("5/3/08", "birth_format"), ("31/04/2005", "birth_invalid")]:
        assert [r.text for r in await lan.send(bad)] == [texts.invalid(code), ASK_BIRTH]
    replies = await lan.send("1990")  # 35–36: older than Đoàn admits
    age = texts.age_outside_org("35–36 tuổi", Org.DOAN, bot.settings.ages)
    assert [r.text for r in replies] == [age, ASK_BIRTH]
    replies = await lan.send("12/03/2005")  # within the year typed before: not its own duplicate
    assert replies[-1].text == texts.ask(
        texts.correct_confirm(number, "birth", "2005", "12/03/2005")
    )
    await lan.press(texts.BTN_CONFIRM)
    saved = await referral(bot, number)
    assert (saved["birth_date"], saved["birth_year"]) == ("2005-03-12", 2005)
    birth = (await edits(bot, number))[1]
    assert (birth["before"]["birth"], birth["after"]["birth"]) == (2005, 2005)  # years only

    # The phone: typed in any form, then removed again.
    await lan.send(f"/sua {number}")
    await lan.press(FIELD["phone"])
    replies = await lan.send("12345")
    assert [r.text for r in replies] == [texts.invalid("phone_invalid"), ASK_PHONE]
    replies = await lan.send("+84 912 345 678")
    assert replies[-1].text == texts.ask(
        texts.correct_confirm(number, "phone", texts.NO_PHONE, "0912345678")
    )
    await lan.press(texts.BTN_CONFIRM)
    assert (await referral(bot, number))["phone"] == "0912345678"
    await lan.send(f"/sua {number}")
    await lan.press(FIELD["phone"])
    replies = await lan.press(texts.BTN_NO_PHONE)
    assert replies[-1].text == texts.ask(
        texts.correct_confirm(number, "phone", "0912345678", texts.NO_PHONE)
    )
    await lan.press(texts.BTN_CONFIRM)
    assert (await referral(bot, number))["phone"] is None
    phones = [(e["before"]["phone"], e["after"]["phone"]) for e in (await edits(bot, number))[2:]]
    assert phones == [(None, "091****678"), ("091****678", None)]  # masked in the audit

    # The organisation: the other one, asked to confirm; the counters do not move.
    replies = await lan.send(f"/sua {number}")
    replies = await lan.press(FIELD["org"])
    assert replies[-1].text == texts.ask(
        texts.correct_confirm(number, "org", texts.ORG_NAME[Org.DOAN], texts.ORG_NAME[Org.HOI])
    )
    await lan.press(texts.BTN_CONFIRM)
    assert (await referral(bot, number))["org"] == "hoi"
    assert await stats(bot) == before  # an undecided referral counts the same in either
    assert len(await edits(bot, number)) == 5
    replies = await lan.send("/cuatoi")
    assert f"Số {number}: Lê Văn Báo (12/03/2005) – Hội – chờ xét" in replies[-1].text

    # Admitted into the Hội after the correction: counted as a Hội admission.
    await branch["leader"].send("/duyet")
    await branch["leader"].press(texts.BTN_ADMIT)
    await branch["leader"].press(texts.BTN_TODAY)
    admitted = await rows(
        bot,
        "SELECT SUM(value) AS n FROM unit_stats WHERE metric = 'admitted_hoi' AND bucket = '2026'",
    )
    assert admitted[0]["n"] > 0


async def test_nothing_is_written_before_the_confirmation_nor_after_huy(
    bot: RunningBot, branch: dict[str, Person]
):
    lan = branch["lan"]
    number = await refer(lan, "Lê Văn Bảo", "2005", "0912345678", Org.DOAN)
    start = await referral(bot, number)
    for step in ("field", "value", "confirm"):
        await lan.send(f"/sua {number}")
        if step != "field":
            await lan.press(FIELD["full_name"])
        if step == "confirm":
            await lan.send("Lê Văn Bình")
        replies = await lan.send("/huy")
        assert replies[-1].text == texts.CANCELLED, step
        assert await rows(bot, "SELECT * FROM conversations") == []
    await lan.send(f"/sua {number}")
    await lan.press(FIELD["birth"])
    await lan.send("2004")
    replies = await lan.press(texts.BTN_CANCEL)
    assert replies[-1].text == texts.CANCELLED
    assert await referral(bot, number) == start
    assert await edits(bot, number) == []
    # Another journey cannot start in the middle of one.
    await lan.send(f"/sua {number}")
    replies = await lan.send("/gioithieu")
    assert replies[0].text == texts.IN_PROGRESS


async def test_only_the_members_own_waiting_referral_can_be_corrected(
    bot: RunningBot, branch: dict[str, Person], person: Callable[..., Person]
):
    lan, tu, leader = branch["lan"], branch["tu"], branch["leader"]
    mine = await refer(lan, "Lê Văn Bảo", "2005", None, Org.DOAN)
    assert (await lan.send("/sua 99999"))[-1].text == texts.correct_unknown(99999)
    assert (await tu.send(f"/sua {mine}"))[-1].text == texts.correct_unknown(mine)
    assert (await lan.send("/sua abc"))[-1].text == texts.CORRECT_USAGE
    assert (await tu.send("/sua"))[-1].text == texts.CORRECT_NONE
    stranger = person("Lạ")
    assert (await stranger.send(f"/sua {mine}"))[-1].text == texts.NOT_REGISTERED
    # /sua alone offers the member's waiting referrals.
    replies = await lan.send("/sua")
    assert texts.CORRECT_CHOOSE in replies[-1].text
    replies = await lan.press(texts.correct_pick(mine, "Lê Văn Bảo"))
    assert replies[-1].text == which(mine, "Lê Văn Bảo", "2005", None, Org.DOAN)
    await lan.send("/huy")

    # A leader decides while the member is confirming: the confirmation is refused.
    await lan.send(f"/sua {mine}")
    await lan.press(FIELD["full_name"])
    await lan.send("Lê Văn Bình")
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    await leader.press(texts.BTN_TODAY)
    replies = await lan.press(texts.BTN_CONFIRM)
    assert replies[-1].text == texts.correct_refused(mine, "decided")
    assert (await referral(bot, mine))["full_name"] == "Lê Văn Bảo"
    assert await edits(bot, mine) == []
    assert await rows(bot, "SELECT * FROM conversations") == []
    assert (await lan.send(f"/sua {mine}"))[-1].text == texts.correct_refused(mine, "decided")

    # Withdrawn.
    gone = await refer(lan, "Lê Văn Cường", "2006", None, Org.DOAN)
    await lan.send("/cuatoi")
    await lan.press(texts.withdraw_button(gone))
    await lan.press(texts.BTN_WITHDRAW_YES)
    assert (await lan.send(f"/sua {gone}"))[-1].text == texts.correct_refused(gone, "withdrawn")

    # A youth who signed up themselves through the member's invitation: their own words.
    payload = payload_in((await lan.send("/moiban"))[0].text)
    ha = person("Hà")
    await ha.send(f"/start {payload}")
    await ha.press(texts.BTN_AGREE)
    replies = await ha.send("Hà")  # the friend's journey asks for a full name too
    assert replies[0].text == texts.invalid("name_one_word")
    await ha.send("phạm thu hà")
    await ha.send("12/03/2005")
    await ha.share_contact("0912345678")
    await ha.press(texts.BTN_ORG[Org.DOAN])
    own = (await rows(bot, "SELECT id, full_name FROM referrals WHERE self_registered = 1"))[0]
    assert own["full_name"] == "Phạm Thu Hà"
    replies = await lan.send(f"/sua {own['id']}")
    assert replies[-1].text == texts.correct_refused(own["id"], "self")
    replies = await lan.send("/cuatoi")
    labels = [label for row in replies[-1].buttons() for label, _ in row]
    assert texts.withdraw_button(own["id"]) in labels
    assert texts.correct_button(own["id"]) not in labels
    assert await rows(bot, "SELECT * FROM referral_audit WHERE action = 'edit'") == []


async def test_a_leader_never_decides_on_details_corrected_after_the_card(
    bot: RunningBot, branch: dict[str, Person]
):
    """The leader opened "admitted" (or "declined") on the card; the member then corrects the
    name: the decision is not written, and the leader is shown the corrected card."""
    lan, leader = branch["lan"], branch["leader"]
    number = await refer(lan, "Lê Văn Bảo", "2005", None, Org.DOAN)
    await leader.send("/duyet")
    replies = await leader.press(texts.BTN_ADMIT)
    assert replies[-1].text == texts.ask(texts.ask_admission_date(number, "Lê Văn Bảo"))
    await lan.send(f"/sua {number}")
    await lan.press(FIELD["full_name"])
    await lan.send("Hoàng Văn Khác")
    await lan.press(texts.BTN_CONFIRM)
    replies = await leader.press(texts.BTN_TODAY)
    assert replies[0].text == texts.referral_changed(number)
    assert "Hoàng Văn Khác" in replies[-1].text and texts.BTN_ADMIT in str(replies[-1].buttons())
    assert (await referral(bot, number))["status"] == "introduced"
    decisions = await rows(
        bot, "SELECT count(*) AS n FROM referral_audit WHERE action IN ('admit', 'decline')"
    )
    assert decisions == [{"n": 0}]
    # Declining goes the same way: the confirmation after a correction shows the card again.
    await leader.press(texts.BTN_DECLINE)
    await leader.press(texts.BTN_SKIP)
    await lan.send(f"/sua {number}")
    await lan.press(FIELD["full_name"])
    await lan.send("Hoàng Văn Đúng")
    await lan.press(texts.BTN_CONFIRM)
    replies = await leader.press(texts.BTN_DECLINE_YES)
    assert replies[0].text == texts.referral_changed(number)
    assert (await referral(bot, number))["status"] == "introduced"
    # Seen as it is now, the decision goes through.
    await leader.press(texts.BTN_ADMIT)
    await leader.press(texts.BTN_TODAY)
    assert (await referral(bot, number))["status"] == "admitted"


async def test_corrections_are_checked_like_a_referral(bot: RunningBot, branch: dict[str, Person]):
    lan = branch["lan"]
    first = await refer(lan, "Lê Văn Bảo", "2005", None, Org.DOAN)
    await refer(lan, "Lê Văn Cường", "12/03/2005", "0912345678", Org.DOAN)
    # Another youth's name and birth, or phone: refused as a duplicate, naming nobody.
    await lan.send(f"/sua {first}")
    await lan.press(FIELD["full_name"])
    replies = await lan.send("Lê Văn Cường")
    assert replies[-1].text == texts.CORRECT_DUPLICATE
    assert await rows(bot, "SELECT * FROM conversations") == []
    await lan.send(f"/sua {first}")
    await lan.press(FIELD["phone"])
    replies = await lan.send("0912 345 678")
    assert replies[-1].text == texts.CORRECT_DUPLICATE
    assert (await referral(bot, first))["full_name"] == "Lê Văn Bảo"

    # The organisation: the other one only if it admits the youth's age.
    old = await refer(lan, "Hà Văn Đông", "1994", None, Org.HOI)  # 31–32: Hội only
    await lan.send(f"/sua {old}")
    replies = await lan.press(FIELD["org"])
    ages = bot.settings.ages
    assert replies[-2].text == texts.age_outside_org("31–32 tuổi", Org.DOAN, ages)
    assert replies[-1].text == which(old, "Hà Văn Đông", "1994", None, Org.HOI)

    # A birth date that makes the youth a possible child asks for a guardian's consent.
    await lan.send("/huy")
    await lan.send(f"/sua {old}")
    assert (await lan.send("ngày sinh"))[-1].text == ASK_BIRTH  # a label typed: as if pressed
    replies = await lan.send("2011")  # 14–15: Hội, with consent
    assert replies[-1].text == texts.ask(texts.ASK_GUARDIAN)
    replies = await lan.press(texts.BTN_GUARDIAN_NO)
    assert replies[-1].text == texts.CORRECT_GUARDIAN_MISSING
    assert (await referral(bot, old))["birth_year"] == 1994
    await lan.send(f"/sua {old}")
    await lan.press(FIELD["birth"])
    await lan.send("2011")
    await lan.press(texts.BTN_GUARDIAN_YES)
    await lan.press(texts.BTN_CONFIRM)
    saved = await referral(bot, old)
    assert (saved["birth_year"], saved["guardian_consent"]) == (2011, 1)


async def test_a_zalo_member_corrects_by_numbers(
    bot: RunningBot, branch: dict[str, Person], zperson: Callable[..., ZaloPerson]
):
    code = code_in((await branch["leader"].send("/moi"))[-1].text)
    mai = zperson("Mai")
    await mai.send(f"start {code}")
    replies = await mai.send("Mai")
    assert replies[0].text == texts.invalid("name_one_word")
    await mai.send("lê thị MAI")
    await mai.send("doan vien")
    await mai.send("1")  # 1. Bỏ qua
    assert (await rows(bot, "SELECT full_name FROM members WHERE channel = 'zalo'")) == [
        {"full_name": "Lê Thị Mai"}
    ]
    await mai.send("gioithieu")
    await mai.send("Vũ Minh Quân")
    await mai.send("2004")
    await mai.send("1")  # 1. Bỏ qua
    await mai.send("vao doan")
    replies = await mai.send("1")  # 1. Xác nhận
    number = int(replies[-1].text.split("số ")[1].split(":")[0])

    replies = await mai.send(f"sửa {number}")
    assert replies[-1].text.startswith(which(number, "Vũ Minh Quân", "2004", None, Org.DOAN))
    assert [label for _, label in choices_in(replies[-1].text)] == [
        FIELD["full_name"],
        FIELD["birth"],
        FIELD["phone"],
        FIELD["org"],
    ]
    await mai.choose(FIELD["full_name"])
    replies = await mai.send("vũ minh quang")
    assert replies[-1].text.startswith(
        texts.ask(texts.correct_confirm(number, "full_name", "Vũ Minh Quân", "Vũ Minh Quang"))
    )
    replies = await mai.send("huy")
    assert replies[-1].text == texts.CANCELLED
    assert (await referral(bot, number))["full_name"] == "Vũ Minh Quân"

    await mai.send(f"sua {number}")
    replies = await mai.send("5")  # not on the list
    assert replies[0].text == texts.USE_NUMBERS
    await mai.send("dien thoai")  # the label typed without diacritics
    replies = await mai.send("0987 654 321")
    assert (
        texts.ask(texts.correct_confirm(number, "phone", texts.NO_PHONE, "0987654321"))
        in replies[-1].text
    )
    replies = await mai.choose(texts.BTN_CONFIRM)
    assert replies[-1].text == texts.corrected(number, "Vũ Minh Quân")
    assert (await referral(bot, number))["phone"] == "0987654321"
    mai_ref = (await rows(bot, "SELECT user_ref FROM members WHERE channel = 'zalo'"))[0]
    assert [e["actor_ref"] for e in await edits(bot, number)] == [f"zalo:{mai_ref['user_ref']}"]
    # /cuatoi's numbered list offers "Sửa" next to "Rút".
    replies = await mai.send("cuatoi")
    labels = [label for _, label in choices_in(replies[-1].text)]
    assert labels == [texts.withdraw_button(number), texts.correct_button(number)]
