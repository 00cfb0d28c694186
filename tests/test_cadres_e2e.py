"""Cadres (issue 9, item 6): an admin or a leader may register at a unit that has units below it
(a commune's Đoàn xã, the province), not only at a branch; a member counts in the subtree of
the unit they registered in. End to end on Telegram (buttons) and Zalo (numbered lines)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
    appoint_link,
    choices_in,
    join,
    make_settings,
    refer,
    rows,
)

ZALO_ADMIN = "c0c0c0c0c0c0c0c0c0c0"
COMMUNE = ["Tỉnh đoàn Mẫu", "Đoàn xã An Bình"]
_ids = iter(range(1, 10_000))


@pytest.fixture
def settings(api: FakeBotApi, zalo: FakeZaloApi, db_path: Path) -> Settings:
    return make_settings(api, db_path, zalo, admin_ids=[ADMIN_ID, f"zalo:{ZALO_ADMIN}"])


def labels(p: Person) -> list[str]:
    """The buttons of the person's newest message (the tree question, edited in place)."""
    return [text for row in p.last.buttons() for text, _ in row]


async def unit_id(bot: RunningBot, code: str) -> int:
    return (await rows(bot, "SELECT id FROM units WHERE code = ?", code))[0]["id"]


async def member_row(bot: RunningBot, full_name: str) -> dict:
    found = await rows(bot, "SELECT id, unit_id FROM members WHERE full_name = ?", full_name)
    assert len(found) == 1, found
    return found[0]


async def finish(p: Person, name: str) -> str:
    await p.send(name)
    await p.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    return (await p.send(texts.BTN_SKIP))[0].text


# --- choosing a unit with children in the tree ---------------------------------------------------


async def test_an_admin_registers_at_the_commune_from_the_tree(
    bot: RunningBot, admin: Person, person: Callable[..., Person]
) -> None:
    await admin.send("/start")
    assert not [x for x in labels(admin) if x.startswith("Ghi danh tại")]  # the roots: none
    await admin.press("Tỉnh đoàn Mẫu")
    assert labels(admin)[0] == texts.register_here("Tỉnh đoàn Mẫu")
    await admin.press("Đoàn xã An Bình")
    assert labels(admin)[0] == texts.register_here("Đoàn xã An Bình")
    assert "Chi đoàn thôn Tân Lập" in labels(admin)  # the branches are still there
    replies = await admin.press(texts.register_here("Đoàn xã An Bình"))
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_NAME)
    done = await finish(admin, "Phan Văn Quản")
    assert done == texts.registered("Phan Văn Quản", "Đoàn xã An Bình")
    assert (await member_row(bot, "Phan Văn Quản"))["unit_id"] == await unit_id(bot, "X-AN-BINH")

    # Anyone else sees the tree as before, and a forged pick of the commune does nothing.
    lan = person("Lan")
    await lan.send("/start")
    await lan.press("Tỉnh đoàn Mẫu")
    await lan.press("Đoàn xã An Bình")
    assert not [x for x in labels(lan) if x.startswith("Ghi danh tại")]
    message, data = lan.find_button("Chi đoàn thôn Tân Lập")
    forged = data.rsplit(":", 1)[0] + f":s{await unit_id(bot, 'X-AN-BINH')}"
    replies = await lan.press_data(message.message_id, forged)
    assert replies[0].text == texts.USE_BUTTONS
    replies = await lan.press("Chi đoàn thôn Tân Lập")  # a branch still works
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_NAME)
    assert await rows(bot, "SELECT id FROM members WHERE full_name = 'Trần Thị Lan'") == []


async def test_a_zalo_admin_registers_at_the_province_by_numbers(
    bot: RunningBot, zperson: Callable[..., ZaloPerson]
) -> None:
    ted = zperson("Tỉnh", ZALO_ADMIN)
    replies = await ted.send("start")
    assert not [x for _, x in choices_in(replies[-1].text) if x.startswith("Ghi danh tại")]
    replies = await ted.choose("Tỉnh đoàn Mẫu")
    shown = [label for _, label in choices_in(replies[-1].text)]
    assert shown[0] == texts.register_here("Tỉnh đoàn Mẫu")
    assert "📂 Đoàn xã An Bình" in shown
    replies = await ted.choose(texts.register_here("Tỉnh đoàn Mẫu"))
    assert replies[-1].text == texts.ask(texts.ASK_MEMBER_NAME)
    await ted.send("Phan Văn Tỉnh")
    await ted.send("doan vien")
    replies = await ted.send("1")  # 1. Bỏ qua
    assert replies[-1].text == texts.registered("Phan Văn Tỉnh", "Tỉnh đoàn Mẫu")
    assert (await member_row(bot, "Phan Văn Tỉnh"))["unit_id"] == await unit_id(bot, "TD-MAU")

    # A newcomer who is no cadre gets only the branches.
    hoa = zperson("Hoa")
    await hoa.send("start")
    replies = await hoa.choose("Tỉnh đoàn Mẫu")
    assert not [x for _, x in choices_in(replies[-1].text) if x.startswith("Ghi danh tại")]
    replies = await hoa.send("ghi danh tai tinh doan mau")  # typed: a search, finds no branch
    assert replies[0].text == texts.SEARCH_NONE
    assert await rows(bot, "SELECT full_name FROM members") == [{"full_name": "Phan Văn Tỉnh"}]


# --- an appointment link for a commune, and what the commune's figures count -------------------


async def test_commune_cadres_count_in_the_commune(
    bot: RunningBot, admin: Person, person: Callable[..., Person]
) -> None:
    commune = await unit_id(bot, "X-AN-BINH")
    cadres = {}
    for key, name in (("xa", "Nguyễn Văn Xã"), ("pho", "Lê Thị Phó")):
        payload = await appoint_link(admin, COMMUNE)
        p = person(name.split()[-1])
        replies = await p.send(f"/start {payload}")
        assert replies[0].text == texts.grant_welcome("leader", "Đoàn xã An Bình")
        await p.send(name)
        await p.press(texts.BTN_MEMBERSHIP[Org.DOAN])
        replies = await p.send(texts.BTN_SKIP)
        assert replies[0].text == texts.registered(name, "Đoàn xã An Bình")
        assert texts.grant_received("leader", "Đoàn xã An Bình") in [r.text for r in replies]
        cadres[key] = p
        row = await member_row(bot, name)
        assert row["unit_id"] == commune  # registered at the commune itself, not a branch
        held = await rows(bot, "SELECT unit_id, role FROM roles WHERE member_id = ?", row["id"])
        assert held == [{"unit_id": commune, "role": "leader"}]
    lan = person("Lan")
    await join(lan, "CD-AB-THON1", "Trần Thị Lan")
    own = await refer(cadres["xa"], "Vi Thị Hồng Nhung", "12/05/2005", None, Org.DOAN)
    other = await refer(lan, "Hà Văn Khánh", "2004", None, Org.DOAN)
    found = await rows(bot, "SELECT id, unit_id FROM referrals ORDER BY id")
    branch = await unit_id(bot, "CD-AB-THON1")
    assert found == [{"id": own, "unit_id": commune}, {"id": other, "unit_id": branch}]

    # The other commune leader admits the cadre's referral (nobody decides their own).
    card = (await cadres["pho"].send("/duyet"))[-1].text
    assert f"Số {own}" in card
    await cadres["pho"].press(texts.BTN_ADMIT)
    await cadres["pho"].press(texts.BTN_TODAY)
    status = await rows(bot, "SELECT status FROM referrals WHERE id = ?", own)
    assert status == [{"status": "admitted"}]

    def stats_lines(text: str) -> list[str]:
        return text.split("\n")

    for code in ("X-AN-BINH", "TD-MAU"):
        lines = stats_lines((await admin.send(f"/stats 2026 {code}"))[0].text)
        assert any(x.startswith("Đoàn viên, hội viên: 3 · đạt 1+1: 1 ") for x in lines), lines
        assert "Giới thiệu: 2 · vào Đoàn: 1 · vào Hội: 0" in lines, lines
        assert "Không kết nạp: 0 · chờ xét: 1" in lines, lines
    lines = stats_lines((await admin.send("/stats 2026 CD-AB-THON1"))[0].text)
    assert any(x.startswith("Đoàn viên, hội viên: 1 · đạt 1+1: 0 ") for x in lines), lines
    assert "Giới thiệu: 1 · vào Đoàn: 0 · vào Hội: 0" in lines, lines

    picture = (await cadres["pho"].send("/donvi X-AN-BINH"))[-1].text.split("\n")
    assert picture[0] == "Đoàn xã An Bình – năm 2026"
    assert picture[1].startswith("Đoàn viên, hội viên: 3 · đạt 1+1: 1 "), picture
    assert "Giới thiệu: 2 · kết nạp: 1 · không kết nạp: 0 · chờ xét: 1" in picture
    replies = await cadres["pho"].press(texts.BTN_MET)
    assert replies[-1].text.endswith("Đã đạt 1+1 (1): Nguyễn Văn Xã")


async def test_a_cadre_choice_is_checked_again_when_registering(
    bot: RunningBot, admin: Person
) -> None:
    """The admin chose the commune, then lost the role (ADMIN_IDS changed, the bot restarted,
    the conversation kept): nothing is registered there; they choose their own unit."""
    await admin.send("/start")
    await admin.press("Tỉnh đoàn Mẫu")
    await admin.press("Đoàn xã An Bình")
    await admin.press(texts.register_here("Đoàn xã An Bình"))
    await admin.send("Phan Văn Quản")
    await bot.stop()
    bot.settings = bot.settings.model_copy(update={"admin_ids": []})
    await bot.start()
    await admin.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    replies = await admin.send(texts.BTN_SKIP)
    assert replies[0].text == f"{texts.CADRE_NO_LONGER}\n{texts.CHOOSE_OWN_UNIT}"
    assert await rows(bot, "SELECT id FROM members") == []
    assert texts.CHOOSE_ROOT in replies[-1].text
