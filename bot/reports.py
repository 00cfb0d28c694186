"""The inspection files: a chart (PNG) and a spreadsheet (XLSX) of the campaign's figures.

Both are built from storage/stats.py and the text catalog, without a display and without
python-telegram-bot, so the CLI and any chat channel make the same files.
"""

from __future__ import annotations

import io
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display on a server

from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot import texts
from storage.stats import Admission, Figures, Report
from storage.validation import Org

CHART_UNITS = 25
SHEET_ROWS = 1_000_000  # below Excel's 1,048,576 rows, header included
NAME_WIDTH = 32


def _short(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def chart_png(report: Report) -> bytes:
    """Admissions against target by child unit, weakest at the top; readable on a phone."""
    rows = report.children[:CHART_UNITS]
    height = 2.0 + 0.42 * max(len(rows), 1)
    # A bare Figure (no pyplot): no global state, so it can be drawn in a worker thread.
    figure = Figure(figsize=(7.2, height), dpi=150)
    axes = figure.subplots()
    names = [_short(f.unit.name) for f in rows]
    positions = list(range(len(rows)))
    axes.barh(positions, [f.target for f in rows], color="#f4c7c3", label=texts.CHART_TARGET)
    axes.barh(
        positions,
        [f.admitted for f in rows],
        height=0.5,
        color="#c62828",
        label=texts.CHART_ADMITTED,
    )
    for y, f in zip(positions, rows, strict=True):
        axes.text(
            max(f.target, f.admitted),
            y,
            f" {f.admitted}/{f.target} ({texts.percent(f.admitted, f.target)})",
            va="center",
            fontsize=8,
        )
    axes.set_yticks(positions, names, fontsize=8)
    axes.invert_yaxis()  # weakest first, at the top
    axes.set_xlabel(texts.CHART_AXIS)
    title = texts.chart_title(report.period.label(), report.unit.unit.name)
    axes.set_title(title, fontsize=10, pad=24)
    # Just above the bars, under the title: never over a bar, whatever the chart's height.
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _figure_row(f: Figures, parent: str) -> list[object]:
    return [
        f.unit.code,
        f.unit.name,
        parent,
        f.members,
        f.met,
        f.met / f.members if f.members else None,
        f.introduced,
        f.admitted_doan,
        f.admitted_hoi,
        f.admitted,
        f.declined,
        f.pending,
        f.target,
        f.progress,
        f.expected_share,
    ]


_PERCENT_COLUMNS = {6, 14, 15}
_HEADER_FILL = PatternFill("solid", fgColor="FFD9D9")


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: list[list[object]]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for index, row in enumerate(rows, start=2):  # row 1 is the header
        sheet.append(row)
        _as_text(sheet, index, row)
    sheet.freeze_panes = "A2"  # the header stays while scrolling
    for index, header in enumerate(headers, start=1):
        values = [header, *(row[index - 1] for row in rows)]
        width = max(len(_shown(v)) for v in values)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)


def _as_text(sheet: Worksheet, row_index: int, row: list[object]) -> None:
    """Store every text as text: names come from people and unit files, never formulas.

    openpyxl writes a text starting with "=" as a formula (=HYPERLINK(…) would be a live link)
    and "#N/A" as an error; a string cell is shown as typed whatever it starts with (= + - @,
    after spaces, tab or CR too), without an apostrophe that would change the value.
    """
    for column, value in enumerate(row, start=1):
        if isinstance(value, str):
            cell = sheet.cell(row_index, column)
            if cell.data_type != "s":
                cell.data_type = "s"


def _shown(value: object) -> str:
    if isinstance(value, date):
        return "00/00/0000"
    if isinstance(value, float):
        return "100%"
    return "" if value is None else str(value)


def workbook_bytes(
    levels: list[list[tuple[Figures, str]]],
    admissions: list[Admission],
    sheet_rows: int = SHEET_ROWS,
) -> bytes:
    """One sheet per level of the subtree, then every admission of the period."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for n, level in enumerate(levels, start=1):
        rows = [_figure_row(f, parent) for f, parent in level]
        _sheet(workbook, texts.SHEET_LEVEL.format(n=n), texts.LEVEL_HEADERS, rows)
        sheet = workbook[texts.SHEET_LEVEL.format(n=n)]
        for column in _PERCENT_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = "0%"
    admitted = [
        [a.admitted_on, a.youth, texts.ORG_SHORT[Org(a.org)], a.unit, a.introducer, a.phone]
        for a in admissions
    ]
    # Excel opens at most 1,048,576 rows a sheet: a whole country's year needs more than one.
    chunks = [admitted[i : i + sheet_rows] for i in range(0, len(admitted), sheet_rows)] or [[]]
    for n, chunk in enumerate(chunks, start=1):
        title = texts.SHEET_ADMISSIONS if n == 1 else f"{texts.SHEET_ADMISSIONS} ({n})"
        _sheet(workbook, title, texts.ADMISSION_HEADERS, chunk)
        for (cell,) in workbook[title].iter_rows(min_row=2, max_col=1):
            cell.number_format = "DD/MM/YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
