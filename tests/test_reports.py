"""The spreadsheet splits a list too long for one Excel sheet."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from bot import reports, texts
from storage.stats import Admission


def test_admissions_beyond_one_sheet_continue_on_the_next() -> None:
    admitted = [
        Admission(date(2026, 1, i + 1), f"Người {i}", "doan", "Chi đoàn", "Lan", None)
        for i in range(7)
    ]
    book = load_workbook(io.BytesIO(reports.workbook_bytes([], admitted, sheet_rows=3)))
    first = texts.SHEET_ADMISSIONS
    assert book.sheetnames == [first, f"{first} (2)", f"{first} (3)"]
    names = [row[1].value for sheet in book.worksheets for row in sheet.iter_rows(min_row=2)]
    assert names == [f"Người {i}" for i in range(7)]
    assert all(sheet["A1"].value == texts.ADMISSION_HEADERS[0] for sheet in book.worksheets)
