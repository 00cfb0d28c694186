"""Moving (issue 9, item 8): a registered member who opens another unit's invite is offered to
move there. Only on confirmation, one transaction moves them: from the day of the move they
count in the new unit, and nothing changes in a period that ended before it; their referrals,
waiting ones included, stay with the unit where they were introduced (its leaders decide them,
its figures keep them and the member's 1+1 of them), an audit row records the move and the old
unit's leaders are told. End to end on Telegram (buttons) and Zalo (a typed code, numbered
choices)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot import texts
from bot.settings import Settings
from storage import counters, referrals, stats
from storage.clock import ManualClock
from storage.periods import Period
from storage.referrals import Decision
from storage.validation import Org
from tests.conftest import ADMIN_ID, NOW
from tests.fakebotapi import FakeBotApi
from tests.fakezalo import FakeZaloApi
from tests.harness import (
    TAN_LAP,
    Person,
    RunningBot,
    ZaloPerson,
    appoint_link,
    appointed,
    choices_in,
    code_in,
    make_settings,
    payload_in,
    refer,
    rows,
)

OLD, NEW = "Chi đoàn thôn Tân Lập", "Chi đoàn thôn Phú Hòa"
PHU_HOA = ["Tỉnh đoàn Mẫu", "Đoàn xã An Bình", NEW]
LAN = "Trần Thị Lan"
_ids = iter(range(1, 10_000))


@pytest.fixture
def settings(api: FakeBotApi, zalo: FakeZaloApi, db_path: Path) -> Settings:
    return make_settings(api, db_path, zalo, admin_ids=[ADMIN_ID])


@pytest.fixture
async def phu_hoa(admin: Person, person: Callable[..., Person]) -> Person:
    """An appointed leader of Chi đoàn thôn Phú Hòa."""
    leader = await appointed(admin, person("Phú"), PHU_HOA, "Đỗ Văn Phú")
    return leader


async def ids(bot: RunningBot) -> dict[str, int]:
    return {r["code"]: r["id"] for r in await rows(bot, "SELECT code, id FROM units")}


async def snapshot(bot: RunningBot) -> dict[str, Any]:
    """Every row a move could change."""
    return {
        table: await rows(bot, f"SELECT * FROM {table} ORDER BY 1, 2, 3")
        for table in ("members", "referrals", "unit_stats", "member_moves", "roles")
    }


async def consistent(bot: RunningBot) -> None:
    async with bot.deps.db.read() as conn:
        assert await counters.differences(conn) == []


def stats_lines(text: str) -> list[str]:
    return text.split("\n")


def offer(old: str = OLD, new: str = NEW, pending: int = 0, kept: list[str] | None = None):
    return texts.ask(texts.move_offer(old, new, pending, kept or []))


async def test_a_member_moves_to_another_branch_and_their_referrals_stay(
    bot: RunningBot,
    branch: dict[str, Person],
    phu_hoa: Person,
    admin: Person,
) -> None:
    leader, lan = branch["leader"], branch["lan"]
    unit = await ids(bot)
    admitted = await refer(lan, "Vi Thị Hồng Nhung", "12/05/2005", None, Org.DOAN)
    declined = await refer(lan, "Hà Văn Khánh", "2004", None, Org.DOAN)
    pending = await refer(lan, "Lò Thị Mai", "2006", None, Org.HOI)
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    await leader.press(texts.BTN_TODAY)
    hung = await rows(bot, "SELECT id FROM members WHERE full_name = 'Nguyễn Văn Hùng'")
    deps = bot.deps
    await referrals.change_status(
        deps.db, declined, Decision.DECLINE, hung[0]["id"], deps.clock, tz=deps.settings.tz
    )
    decided = await rows(bot, "SELECT id, status FROM referrals ORDER BY id")
    assert [r["status"] for r in decided] == ["admitted", "declined", "introduced"]
    invite = payload_in((await phu_hoa.send("/moi"))[-1].text)
    before = await snapshot(bot)

    # "Ở lại": nothing changes.
    replies = await lan.send(f"/start {invite}")
    assert replies[-1].text == offer(pending=1)
    assert replies[-1].text.split("\n")[0] == f"Đồng chí đang ở {OLD}. Chuyển sang {NEW}?"
    assert [x for row in replies[-1].buttons() for x, _ in row] == [
        texts.move_button(NEW),
        texts.stay_button(OLD),
    ]
    replies = await lan.press(texts.stay_button(OLD))
    assert replies[-1].text == texts.stayed(OLD)
    assert await snapshot(bot) == before
    # /huy: nothing changes either, and the old offer's button is dead.
    await lan.send(f"/start {invite}")
    message, data = lan.find_button(texts.move_button(NEW))
    assert (await lan.send("/huy"))[-1].text == texts.CANCELLED
    await lan.press_data(message.message_id, data)
    assert lan.last_answer is not None and lan.last_answer.get("text") == texts.STALE_BUTTON
    assert await snapshot(bot) == before

    # Confirmed: one move.
    seen, seen_phu = len(leader.inbox()), len(phu_hoa.inbox())
    await lan.send(f"/start {invite}")
    replies = await lan.press(texts.move_button(NEW))
    assert replies[-1].text == texts.moved(NEW)
    lan_row = (await rows(bot, "SELECT id, unit_id FROM members WHERE full_name = ?", LAN))[0]
    assert lan_row["unit_id"] == unit["CD-AB-THON2"]
    # Every referral stays where it was introduced, the waiting one too: Tân Lập decides it.
    assert await rows(bot, "SELECT id, unit_id FROM referrals ORDER BY id") == [
        {"id": admitted, "unit_id": unit["CD-AB-THON1"]},
        {"id": declined, "unit_id": unit["CD-AB-THON1"]},
        {"id": pending, "unit_id": unit["CD-AB-THON1"]},
    ]
    moves = await rows(
        bot, "SELECT member_id, from_unit_id, to_unit_id, at, moved_on, actor_ref "
        "FROM member_moves"
    )  # fmt: skip
    assert moves == [
        {
            "member_id": lan_row["id"],
            "from_unit_id": unit["CD-AB-THON1"],
            "to_unit_id": unit["CD-AB-THON2"],
            "at": NOW.isoformat(),
            "moved_on": "2026-11-26",  # the local date
            "actor_ref": f"telegram:{lan.user.id}",
        }
    ]
    assert [m.text for m in leader.inbox()[seen:]] == [texts.member_moved(LAN, NEW, 1)]
    # The new unit's leader is not told about referrals: none came.
    assert len(phu_hoa.inbox()) == seen_phu
    await consistent(bot)

    # She counts in Phú Hòa now; Tân Lập keeps her referrals, their decisions and her 1+1.
    old = stats_lines((await admin.send("/stats 2026 CD-AB-THON1"))[0].text)
    assert any(x.startswith("Đoàn viên, hội viên: 2 · đạt 1+1: 1 ") for x in old), old
    assert "Giới thiệu: 3 · vào Đoàn: 1 · vào Hội: 0" in old, old
    assert "Không kết nạp: 1 · chờ xét: 1" in old, old
    new = stats_lines((await admin.send("/stats 2026 CD-AB-THON2"))[0].text)
    assert any(x.startswith("Đoàn viên, hội viên: 2 · đạt 1+1: 0 ") for x in new), new
    assert "Giới thiệu: 0 · vào Đoàn: 0 · vào Hội: 0" in new, new
    assert "Không kết nạp: 0 · chờ xét: 0" in new, new
    commune = stats_lines((await admin.send("/stats 2026 X-AN-BINH"))[0].text)
    assert any(x.startswith("Đoàn viên, hội viên: 4 · đạt 1+1: 1 ") for x in commune), commune
    assert "Giới thiệu: 3 · vào Đoàn: 1 · vào Hội: 0" in commune, commune
    assert "Không kết nạp: 1 · chờ xét: 1" in commune, commune

    # Her own list still shows all three; the waiting one is in Tân Lập's queue only.
    mine = (await lan.send("/cuatoi"))[-1].text
    assert all(f"Số {n}:" in mine for n in (admitted, declined, pending)), mine
    assert f"Số {pending}" not in (await phu_hoa.send("/duyet"))[-1].text
    assert f"Số {pending}" in (await leader.send("/duyet"))[-1].text

    # Opening the invite of the unit she is in now just greets her.
    replies = await lan.send(f"/start {invite}")
    assert replies[-1].text == texts.greeting(LAN, NEW)
    assert len(await rows(bot, "SELECT id FROM member_moves")) == 1


async def test_a_leader_who_moves_is_told_their_role_stays(
    bot: RunningBot,
    branch: dict[str, Person],
    phu_hoa: Person,
    admin: Person,
    person: Callable[..., Person],
) -> None:
    leader, tu = branch["leader"], branch["tu"]
    xa = await appointed(admin, person("Xã"), TAN_LAP[:2], "Nguyễn Văn Xã")
    invite = payload_in((await phu_hoa.send("/moi"))[-1].text)
    replies = await leader.send(f"/start {invite}")
    kept = [f"{texts.role_title('leader', Org.DOAN)} {OLD}"]
    assert replies[-1].text == offer(kept=kept)
    seen, seen_xa = len(tu.inbox()), len(xa.inbox())
    await leader.press(texts.move_button(NEW))
    unit = await ids(bot)
    hung = (await rows(bot, "SELECT id, unit_id FROM members WHERE full_name = 'Nguyễn Văn Hùng'"))[
        0
    ]
    assert hung["unit_id"] == unit["CD-AB-THON2"]
    # Roles stay tied to their unit: still the old branch's leader until an admin removes it.
    held = await rows(bot, "SELECT unit_id, role FROM roles WHERE member_id = ?", hung["id"])
    assert held == [{"unit_id": unit["CD-AB-THON1"], "role": "leader"}]
    assert len(tu.inbox()) == seen  # a plain member of the old branch is not told
    # The old branch has no other leader: the commune's leader is told.
    assert [m.text for m in xa.inbox()[seen_xa:]] == [texts.member_moved("Nguyễn Văn Hùng", NEW)]
    await consistent(bot)


async def test_a_zalo_member_moves_by_typing_the_code(
    bot: RunningBot,
    branch: dict[str, Person],
    phu_hoa: Person,
    zperson: Callable[..., ZaloPerson],
) -> None:
    leader = branch["leader"]
    old_code = code_in((await leader.send("/moi"))[-1].text)
    new_code = code_in((await phu_hoa.send("/moi"))[-1].text)
    mai = zperson("Mai")
    await mai.send(f"start {old_code}")
    await mai.send("Lò Thị Mai")
    await mai.send("doan vien")
    replies = await mai.send("1")  # 1. Bỏ qua
    assert replies[-1].text.startswith("Đã ghi danh")
    before = await snapshot(bot)

    replies = await mai.send(f"start {new_code}")
    assert replies[-1].text.startswith(offer())
    assert [x for _, x in choices_in(replies[-1].text)] == [
        texts.move_button(NEW),
        texts.stay_button(OLD),
    ]
    replies = await mai.send("2")
    assert replies[-1].text == texts.stayed(OLD)
    await mai.send(f"start {new_code}")
    assert (await mai.send("huy"))[-1].text == texts.CANCELLED
    replies = await mai.send("1")  # the list is gone with the question: no move
    assert await snapshot(bot) == before

    seen = len(leader.inbox())
    await mai.send(f"start {new_code.replace('-', '').lower()}")
    replies = await mai.send("1")
    assert replies[-1].text == texts.moved(NEW)
    unit = await ids(bot)
    found = await rows(bot, "SELECT id, unit_id FROM members WHERE channel = 'zalo'")
    assert [r["unit_id"] for r in found] == [unit["CD-AB-THON2"]]
    moves = await rows(
        bot, "SELECT member_id, from_unit_id, to_unit_id, actor_ref FROM member_moves"
    )
    assert moves == [
        {
            "member_id": found[0]["id"],
            "from_unit_id": unit["CD-AB-THON1"],
            "to_unit_id": unit["CD-AB-THON2"],
            "actor_ref": f"zalo:{mai.user_id}",
        }
    ]
    assert [m.text for m in leader.inbox()[seen:]] == [texts.member_moved("Lò Thị Mai", NEW)]
    replies = await mai.send(f"start {new_code}")
    assert replies[-1].text.startswith(f"Chào đồng chí Lò Thị Mai ({NEW})")
    await consistent(bot)


async def test_a_moved_member_who_erases_leaves_no_move_behind(
    bot: RunningBot, branch: dict[str, Person], phu_hoa: Person
) -> None:
    lan = branch["lan"]
    invite = payload_in((await phu_hoa.send("/moi"))[-1].text)
    await lan.send(f"/start {invite}")
    await lan.press(texts.move_button(NEW))
    assert len(await rows(bot, "SELECT id FROM member_moves")) == 1
    await lan.send("/xoadulieu")
    await lan.press(texts.BTN_ERASE_YES)
    assert await rows(bot, "SELECT id FROM member_moves") == []
    await consistent(bot)


async def test_a_cadre_moves_from_a_branch_to_the_commune(
    bot: RunningBot, branch: dict[str, Person], admin: Person, person: Callable[..., Person]
) -> None:
    """A commune's invite opened by a branch member moves them to the commune itself."""
    xa = await appointed(admin, person("Xã"), TAN_LAP[:2], "Nguyễn Văn Xã")
    invite = payload_in((await xa.send("/moi X-AN-BINH"))[-1].text)
    tu = branch["tu"]
    number = await refer(tu, "Hà Văn Khánh", "2004", None, Org.DOAN)
    replies = await tu.send(f"/start {invite}")
    assert replies[-1].text == offer(new="Đoàn xã An Bình", pending=1)
    await tu.press(texts.move_button("Đoàn xã An Bình"))
    unit = await ids(bot)
    assert (await rows(bot, "SELECT unit_id FROM members WHERE full_name = 'Mai Văn Tú'")) == [
        {"unit_id": unit["X-AN-BINH"]}
    ]
    assert await rows(bot, "SELECT unit_id FROM referrals WHERE id = ?", number) == [
        {"unit_id": unit["CD-AB-THON1"]}  # waiting where it was introduced
    ]
    await consistent(bot)


async def test_an_invite_renewed_before_the_confirmation_moves_nobody(
    bot: RunningBot, branch: dict[str, Person], phu_hoa: Person
) -> None:
    """The link leaked and was renewed: an offer opened with it before cannot be confirmed."""
    lan = branch["lan"]
    invite = payload_in((await phu_hoa.send("/moi"))[-1].text)
    replies = await lan.send(f"/start {invite}")
    assert replies[-1].text == offer()
    await phu_hoa.send("/moi moi")
    await phu_hoa.press(texts.BTN_RENEW_YES)
    before = await snapshot(bot)
    replies = await lan.press(texts.move_button(NEW))
    assert replies[-1].text == texts.MOVE_OUTDATED
    assert await snapshot(bot) == before
    assert await rows(bot, "SELECT count(*) AS n FROM member_moves") == [{"n": 0}]
    # The renewed link still offers the move, and it goes through.
    renewed = payload_in(phu_hoa.inbox()[-1].text)
    await lan.send(f"/start {renewed}")
    replies = await lan.press(texts.move_button(NEW))
    assert replies[-1].text == texts.moved(NEW)
    await consistent(bot)


def _period_counts(figures: stats.Figures | None) -> tuple[int, ...]:
    assert figures is not None
    f = figures
    return (f.members, f.met, f.introduced, f.admitted_doan, f.admitted_hoi, f.declined, f.pending)


async def test_a_move_changes_nothing_in_a_period_that_ended_before_it(
    bot: RunningBot, clock: ManualClock, admin: Person, person: Callable[..., Person]
) -> None:
    """Registered, referring and admitted in Q1; moved in November: Q1 reads the same before
    and after the move, for both branches and the commune. The member is in the new branch
    from the day of the move, and has left the old one that day."""
    clock.set(datetime(2026, 2, 10, 2, 0, tzinfo=UTC))  # 10 February, 09:00 in Hà Nội
    payload = await appoint_link(admin, TAN_LAP)
    leader = person("Hùng")
    await leader.send(f"/start {payload}")
    await leader.send("Nguyễn Văn Hùng")
    await leader.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    await leader.send(texts.BTN_SKIP)
    invite = payload_in((await leader.send("/moi"))[-1].text)
    lan = person("Lan")
    await lan.send(f"/start {invite}")
    await lan.send(LAN)
    await lan.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    await lan.send(texts.BTN_SKIP)
    await refer(lan, "Vi Thị Hồng Nhung", "12/05/2005", None, Org.DOAN)
    waiting = await refer(lan, "Lò Thị Mai", "2006", None, Org.DOAN)
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    await leader.press(texts.BTN_TODAY)  # admitted on 10 February

    clock.set(NOW)  # November
    phu = await appointed(admin, person("Phú"), PHU_HOA, "Đỗ Văn Phú")
    unit = await ids(bot)
    db, q1, q4 = bot.deps.db, Period(2026, "Q1"), Period(2026, "Q4")
    codes = ("CD-AB-THON1", "CD-AB-THON2", "X-AN-BINH")

    async def counts(period: Period) -> dict[str, tuple[int, ...]]:
        return {c: _period_counts(await stats.figures(db, unit[c], period)) for c in codes}

    # (members, met, introduced, admitted Đoàn, admitted Hội, declined, pending)
    before = await counts(q1)
    assert before == {
        "CD-AB-THON1": (2, 1, 2, 1, 0, 0, 1),
        "CD-AB-THON2": (0, 0, 0, 0, 0, 0, 0),
        "X-AN-BINH": (2, 1, 2, 1, 0, 0, 1),
    }
    commune_q1 = (await admin.send("/stats 2026-Q1 X-AN-BINH"))[0].text
    old_q1 = stats_lines((await admin.send("/stats 2026-Q1 CD-AB-THON1"))[0].text)
    assert any(x.startswith("Đoàn viên, hội viên: 2 · đạt 1+1: 1 ") for x in old_q1), old_q1
    assert "Không kết nạp: 0 · chờ xét: 1" in old_q1, old_q1

    invite = payload_in((await phu.send("/moi"))[-1].text)
    replies = await lan.send(f"/start {invite}")
    assert replies[-1].text == offer(pending=1)
    await lan.press(texts.move_button(NEW))
    await consistent(bot)

    # Q1 ended before the move: nothing in it changed, for either branch or the commune.
    assert await counts(q1) == before
    again = (await admin.send("/stats 2026-Q1 X-AN-BINH"))[0].text
    # All but the branches' "admitted/target" lines: the year's default target (1+1 per member,
    # and 2026 is not over) follows who is in each branch now; the commune's does not change.
    assert [x for x in again.split("\n") if not x[:1].isdigit()] == [
        x for x in commune_q1.split("\n") if not x[:1].isdigit()
    ]
    assert "Kết nạp/chỉ tiêu: 1/3 (33%)" in again, again
    after = stats_lines((await admin.send("/stats 2026-Q1 CD-AB-THON1"))[0].text)
    assert [x for x in after if x.startswith("Đoàn viên")] == [
        x for x in old_q1 if x.startswith("Đoàn viên")
    ]
    assert "Không kết nạp: 0 · chờ xét: 1" in after, after
    # Q4, the move's quarter: she left Tân Lập and is in Phú Hòa; her referrals stay behind.
    assert await counts(q4) == {
        "CD-AB-THON1": (1, 0, 0, 0, 0, 0, 1),
        "CD-AB-THON2": (2, 0, 0, 0, 0, 0, 0),
        "X-AN-BINH": (3, 0, 0, 0, 0, 0, 1),
    }
    held = await rows(
        bot,
        """SELECT unit_id, bucket, metric, value FROM unit_stats
           WHERE metric IN ('joined', 'left') AND bucket = '2026-Q4' ORDER BY unit_id, metric""",
    )
    branches = (unit["CD-AB-THON1"], unit["CD-AB-THON2"])
    assert {(r["unit_id"], r["metric"]): r["value"] for r in held if r["unit_id"] in branches} == {
        (unit["CD-AB-THON1"], "left"): 1,
        (unit["CD-AB-THON2"], "joined"): 2,  # Phú registered, Lan arrived
    }
    # The waiting referral is still Tân Lập's to decide; the admission there counts there.
    assert f"Số {waiting}" in (await leader.send("/duyet"))[-1].text
    await leader.press(texts.BTN_ADMIT)
    await leader.press(texts.BTN_TODAY)
    await consistent(bot)
    q4_now = await counts(q4)
    assert q4_now["CD-AB-THON1"] == (1, 1, 0, 1, 0, 0, 0)
    assert q4_now["CD-AB-THON2"] == (2, 0, 0, 0, 0, 0, 0)
    assert q4_now["X-AN-BINH"] == (3, 1, 0, 1, 0, 0, 0)
    assert await counts(q1) == before  # still waiting at the end of Q1


KP3 = "Chi đoàn khu phố 3"


async def moves_sheet(bot: RunningBot, admin: Person, command: str) -> list[tuple[Any, ...]]:
    """The "Chuyển sinh hoạt" sheet of the workbook that `command` exports, row by row."""
    assert (await admin.send(command))[-1].text == texts.HEAVY_STARTED
    await bot.background()
    document = admin.last
    assert document.kind == "document" and document.file is not None
    book = load_workbook(io.BytesIO(document.file))
    assert book.sheetnames[-1] == texts.SHEET_MOVES
    sheet = book[texts.SHEET_MOVES]
    assert [c.value for c in sheet[2]] == texts.MOVES_HEADERS
    for row in sheet.iter_rows(min_row=3, max_col=2):
        if isinstance(row[0].value, int):  # a move: its day is a real date cell
            assert row[1].data_type == "d" and row[1].number_format == "DD/MM/YYYY"
    return list(sheet.iter_rows(values_only=True))


async def test_the_report_lists_the_moves_out_of_and_into_its_units(
    bot: RunningBot,
    clock: ManualClock,
    branch: dict[str, Person],
    phu_hoa: Person,
    admin: Person,
    person: Callable[..., Person],
) -> None:
    """The old unit's leaders see a move in the audit: the workbook's "Chuyển sinh hoạt" sheet
    lists the period's moves (by their local day) whose old or new unit is in the report's
    units, oldest first; a report of other units, or of another period, says there are none."""
    lan, tu = branch["lan"], branch["tu"]
    kp3 = await appointed(
        admin, person("Ba"), ["Tỉnh đoàn Mẫu", "Đoàn phường Hòa Lạc", KP3], "Lê Văn Ba"
    )
    # Lan: Tân Lập → Phú Hòa, both in Đoàn xã An Bình, on 26 November (09:00 in Hà Nội).
    await lan.send(f"/start {payload_in((await phu_hoa.send('/moi'))[-1].text)}")
    assert (await lan.press(texts.move_button(NEW)))[-1].text == texts.moved(NEW)
    # Tú: Tân Lập → khu phố 3 of Đoàn phường Hòa Lạc, at 01:00 on 27 November in Hà Nội
    # (still the 26th in UTC): the sheet shows the local day.
    clock.set(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))
    await tu.send(f"/start {payload_in((await kp3.send('/moi'))[-1].text)}")
    assert (await tu.press(texts.move_button(KP3)))[-1].text == texts.moved(KP3)
    held = await rows(bot, "SELECT m.full_name, mv.moved_on FROM member_moves mv "
                      "JOIN members m ON m.id = mv.member_id ORDER BY mv.id")  # fmt: skip
    assert held == [
        {"full_name": LAN, "moved_on": "2026-11-26"},
        {"full_name": "Mai Văn Tú", "moved_on": "2026-11-27"},
    ]
    lan_row = (1, datetime(2026, 11, 26), LAN, OLD, NEW)
    tu_row = (2, datetime(2026, 11, 27), "Mai Văn Tú", OLD, KP3)

    # The commune holds both old units (and Lan's new one): both moves, oldest first.
    got = await moves_sheet(bot, admin, "/xuat 2026 X-AN-BINH")
    assert got[0][0] == texts.moves_title(["Đoàn xã An Bình"], "2026")
    assert got[2:] == [lan_row, tu_row]
    # The new units see who arrived: Phú Hòa Lan only, Hòa Lạc Tú only.
    assert (await moves_sheet(bot, admin, "/xuat 2026 CD-AB-THON2"))[2:] == [lan_row]
    got = await moves_sheet(bot, admin, "/xuat 2026 P-HOA-LAC")
    assert got[2:] == [(1, *tu_row[1:])]
    # Neither old nor new unit in the Hội tree, nor in another period: none, said so.
    nobody = (texts.MOVES_NOBODY, None, None, None, None)
    assert (await moves_sheet(bot, admin, "/xuat 2026 HOI-TINH"))[2:] == [nobody]
    assert (await moves_sheet(bot, admin, "/xuat 2026-Q3 X-AN-BINH"))[2:] == [nobody]
