"""A youth signs up through a member's own invitation, with their own consent: link on
Telegram, code on Zalo; consent refused or a child without a guardian's agreement stores
nothing; duplicates name nobody; a renewed invitation kills the old one."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import texts
from bot.settings import Settings
from storage.validation import Org
from tests.conftest import ADMIN_ID
from tests.fakebotapi import FakeBotApi
from tests.fakezalo import FakeZaloApi
from tests.harness import Person, RunningBot, ZaloPerson, code_in, make_settings, payload_in, rows

_ids = iter(range(500, 10_000))


@pytest.fixture
def settings(api: FakeBotApi, zalo: FakeZaloApi, db_path: Path) -> Settings:
    return make_settings(api, db_path, zalo, admin_ids=[ADMIN_ID])


async def _invitation(member: Person) -> tuple[str, str]:
    replies = await member.send("/moiban")
    return payload_in(replies[0].text), code_in(replies[0].text)


async def test_a_friend_signs_up_by_the_members_link_with_consent(
    bot: RunningBot, branch: dict[str, Person], person: Callable[..., Person]
):
    lan = branch["lan"]
    payload, _ = await _invitation(lan)
    assert lan.last_text.startswith("Mình là Trần Thị Lan")  # ready to forward
    ha = person("Hà")
    replies = await ha.send(f"/start {payload}")
    assert texts.friend_intro("Trần Thị Lan", "Chi đoàn thôn Tân Lập") in replies[-1].text
    assert texts.FRIEND_PRIVACY in replies[-1].text
    await ha.press(texts.BTN_AGREE)
    await ha.send("Phạm Thu Hà")
    await ha.send("12/03/2005")
    await ha.share_contact("0912345678")
    replies = await ha.press(texts.BTN_ORG[Org.DOAN])
    assert replies[-1].text == texts.friend_saved("Trần Thị Lan")
    assert lan.last_text == texts.friend_signed_up("Phạm Thu Hà")
    saved = await rows(
        bot,
        """SELECT r.full_name, r.phone, r.self_registered, r.consent_at IS NOT NULL AS agreed,
                  m.full_name AS member FROM referrals r JOIN members m ON m.id = r.member_id""",
    )
    assert saved == [
        {
            "full_name": "Phạm Thu Hà",
            "phone": "0912345678",
            "self_registered": 1,
            "agreed": 1,
            "member": "Trần Thị Lan",
        }
    ]
    # The same youth again, by another member's invitation: refused, naming nobody.
    payload_tu, _ = await _invitation(branch["tu"])
    again = person("Hà 2")
    await again.send(f"/start {payload_tu}")
    await again.press(texts.BTN_AGREE)
    await again.send("Phạm Thu Hà")
    replies = await again.send("12/03/2005")
    assert replies[-1].text == texts.FRIEND_DUPLICATE


async def test_consent_refused_or_a_child_without_a_guardian_stores_nothing(
    bot: RunningBot, branch: dict[str, Person], person: Callable[..., Person]
):
    payload, _ = await _invitation(branch["lan"])
    no = person("Không")
    await no.send(f"/start {payload}")
    assert (await no.press(texts.BTN_DISAGREE))[-1].text == texts.FRIEND_NOTHING_STORED
    child = person("Nhỏ")
    await child.send(f"/start {payload}")
    await child.press(texts.BTN_AGREE)
    await child.send("Lê Minh Khôi")
    await child.send("2011")  # 14–15: Hội only, with a guardian's agreement
    await child.send(texts.BTN_SKIP)  # the phone keyboard's button sends its text
    replies = await child.press(texts.BTN_ORG[Org.HOI])
    assert replies[-1].text.startswith(texts.ask(texts.FRIEND_ASK_GUARDIAN))
    assert (await child.press(texts.BTN_GUARDIAN_NO))[-1].text == texts.FRIEND_NOTHING_STORED
    assert await rows(bot, "SELECT * FROM referrals") == []
    assert await rows(bot, "SELECT * FROM conversations") == []


async def test_on_zalo_by_code_and_a_renewed_invitation_kills_the_old(
    bot: RunningBot, branch: dict[str, Person], zperson: Callable[..., ZaloPerson]
):
    lan = branch["lan"]
    _, code = await _invitation(lan)
    nam = zperson("Nam")
    replies = await nam.send(f"start {code}")
    assert texts.FRIEND_PRIVACY in replies[-1].text
    await nam.send("1")  # Đồng ý
    await nam.send("Đỗ Văn Nam")
    await nam.send("2003")
    await nam.send("1")  # Bỏ qua
    replies = await nam.send("vao hoi")
    assert replies[-1].text == texts.friend_saved("Trần Thị Lan")
    assert lan.last_text == texts.friend_signed_up("Đỗ Văn Nam")
    youth = await rows(bot, "SELECT youth_channel, youth_ref, org FROM referrals")
    assert youth == [{"youth_channel": "zalo", "youth_ref": nam.user_id, "org": "hoi"}]
    # Renewed: the old code and link are refused.
    replies = await lan.send("/moiban moi")
    assert code_in(replies[0].text) != code
    late = zperson("Muộn")
    assert (await late.send(f"start {code}"))[0].text == texts.INVITE_INVALID
    assert re.search(r"start=r_\d+_", replies[0].text)


async def test_leaders_see_a_self_registration_marked(
    bot: RunningBot, branch: dict[str, Person], person: Callable[..., Person]
):
    payload, _ = await _invitation(branch["lan"])
    ha = person("Hà")
    await ha.send(f"/start {payload}")
    await ha.press(texts.BTN_AGREE)
    await ha.send("Phạm Thu Hà")
    await ha.send("2005")
    await ha.send(texts.BTN_SKIP)
    await ha.press(texts.BTN_ORG[Org.DOAN])
    card = (await branch["leader"].send("/duyet"))[-1].text
    assert "Phạm Thu Hà" in card and "tự đăng ký qua lời mời" in card


async def test_the_youth_erases_their_own_data_and_the_member_is_told_only_that(
    bot: RunningBot, branch: dict[str, Person], person: Callable[..., Person]
):
    lan = branch["lan"]
    payload, _ = await _invitation(lan)
    ha = person("Hà")
    await ha.send(f"/start {payload}")
    await ha.press(texts.BTN_AGREE)
    await ha.send("Phạm Thu Hà")
    await ha.send("2005")
    await ha.send("0912 345 678")
    await ha.press(texts.BTN_ORG[Org.DOAN])
    number = (await rows(bot, "SELECT id FROM referrals"))[0]["id"]
    assert (await ha.send("/xoadulieu"))[-1].text == texts.CONFIRM_ERASE_YOUTH
    replies = await ha.press(texts.BTN_ERASE_YES)
    assert replies == [] or texts.ERASED_YOUTH in ha.last_text
    assert await rows(bot, "SELECT * FROM referrals") == []
    assert lan.last_text == texts.friend_withdrew(number)
    assert "Phạm" not in lan.last_text
    data = bot.settings.database_path.read_bytes()
    assert "Phạm Thu Hà".encode() not in data and b"0912345678" not in data
