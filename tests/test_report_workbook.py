"""The filed report: the workbook opened with openpyxl, the chart inspected before it is saved.

One small data set on the sample province (data/sample_units.csv), made through storage:
heading cells, totals equal to the rows' sum and to /stats, print settings, sheet names, the
admissions list an inspector checks, Đoàn and Hội together, formulas kept as text, the spill
over several sheets, chunked reading, and a memory bound on a bigger list.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tracemalloc
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from matplotlib.lines import Line2D
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet import _writer as openpyxl_writer
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image

from bot import reports, texts
from bot.cli import main as cli_main
from storage import members, referrals, report_rows, stats, targets, units
from storage.clock import ManualClock
from storage.conversations import ConversationKey
from storage.db import Database
from storage.periods import Period
from storage.referrals import Decision
from storage.stats import Figures, Report
from storage.units import Unit
from storage.validation import AgePolicy, AgeRange, Birth, MemberIn, Org, ReferralIn, sort_key

SAMPLE_UNITS = Path(__file__).resolve().parent.parent / "data" / "sample_units.csv"
AGES = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})
TODAY = date(2026, 11, 27)
YEAR = Period(2026)
HEADING = reports.Heading(TODAY, "Hà Nội", "Bí thư")


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=3, tzinfo=UTC)  # 10:00 in Hà Nội


async def code_id(db: Database, code: str) -> int:
    async with db.read() as conn:
        unit = await units.get_by_code(conn, code)
    assert unit is not None
    return unit.id


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    """Six members (one registered at the province itself), seven referrals, one leader."""
    async with Database(tmp_path / "bot.db") as db:
        await units.import_rows(db, units.parse_csv(SAMPLE_UNITS.read_text(encoding="utf-8")))
        clock = ManualClock(at("2025-12-01"))
        people = {}
        for ref, name, code in [
            ("9001", "Trần Văn An", "CD-AB-THON1"),
            ("9002", "Lê Thị Bình", "CD-AB-THON1"),
            ("9003", "Phạm Văn Cường", "CD-AB-THON2"),
            ("9004", "Đỗ Thị Dung", "CD-HL-KP3"),
            ("9005", "Hồ Văn Em", "CH-AB-THON1"),
            ("9006", "Vũ Thị Phượng", "TD-MAU"),
        ]:
            key = ConversationKey("telegram", ref, ref)
            data = MemberIn(full_name=name, membership=Org.HOI if ref == "9005" else Org.DOAN)
            people[ref] = (
                key,
                await members.register(db, key, await code_id(db, code), data, clock),
            )
        leader = people["9002"][1]

        async def refer(ref: str, name: str, birth: Birth, org: Org, phone: str | None, day: str):
            clock.set(at(day))
            data = ReferralIn.model_validate(
                {"full_name": name, "birth": birth, "phone": phone, "org": org},
                context={"today": date.fromisoformat(day), "ages": AGES},
            )
            return await referrals.submit(db, *people[ref], data, clock)

        async def admit(referral: referrals.Referral, day: str, by: int | None) -> None:
            clock.set(at(day))
            admitted_on = date.fromisoformat(day)
            await referrals.change_status(
                db, referral.id, Decision.ADMIT, by, clock, admitted_on=admitted_on
            )

        r5 = await refer("9005", "Mạc Văn Sáu", Birth(2004), Org.HOI, None, "2025-12-20")
        await admit(r5, "2026-01-05", None)
        r1 = await refer(
            "9001",
            "Ngô Văn Một",
            Birth(2005, date(2005, 6, 15)),
            Org.DOAN,
            "0912345678",
            "2026-02-10",
        )
        await admit(r1, "2026-03-01", leader.id)
        r2 = await refer("9001", "Ngô Thị Hai", Birth(2003), Org.HOI, None, "2026-04-05")
        await admit(r2, "2026-08-20", leader.id)
        r3 = await refer("9003", "Đinh Văn Ba", Birth(2001), Org.DOAN, None, "2026-05-01")
        clock.set(at("2026-05-10"))
        await referrals.change_status(db, r3.id, Decision.DECLINE, leader.id, clock)
        await refer("9004", "Lý Thị Bốn", Birth(2006), Org.DOAN, None, "2026-07-15")
        r6 = await refer("9006", "Tạ Văn Năm", Birth(2002), Org.DOAN, None, "2026-09-01")
        await admit(r6, "2026-10-02", leader.id)
        clock.set(at("2026-11-20"))
        thon1 = await code_id(db, "CD-AB-THON1")
        await targets.set_target(db, thon1, 2026, Org.DOAN, 5, None, clock)
        yield db


async def export(
    db: Database, path: Path, codes: list[str], period: Period = YEAR, **kw: int
) -> Workbook:
    ids = [await code_id(db, code) for code in codes]
    sections = await reports.write_report(path, db, ids, period, HEADING, **kw)
    assert [s.unit.code for s in sections] == codes
    return load_workbook(path)


def values(sheet: Worksheet) -> list[list[object]]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def find(rows: list[list[object]], first: object, column: int = 0) -> int:
    return next(i for i, row in enumerate(rows) if row[column] == first)


def table(rows: list[list[object]], start: int = 0) -> tuple[list[list[object]], list[object]]:
    """The body rows and the totals row of the report sheet's first table after `start`."""
    header = find(rows[start:], "STT") + start
    end = find(rows[header:], texts.REPORT_TOTAL, 1) + header
    return rows[header + 1 : end], rows[end]


async def test_heading_title_and_signature(db: Database, tmp_path: Path) -> None:
    book = await export(db, tmp_path / "r.xlsx", ["TD-MAU"])
    sheet = book[texts.SHEET_REPORT]
    assert sheet["A1"].value == "ĐOÀN TNCS HỒ CHÍ MINH"  # the root's organisation
    assert sheet["A2"].value == "BCH TỈNH ĐOÀN MẪU"  # from the unit's name
    assert sheet["G1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert sheet["G2"].value == "Độc lập - Tự do - Hạnh phúc"
    assert sheet["G4"].value == "Hà Nội, ngày 27 tháng 11 năm 2026"
    assert {"A1:E1", "A2:E2", "G1:M1", "G2:M2", "G4:M4"} <= {str(r) for r in sheet.merged_cells}
    rows = values(sheet)
    firsts = [row[0] for row in rows]
    assert texts.REPORT_TITLE in firsts and "NĂM 2026" in firsts
    assert "(Số liệu tính đến ngày 27/11/2026)" in firsts
    summary = next(v for v in firsts if isinstance(v, str) and v.strip().startswith("Trong năm"))
    assert "Tỉnh đoàn Mẫu có 5 đoàn viên, hội viên" in summary
    assert "kết nạp 3 (2 vào Đoàn, 1 vào Hội)" in summary
    signature = [row[6] for row in rows if row[6]]
    assert signature[-2:] == ["T/M BAN THƯỜNG VỤ", "BÍ THƯ"]  # the settings' title, in capitals
    assert "Nơi nhận:" in firsts
    # A leaf unit (a branch) names its own body and its father above it.
    leaf = await export(db, tmp_path / "leaf.xlsx", ["CD-AB-THON1"])
    assert leaf[texts.SHEET_REPORT]["A1"].value == "ĐOÀN XÃ AN BÌNH"
    assert leaf[texts.SHEET_REPORT]["A2"].value == "BCH CHI ĐOÀN THÔN TÂN LẬP"


@pytest.mark.parametrize("period", [YEAR, Period(2026, "H1"), Period(2026, "Q3")])
async def test_totals_add_up_and_equal_stats(db: Database, tmp_path: Path, period: Period) -> None:
    book = await export(db, tmp_path / "r.xlsx", ["TD-MAU"], period)
    rows = values(book[texts.SHEET_REPORT])
    body, totals = table(rows)
    report = await stats.report(db, await code_id(db, "TD-MAU"), period)
    assert report is not None
    # Children in Vietnamese order, numbered; then what is the province's own (Phượng).
    names = [row[1] for row in body]
    children = sorted((f.unit.name for f in report.children), key=sort_key)
    assert names == [*children, texts.report_direct("Tỉnh đoàn Mẫu")]
    assert [row[0] for row in body] == list(range(1, len(body) + 1))
    for column in range(2, 13):
        if column in {4, 10}:  # the shares: of the totals, not a sum of shares
            continue
        assert totals[column] == sum(row[column] or 0 for row in body), column
    f = report.unit
    assert totals[2:13] == pytest.approx(
        [
            f.members,
            f.met,
            f.met / f.members if f.members else None,
            f.introduced,
            f.admitted_doan,
            f.admitted_hoi,
            f.admitted,
            f.target,
            f.admitted / f.target if f.target else None,
            f.declined,
            f.pending,
        ]
    )
    if period == YEAR:
        assert totals[2:4] + totals[5:10] == [5, 2, 5, 2, 1, 3, f.target]


async def test_a_target_set_on_the_unit_itself_is_explained(db: Database, tmp_path: Path) -> None:
    """Under a target of its own the unit's figure is not its children's sum: a note says so,
    and the totals still equal /stats."""
    commune = await code_id(db, "X-AN-BINH")
    await targets.set_target(db, commune, 2026, Org.DOAN, 3, None, ManualClock(at("2026-11-21")))
    rows = values((await export(db, tmp_path / "r.xlsx", ["X-AN-BINH"]))[texts.SHEET_REPORT])
    body, totals = table(rows)
    report = await stats.report(db, commune, YEAR)
    assert report is not None
    given = sum(f.target for f in report.children)
    assert totals[9] == report.unit.target == 3 != given
    by_name = sorted(report.children, key=lambda f: sort_key(f.unit.name))
    assert [row[9] for row in body] == [f.target for f in by_name]  # no "direct" row: no one
    note = texts.report_own_target("Đoàn xã An Bình", 3, given)
    assert note in [row[0] for row in rows]


async def test_level_sheets_in_vietnamese_order_with_totals(db: Database, tmp_path: Path) -> None:
    book = await export(db, tmp_path / "r.xlsx", ["TD-MAU"])
    assert book.sheetnames == [
        texts.SHEET_REPORT,
        "Cấp xã",
        "Chi đoàn",
        texts.SHEET_ADMISSIONS,
        texts.SHEET_COMMENDATION,
        texts.SHEET_MOVES,
    ]
    communes = values(book["Cấp xã"])
    assert communes[1] == texts.REPORT_LEVEL_HEADERS
    body = communes[2:-1]
    assert [row[1] for row in body] == [
        "Đoàn phường Hòa Lạc",
        "Đoàn trường THPT Nguyễn Thị Minh Khai",
        "Đoàn xã An Bình",
    ]
    assert [row[0] for row in body] == [1, 2, 3]
    assert communes[-1][1] == texts.REPORT_TOTAL
    for column in [4, 5, 7, 8, 9, 10, 11, 13, 14]:
        assert communes[-1][column] == sum(row[column] for row in body)
    branches = values(book["Chi đoàn"])[2:-1]
    # Grouped by commune as listed above, then by name.
    assert [row[2] for row in branches] == [
        "Đoàn phường Hòa Lạc",
        "Đoàn phường Hòa Lạc",
        "Đoàn trường THPT Nguyễn Thị Minh Khai",
        "Đoàn trường THPT Nguyễn Thị Minh Khai",
        "Đoàn xã An Bình",
        "Đoàn xã An Bình",
    ]
    assert [row[1] for row in branches][:2] == ["Chi đoàn khu phố 3", "Chi đoàn khu phố 7"]
    assert book["Cấp xã"]["G3"].number_format == "0%"


async def test_admissions_list_as_an_inspector_checks_it(db: Database, tmp_path: Path) -> None:
    book = await export(db, tmp_path / "r.xlsx", ["TD-MAU"])
    sheet = book[texts.SHEET_ADMISSIONS]
    rows = values(sheet)
    assert rows[1] == texts.REPORT_ADMISSION_HEADERS
    assert rows[2:5] == [
        [
            1,
            "Ngô Văn Một",
            datetime(2005, 6, 15),
            20,  # 15 June not reached on 1 March
            "Đoàn",
            "Chi đoàn thôn Tân Lập",
            "Trần Văn An",
            datetime(2026, 2, 10),
            datetime(2026, 3, 1),
            "Lê Thị Bình",
            "091****678",
        ],
        [
            2,
            "Ngô Thị Hai",
            2003,  # only the year is known
            23,
            "Hội",
            "Chi đoàn thôn Tân Lập",
            "Trần Văn An",
            datetime(2026, 4, 5),
            datetime(2026, 8, 20),
            "Lê Thị Bình",
            None,
        ],
        [
            3,
            "Tạ Văn Năm",
            2002,
            24,
            "Đoàn",
            "Tỉnh đoàn Mẫu",
            "Vũ Thị Phượng",
            datetime(2026, 9, 1),
            datetime(2026, 10, 2),
            "Lê Thị Bình",
            None,
        ],
    ]
    assert rows[5][1] == texts.admissions_total(3, 2, 1)
    assert sheet["C3"].number_format == "DD/MM/YYYY" and sheet["I3"].is_date
    assert sheet.freeze_panes == "C3"
    # The leader who decided has erased their data: the admission stays, nobody is named.
    async with db.write() as conn:
        await conn.execute("UPDATE referrals SET decided_by = NULL")
    again = values((await export(db, tmp_path / "r2.xlsx", ["TD-MAU"]))[texts.SHEET_ADMISSIONS])
    assert [row[9] for row in again[2:5]] == [None, None, None]


async def test_print_ready(db: Database, tmp_path: Path) -> None:
    book = await export(db, tmp_path / "r.xlsx", ["TD-MAU"])
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert (setup.paperSize, setup.orientation) == (9, "landscape"), sheet.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.oddFooter.center.text == "Trang &P/&N", sheet.title
    for title in ["Cấp xã", "Chi đoàn", texts.SHEET_ADMISSIONS, texts.SHEET_MOVES]:
        assert book[title].print_title_rows == "$1:$2", title
    assert book.properties.title == texts.workbook_title("2026")
    assert book.properties.creator == "Tỉnh đoàn Mẫu"


async def test_report_pages_break_between_blocks(db: Database, tmp_path: Path) -> None:
    """Forty child units: the table runs over pages, each page starting with its header."""
    lines = ["code,name,parent_code,org", "BIG,Tỉnh đoàn Lớn,,doan"]
    lines += [f"X{n:02d},Đoàn xã Số {n:02d},BIG,doan" for n in range(40)]
    await units.import_rows(db, units.parse_csv("\n".join(lines) + "\n"))
    book = await export(db, tmp_path / "big.xlsx", ["BIG"])
    sheet = book[texts.SHEET_REPORT]
    rows = values(sheet)
    breaks = [b.id for b in sheet.row_breaks.brk]
    assert breaks, "a table of 40 units does not fit one page"
    for row_id in breaks:  # the row after a break inside the table is the header again
        if row_id < find(rows, texts.REPORT_TOTAL, 1):
            assert rows[row_id][0] == "STT"
    body, totals = table(rows)
    assert [row[0] for row in body if row[0] != "STT"] == list(range(1, 41))
    assert totals[1] == texts.REPORT_TOTAL and totals[9] == 0  # no member, no target yet
    assert rows[-6][6] == "T/M BAN THƯỜNG VỤ"  # the signature closes the sheet


async def test_doan_and_hoi_in_one_workbook(db: Database, tmp_path: Path) -> None:
    book = await export(db, tmp_path / "r.xlsx", ["TD-MAU", "HOI-TINH"])
    assert book.sheetnames == [
        texts.SHEET_REPORT,
        "Đoàn – Cấp xã",
        "Đoàn – Chi đoàn",
        "Hội – Cấp xã",
        "Hội – Chi hội",
        texts.SHEET_ADMISSIONS,
        texts.SHEET_COMMENDATION,
        texts.SHEET_MOVES,
    ]
    rows = values(book[texts.SHEET_REPORT])
    firsts = [row[0] for row in rows]
    sections = ["I. TỈNH ĐOÀN MẪU", "II. HỘI LHTN VIỆT NAM TỈNH MẪU", "III. TỔNG HỢP CHUNG"]
    assert [firsts.index(s) for s in sections] == sorted(firsts.index(s) for s in sections)
    combined, totals = table(rows, firsts.index(sections[2]))
    assert [row[1] for row in combined] == ["Tỉnh đoàn Mẫu", "Hội LHTN Việt Nam tỉnh Mẫu"]
    doan = await stats.report(db, await code_id(db, "TD-MAU"), YEAR)
    hoi = await stats.report(db, await code_id(db, "HOI-TINH"), YEAR)
    assert doan is not None and hoi is not None
    assert totals[2] == doan.unit.members + hoi.unit.members
    assert totals[8] == doan.unit.admitted + hoi.unit.admitted == 4
    assert totals[9] == doan.unit.target + hoi.unit.target
    admitted = values(book[texts.SHEET_ADMISSIONS])[2:6]
    assert [row[1] for row in admitted] == [
        "Mạc Văn Sáu",
        "Ngô Văn Một",
        "Ngô Thị Hai",
        "Tạ Văn Năm",
    ]
    assert book.properties.creator == "Tỉnh đoàn Mẫu và Hội LHTN Việt Nam tỉnh Mẫu"


async def test_level_names_come_from_the_tree(db: Database, tmp_path: Path) -> None:
    lines = ["code,name,parent_code,org", "TW,Trung ương Đoàn TNCS Hồ Chí Minh,,doan"]
    lines += ["T1,Tỉnh đoàn Một,TW,doan", "X1,Đoàn xã Một,T1,doan", "D1,Đoàn cơ sở Một,T1,doan"]
    lines += ["L1,Liên chi đoàn Một,D1,doan", "C1,Chi đoàn Một,X1,doan", "C2,Chi đoàn Hai,L1,doan"]
    await units.import_rows(db, units.parse_csv("\n".join(lines) + "\n"))
    national = await reports.load_sections(db, [await code_id(db, "TW")], YEAR)
    assert reports.level_names(national[0]) == ["Cấp 1", "Cấp tỉnh", "Cấp xã", "Cấp 4", "Chi đoàn"]
    province = await reports.load_sections(db, [await code_id(db, "T1")], YEAR)
    assert reports.level_names(province[0]) == ["Cấp tỉnh", "Cấp xã", "Cấp 4", "Chi đoàn"]
    hoi = await reports.load_sections(db, [await code_id(db, "HOI-TINH")], YEAR)
    assert reports.level_names(hoi[0]) == ["Cấp tỉnh", "Cấp xã", "Chi hội"]


async def test_hoi_alone_is_signed_by_its_chairman(db: Database, tmp_path: Path) -> None:
    sheet = (await export(db, tmp_path / "r.xlsx", ["HOI-TINH"]))[texts.SHEET_REPORT]
    assert sheet["A1"].value == "HỘI LHTN VIỆT NAM"
    assert sheet["A2"].value == "ỦY BAN HỘI LHTN VIỆT NAM TỈNH MẪU"
    signature = [row[6] for row in values(sheet) if row[6]]
    assert signature[-2:] == ["T/M BAN THƯỜNG VỤ", texts.REPORT_HOI_SIGNER]


EVIL_UNIT = '=HYPERLINK("http://evil.example","bấm")'
EVIL_PEOPLE = ["@SUM(1+1)", "+1+1", "-2+3", " =1+1", "\t=1+1", "=cmd|' /C calc'!A0", "#N/A"]


async def insert_admissions(db: Database, unit_code: str, names: list[str], **kw: object) -> None:
    """Rows written directly: names that never passed the bot's validation (older rows)."""
    unit_id = await code_id(db, unit_code)
    async with db.write() as conn:
        cursor = await conn.execute(
            "INSERT INTO members (user_ref, unit_id, full_name, membership, registered_at)"
            " VALUES (?, ?, ?, 'doan', '2026-01-01T00:00:00+00:00')",
            (f"x{unit_code}{len(names)}", unit_id, kw.get("member", "Người Giới Thiệu")),
        )
        await conn.executemany(
            "INSERT INTO referrals (member_id, unit_id, full_name, name_key, birth_year, org,"
            " status, introduced_at, introduced_on, admitted_on)"
            " VALUES (?, ?, ?, ?, 2004, 'doan', 'admitted', '2026-02-01T00:00:00+00:00',"
            " '2026-02-01', ?)",
            [
                (cursor.lastrowid, unit_id, name, name, f"2026-03-{1 + n % 28:02d}")
                for n, name in enumerate(names)
            ],
        )


async def test_text_that_looks_like_a_formula_stays_text(db: Database, tmp_path: Path) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(
        [["code", "name", "parent_code", "org"], ["EVIL", EVIL_UNIT, "TD-MAU", "doan"]]
    )
    await units.import_rows(db, units.parse_csv(out.getvalue()))
    await insert_admissions(db, "EVIL", EVIL_PEOPLE, member="@SUM(1+1)")
    path = tmp_path / "r.xlsx"
    book = await export(db, path, ["TD-MAU"])
    written = {c.value: c.data_type for s in book.worksheets for r in s.iter_rows() for c in r}
    expected = {EVIL_UNIT, *(p.replace("\r", "\n") for p in EVIL_PEOPLE)}
    assert expected <= set(written)
    assert {v: t for v, t in written.items() if isinstance(v, str) and t != "s"} == {}
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in archive.read(n) for n in sheets)


async def test_admissions_spill_over_sheets_numbered_on(db: Database, tmp_path: Path) -> None:
    book = await export(db, tmp_path / "r.xlsx", ["TD-MAU"], sheet_rows=1, chunk=2)
    first = texts.SHEET_ADMISSIONS
    assert book.sheetnames[-4:-2] == [f"{first} (2)", f"{first} (3)"]
    lists = [values(book[n]) for n in [first, f"{first} (2)", f"{first} (3)"]]
    assert all(rows[1] == texts.REPORT_ADMISSION_HEADERS for rows in lists)
    numbers = [row[0] for rows in lists for row in rows[2:] if isinstance(row[0], int)]
    assert numbers == [1, 2, 3]


async def test_admissions_are_read_in_chunks(db: Database) -> None:
    """Chunks follow each other by date and number: none repeated, none skipped."""
    await insert_admissions(db, "CD-HL-KP3", [f"Người Số {n}" for n in range(23)])
    root = await code_id(db, "TD-MAU")
    whole = [r async for chunk in report_rows.admission_rows(db, [root], YEAR) for r in chunk]
    sizes, parts = [], []
    async for chunk in report_rows.admission_rows(db, [root], YEAR, expected=10**6, chunk=5):
        sizes.append(len(chunk))
        parts += chunk
    assert sizes == [5, 5, 5, 5, 5, 1] and parts == whole and len(whole) == 26
    keys = [(r.admitted_on, r.referral) for r in whole]
    assert keys == sorted(keys)


async def test_moves_read_in_chunks_oldest_first_within_the_period(
    db: Database, tmp_path: Path
) -> None:
    """The moves sheet: the period's moves (by local day) out of or into the units' subtrees,
    oldest first, numbered on across chunks; none repeated, none skipped."""

    async def move(name: str, old: str, new: str, moment: datetime) -> None:
        async with db.read() as conn:
            cur = await conn.execute("SELECT id FROM members WHERE full_name = ?", (name,))
            member = (await cur.fetchone())[0]
        key = ConversationKey("telegram", name, name)
        ids = await code_id(db, old), await code_id(db, new)
        assert await members.move(db, key, member, *ids, ManualClock(moment)) is not None

    await move("Đỗ Thị Dung", "CD-HL-KP3", "CD-AB-THON1", at("2025-12-31"))  # the year before
    await move("Trần Văn An", "CD-AB-THON1", "CD-AB-THON2", at("2026-03-01"))
    await move("Trần Văn An", "CD-AB-THON2", "CD-HL-KP3", at("2026-06-01"))
    # 17:00 UTC on 31 December is 1 January in Hà Nội: the next year's.
    await move("Đỗ Thị Dung", "CD-AB-THON1", "CD-HL-KP7", datetime(2026, 12, 31, 17, tzinfo=UTC))
    book = await export(db, tmp_path / "r.xlsx", ["X-AN-BINH"], chunk=1)
    got = values(book[texts.SHEET_MOVES])
    assert got[0][0] == texts.moves_title(["Đoàn xã An Bình"], "2026")
    assert got[1] == texts.MOVES_HEADERS
    assert got[2:] == [
        [1, datetime(2026, 3, 1), "Trần Văn An", "Chi đoàn thôn Tân Lập", "Chi đoàn thôn Phú Hòa"],
        [2, datetime(2026, 6, 1), "Trần Văn An", "Chi đoàn thôn Phú Hòa", "Chi đoàn khu phố 3"],
    ]
    assert book[texts.SHEET_MOVES]["B3"].number_format == "DD/MM/YYYY"
    school = values((await export(db, tmp_path / "s.xlsx", ["DCS-THPT-NTMK"]))[texts.SHEET_MOVES])
    assert school[2:] == [[texts.MOVES_NOBODY, None, None, None, None]]


async def test_memory_stays_flat_on_a_long_list(db: Database, tmp_path: Path) -> None:
    """The workbook is streamed: four times the admissions, the same memory (an ordinary
    openpyxl workbook holds every cell: about 34 MB for 12,000 rows of this list)."""
    ids = [await code_id(db, "TD-MAU")]

    async def peak(count: int) -> int:
        names = [f"Thanh Niên Số {count} {n}" for n in range(count)]
        await insert_admissions(db, "CD-HL-KP7", names)
        tracemalloc.start()
        try:
            await reports.write_report(tmp_path / "r.xlsx", db, ids, YEAR, HEADING, chunk=500)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = await peak(1_000), await peak(3_000)  # 1,003 then 4,003 admissions
    assert large < small + 400_000, (small, large)  # flat: about 1.5 MB either way
    book = load_workbook(tmp_path / "r.xlsx", read_only=True)
    rows = book[texts.SHEET_ADMISSIONS].iter_rows(values_only=True)
    assert sum(1 for _ in rows) == 2 + 4_003 + 1  # title, header, admissions, total


async def test_a_failed_export_leaves_no_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the report nor the sheets' scratch files (openpyxl keeps them until exit)."""

    async def broken(*args: object, **kw: object):
        yield []
        raise OSError("disk full")

    monkeypatch.setattr(report_rows, "admission_rows", broken)
    before = list(openpyxl_writer.ALL_TEMP_FILES)
    with pytest.raises(OSError, match="disk full"):
        await export(db, tmp_path / "r.xlsx", ["TD-MAU"])
    assert before == openpyxl_writer.ALL_TEMP_FILES
    assert await asyncio.to_thread(lambda: list(tmp_path.glob("r.xlsx*"))) == []


def test_cli_exports_one_organisation(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setattr("bot.cli.logs.configure", lambda *args, **kw: None)  # global state
    monkeypatch.setenv("DATABASE_PATH", str(db.path))
    monkeypatch.setenv("REPORT_PLACE", "Mẫu")
    out = tmp_path / "hoi.xlsx"
    assert cli_main(["export", "--period", "2026", "--org", "hoi", "--out", str(out)]) == 0
    book = load_workbook(out)
    assert book.sheetnames == [
        texts.SHEET_REPORT,
        "Cấp xã",
        "Chi hội",
        texts.SHEET_ADMISSIONS,
        texts.SHEET_COMMENDATION,
        texts.SHEET_MOVES,
    ]
    assert book[texts.SHEET_REPORT]["G4"].value.startswith("Mẫu, ngày ")
    both = tmp_path / "both.xlsx"
    assert cli_main(["export", "--period", "2026", "--out", str(both)]) == 0
    assert "Hội – Chi hội" in load_workbook(both).sheetnames


# --- the chart -------------------------------------------------------------------------------


def figures(n: int, target: int, admitted: int, name: str | None = None) -> Figures:
    unit = Unit(n, f"U{n}", name or f"Đoàn xã Số {n}", 1, Org.DOAN)
    return Figures(unit, target, admitted, admitted, admitted, 0, 0, 0, target, 0.75)


def a_report(children: list[Figures]) -> Report:
    root = Figures(Unit(1, "T", "Tỉnh đoàn Mẫu", None, Org.DOAN), 9, 3, 3, 3, 0, 0, 0, 9, 0.75)
    return Report(Period(2026, "Q3"), root, sorted(children, key=lambda f: f.weakness))


def test_chart_integer_axis_expected_marks_title_and_size() -> None:
    long_name = "Đoàn trường Trung học phổ thông chuyên Nguyễn Thị Minh Khai"
    children = [figures(2, 2, 1), figures(3, 3, 3, long_name), figures(4, 1, 0)]
    report = a_report(children)
    figure = reports.chart_figure(report, TODAY)
    figure.draw_without_rendering()
    axes = figure.axes[0]
    ticks = list(axes.get_xticks())
    assert ticks and all(float(t).is_integer() for t in ticks)  # people come whole
    marks = [line for line in axes.get_lines() if line.get_gid() == "due"]
    assert len(marks) == 1 and isinstance(marks[0], Line2D)
    assert marks[0].get_label() == texts.chart_expected(0.75) == "Mốc kỳ (75% chỉ tiêu)"
    xs = [x for x in marks[0].get_xdata() if x == x]  # NaN separates the strokes
    assert xs == pytest.approx([t * 0.75 for f in report.children for t in (f.target, f.target)])
    heading = figure.get_suptitle()
    assert "Tỉnh đoàn Mẫu" in heading and "quý 3/2026" in heading
    notes = axes.get_title()
    assert "Toàn đơn vị: 3/9 (33%)" in notes and "27/11/2026" in notes
    labels = [t.get_text() for t in axes.get_yticklabels()]
    shown = next(label for label in labels if label.startswith("Đoàn trường"))
    assert shown.replace("\n", " ") == long_name  # wrapped between words, nothing cut
    assert all(set(word) <= set(long_name) for word in shown.split())
    png = reports.chart_png(report, TODAY)
    image = Image.open(io.BytesIO(png))
    assert image.width == 1080 and 700 <= image.height <= 1400


def test_chart_of_many_units_shows_the_weakest_and_says_so() -> None:
    children = [figures(n, 20 + n, n % 17) for n in range(2, 102)]
    report = a_report(children)
    figure = reports.chart_figure(report, TODAY)
    axes = figure.axes[0]
    assert len(axes.get_yticks()) == reports.CHART_UNITS
    assert texts.chart_shown(25, 100) in axes.get_title()
    weakest = [f.unit.name for f in report.children[:25]]
    assert [t.get_text().replace("\n", " ") for t in axes.get_yticklabels()] == weakest
    image = Image.open(io.BytesIO(reports.chart_png(report, TODAY)))
    assert image.width == 1080 and image.height <= 2560  # kept whole by Telegram's photos
