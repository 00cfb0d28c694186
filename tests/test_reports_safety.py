"""The spreadsheet never turns text from the database into a formula (CSV/formula injection)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot import reports
from storage import stats, units
from storage.db import Database
from storage.periods import Period

EVIL_UNIT = '=HYPERLINK("http://evil.example","bấm")'
# Member and youth names pass normalize_name today; older rows or a direct edit may not.
EVIL_MEMBER = "@SUM(1+1)"
EVIL_YOUTHS = ["+1+1", "-2+3", " =1+1", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]
PERIOD = Period(2026)


def _as_read(text: str) -> str:
    """XML reads a raw CR as LF and openpyxl writes no _x000D_ escape: not ours to change."""
    return text.replace("\r", "\n")


def _units_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "parent_code", "org"])
    writer.writerow(["T", "Tỉnh đoàn", "", "doan"])
    writer.writerow(["X", EVIL_UNIT, "T", "doan"])
    return out.getvalue()


async def _seed(db: Database) -> int:
    """The tree through the CSV import; a member and admitted youths written as rows."""
    await units.import_rows(db, units.parse_csv(_units_csv()))
    async with db.write() as conn:
        async with conn.execute("SELECT id FROM units WHERE code = 'X'") as cur:
            row = await cur.fetchone()
        assert row is not None
        unit_id = int(row[0])
        cursor = await conn.execute(
            "INSERT INTO members (user_ref, unit_id, full_name, membership, registered_at)"
            " VALUES ('1', ?, ?, 'doan', '2026-01-01T00:00:00+00:00')",
            (unit_id, EVIL_MEMBER),
        )
        for n, youth in enumerate(EVIL_YOUTHS, start=1):
            await conn.execute(
                "INSERT INTO referrals (member_id, unit_id, full_name, name_key, birth_year, org,"
                " status, introduced_at, admitted_on)"
                " VALUES (?, ?, ?, ?, 2008, 'doan', 'admitted', '2026-02-01T00:00:00+00:00', ?)",
                (cursor.lastrowid, unit_id, youth, youth, f"2026-03-{n:02d}"),
            )
    async with db.read() as conn:
        top = await units.get_by_code(conn, "T")
    assert top is not None
    return top.id


async def _export(tmp_path: Path) -> bytes:
    """As bot/cli.py _report_bytes builds it."""
    async with Database(tmp_path / "bot.db") as db:
        top = await _seed(db)
        levels = await stats.levels(db, top, PERIOD)
        admitted = await stats.admissions(db, top, PERIOD)
    return reports.workbook_bytes(levels, admitted)


def _text_cells(sheet: Worksheet) -> dict[str, tuple[str, object]]:
    return {
        c.coordinate: (c.data_type, c.value)
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }


async def test_names_starting_like_a_formula_are_written_as_text(tmp_path: Path) -> None:
    data = await _export(tmp_path)
    book = load_workbook(io.BytesIO(data))
    cells = {(s.title, k): v for s in book.worksheets for k, v in _text_cells(s).items()}
    texts_written = {value for _, value in cells.values()}
    expected = {EVIL_UNIT, EVIL_MEMBER, *map(_as_read, EVIL_YOUTHS)}
    assert expected <= texts_written  # the exact text: no apostrophe or space added
    assert [where for where, (kind, _) in cells.items() if kind != "s"] == []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        assert not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets)


async def test_numbers_and_dates_keep_their_types(tmp_path: Path) -> None:
    book = load_workbook(io.BytesIO(await _export(tmp_path)))
    level2 = book.worksheets[1]
    assert level2["B2"].value == EVIL_UNIT
    assert level2["D2"].data_type == "n"  # members: a number, not text
    admissions = book.worksheets[-1]
    assert admissions["A2"].is_date
    assert [admissions.cell(r, 2).value for r in range(2, 2 + len(EVIL_YOUTHS))] == [
        _as_read(y) for y in EVIL_YOUTHS
    ]
