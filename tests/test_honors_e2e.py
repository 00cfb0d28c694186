"""/vinhdanh: the members who brought the most youths in, ties shared fairly, and the units
furthest ahead of the expected share; members see their own unit, leaders their reach."""

from __future__ import annotations

from bot import texts
from storage.honors import ranked
from storage.validation import Org
from tests.harness import Person, RunningBot, refer


async def _admit_all(leader: Person) -> None:
    while True:
        replies = await leader.send("/duyet")
        if replies[-1].text == texts.NO_PENDING:
            return
        await leader.press(texts.BTN_ADMIT)
        await leader.press(texts.BTN_TODAY)


async def test_members_ranked_with_ties_shared(bot: RunningBot, branch: dict[str, Person]):
    leader, lan, tu = branch["leader"], branch["lan"], branch["tu"]
    await refer(lan, "Phạm Thu Hà", "2005", None, Org.DOAN)
    await refer(lan, "Vũ Minh Quân", "2004", None, Org.DOAN)
    await refer(tu, "Đỗ Văn Nam", "2003", None, Org.DOAN)
    await refer(leader, "Hồ Thị Mai", "2006", None, Org.DOAN)
    await _admit_all(leader)  # the leader cannot decide his own: it stays waiting
    shown = (await lan.send("/vinhdanh"))[-1].text
    assert shown.splitlines()[:4] == [
        "🏅 Vinh danh phong trào 1+1 – Chi đoàn thôn Tân Lập, 2026",
        "Đoàn viên, hội viên giới thiệu được kết nạp nhiều nhất:",
        texts.honour_member(1, "Trần Thị Lan", "Chi đoàn thôn Tân Lập", 2),
        texts.honour_member(2, "Mai Văn Tú", "Chi đoàn thôn Tân Lập", 1),
    ]
    assert "Nguyễn Văn Hùng" not in shown  # nothing admitted yet
    # A member cannot look at another unit; an unknown code answers the same.
    assert (await lan.send("/vinhdanh X-AN-BINH"))[-1].text == texts.unit_not_found("X-AN-BINH")
    assert (await lan.send("/vinhdanh KHONG-CO"))[-1].text == texts.unit_not_found("KHONG-CO")
    own = (await lan.send("/vinhdanh tan lap"))[-1].text  # her own unit, by part of its name
    assert own.splitlines()[0] == "🏅 Vinh danh phong trào 1+1 – Chi đoàn thôn Tân Lập, 2026"
    # The province admin sees the whole province.
    province = (await branch["admin"].send("/vinhdanh 2026 TD-MAU"))[-1].text
    assert texts.honour_member(1, "Trần Thị Lan", "Chi đoàn thôn Tân Lập", 2) in province


def test_ties_are_never_cut_and_share_a_rank():
    scores = {"a": 5, "b": 3, "c": 3, "d": 3, "e": 1}
    shown = ranked(list(scores), scores.__getitem__, 2)
    assert shown == [(1, "a"), (2, "b"), (2, "c"), (2, "d")]
    assert ranked(list(scores), scores.__getitem__, 5)[-1] == (5, "e")


async def test_the_report_proposes_those_who_met_1_plus_1_for_commendation(
    bot: RunningBot, branch: dict[str, Person]
):
    import io

    from openpyxl import load_workbook

    leader, lan, tu, admin = (branch[k] for k in ("leader", "lan", "tu", "admin"))
    await refer(lan, "Phạm Thu Hà", "2005", None, Org.DOAN)
    await refer(lan, "Vũ Minh Quân", "2004", None, Org.DOAN)
    await refer(tu, "Đỗ Văn Nam", "2003", None, Org.DOAN)
    await _admit_all(leader)
    await admin.send("/xuat 2026-Q4 TD-MAU")
    await bot.background()
    assert admin.last.file is not None
    book = load_workbook(io.BytesIO(admin.last.file))
    sheet = book[texts.SHEET_COMMENDATION]
    rows = [row for row in sheet.iter_rows(values_only=True) if row[0] is not None]
    assert rows[1] == tuple(texts.COMMENDATION_HEADERS)
    assert rows[2:] == [
        (1, "Trần Thị Lan", "Chi đoàn thôn Tân Lập", 2),
        (2, "Mai Văn Tú", "Chi đoàn thôn Tân Lập", 1),
    ]
