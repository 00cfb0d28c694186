"""The inspection files: a chart (PNG) and the report workbook (XLSX) of the campaign's figures.

Both are built from storage (stats, report_rows) and the text catalog, without a display and
without python-telegram-bot, so the CLI and any chat channel make the same files.

The workbook is what a Tỉnh đoàn files: a first sheet *Báo cáo* in the Vietnamese
administrative layout (heading, title, summary, table of child units with totals, signature),
one sheet per level of the tree, and the list of admissions. It is written row by row
(openpyxl's write-only mode, admissions read a chunk at a time), so memory stays flat
whatever the size of the country.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import os
import re
import textwrap
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from copy import copy
from dataclasses import astuple, dataclass, fields, replace
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties

from bot import texts
from storage import honors, report_rows, stats
from storage.db import Database
from storage.periods import Period
from storage.report_rows import AdmissionRow, MoveRow
from storage.stats import Admission, Figures, Report
from storage.units import Unit
from storage.validation import Org, sort_key

CHART_UNITS = 25
SHEET_ROWS = 1_000_000  # data rows a sheet: below Excel's 1,048,576 with the title rows


def day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- the chart -------------------------------------------------------------------------------

CHART_WIDTH = 6.0  # inches: 1,080 pixels at CHART_DPI, the width of a phone's screen
CHART_DPI = 180
_WRAP = 24  # characters of a unit's name per line at 9 pt


def _wrap(name: str, width: int = _WRAP) -> str:
    """Break between words only: a long word stays whole rather than cut in two."""
    return "\n".join(
        textwrap.wrap(name, width, break_long_words=False, break_on_hyphens=False) or [name]
    )


def _due(target: int, share: float) -> int:
    """Admissions due by the period's end: a started person counts whole."""
    return math.ceil(round(target * share, 9))


def chart_figure(report: Report, as_of: date, limit: int = CHART_UNITS) -> Figure:
    """Admissions against target by child unit, weakest at the top; readable on a phone.

    Counts of people on an integer axis; the share of the target due by the period's end is a
    dark mark across each bar; at most `limit` units, the weakest, and the chart says so.
    """
    rows = report.children[:limit]
    share = report.unit.expected_share
    names = [_wrap(f.unit.name) for f in rows]
    lines = max((name.count("\n") + 1 for name in names), default=1)
    slot = 0.16 + 0.15 * lines  # inches a unit takes, so wrapped names never overlap
    height = 2.3 + slot * max(len(rows), 1)
    # A bare Figure (no pyplot): no global state, so it can be drawn in a worker thread.
    figure = Figure(figsize=(CHART_WIDTH, height), dpi=CHART_DPI, layout="constrained")
    axes = figure.subplots()
    _bars(axes, rows, share)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # people come whole
    axes.set_yticks(range(len(rows)), names, fontsize=9)
    axes.set_ylim(len(rows) - 0.5, -0.5)  # weakest first, at the top
    axes.set_xlabel(texts.CHART_AXIS, fontsize=9)
    axes.tick_params(axis="x", labelsize=8.5)
    axes.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    unit = report.unit
    heading = texts.chart_heading(report.period.label(), _wrap(unit.unit.name, 48))
    figure.suptitle(heading, fontsize=11, fontweight="bold")
    notes = [
        texts.chart_totals(unit.admitted, unit.target, share),
        texts.chart_as_of(day_text(as_of)),
    ]
    if len(report.children) > len(rows):
        notes.append(texts.chart_shown(len(rows), len(report.children)))
    axes.set_title("\n".join(notes), fontsize=8.5, color="#424242")
    _legend(figure, axes, share)
    return figure


def _bars(axes: Axes, rows: list[Figures], share: float) -> None:
    """Target behind, admissions in front (red behind the period's mark, green at or past
    it), the mark itself, and "admitted/target (%)" at the end of each bar."""
    positions = list(range(len(rows)))
    targets = [f.target for f in rows]
    axes.barh(positions, targets, height=0.8, color="#f4c7c3", label=texts.CHART_TARGET)
    due = [f.target * share for f in rows]
    for on_track, color, label in [
        (False, "#c62828", texts.CHART_BEHIND),
        (True, "#2e7d32", texts.CHART_ON_TRACK),
    ]:
        picked = [i for i, f in enumerate(rows) if (f.admitted >= due[i]) is on_track]
        if picked:
            bars = [rows[i].admitted for i in picked]
            axes.barh(picked, bars, height=0.45, color=color, label=label)
    _expected_marks(axes, due, share)
    for y, f in zip(positions, rows, strict=True):
        text = f" {f.admitted}/{f.target} ({texts.percent(f.admitted, f.target)})"
        axes.text(max(f.target, f.admitted), y, text, va="center", fontsize=8.5)
    top = max([*targets, *(f.admitted for f in rows), 1])
    axes.set_xlim(0, top * 1.45)  # room for the labels right of the longest bar


def _legend(figure: Figure, axes: Axes, share: float) -> None:
    """Under the chart, in two columns: target and mark left, the two kinds of bar right."""
    handles, labels = axes.get_legend_handles_labels()
    found = dict(zip(labels, handles, strict=True))
    order = [texts.CHART_TARGET, texts.chart_expected(share), texts.CHART_BEHIND]
    shown = [label for label in [*order, texts.CHART_ON_TRACK] if label in found]
    figure.legend(
        [found[label] for label in shown],
        shown,
        loc="outside lower center",
        ncol=2,
        fontsize=8,
        frameon=False,
    )


def _expected_marks(axes: Axes, due: list[float], share: float) -> None:
    """One line artist: a dark stroke across each bar where the period's share falls."""
    xs: list[float] = []
    ys: list[float] = []
    for y, x in enumerate(due):
        xs += [x, x, math.nan]
        ys += [y - 0.45, y + 0.45, math.nan]
    if xs:
        axes.plot(
            xs, ys, color="#1a237e", linewidth=2.2, label=texts.chart_expected(share), gid="due"
        )


def chart_png(report: Report, as_of: date, limit: int = CHART_UNITS) -> bytes:
    figure = chart_figure(report, as_of, limit)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- figures as table cells ------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """A row's figures; rows add up into totals."""

    members: int = 0
    met: int = 0
    introduced: int = 0
    doan: int = 0
    hoi: int = 0
    declined: int = 0
    pending: int = 0
    target: int = 0

    @classmethod
    def of(cls, f: Figures) -> Counts:
        return cls(
            f.members,
            f.met,
            f.introduced,
            f.admitted_doan,
            f.admitted_hoi,
            f.declined,
            f.pending,
            f.target,
        )

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def __sub__(self, other: Counts) -> Counts:
        return Counts(*(a - b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def admitted(self) -> int:
        return self.doan + self.hoi

    @property
    def empty(self) -> bool:
        return not any(astuple(self))

    def cells(self) -> list[object]:
        """In the order of texts._FIGURE_HEADERS; shares are numbers, formatted as %."""
        return [
            self.members,
            self.met,
            self.met / self.members if self.members else None,
            self.introduced,
            self.doan,
            self.hoi,
            self.admitted,
            self.target,
            self.admitted / self.target if self.target else None,
            self.declined,
            self.pending,
        ]


def total(rows: Sequence[Counts]) -> Counts:
    found = Counts()
    for row in rows:
        found += row
    return found


_FIGURE_COLUMNS = len(fields(Counts)) + 3  # the counts, admitted, and two shares
_SHARES = {2, 8}  # positions of the shares in Counts.cells()
_LEVEL_SHARES = {*_SHARES, _FIGURE_COLUMNS}  # and the period's share after them


# --- the workbook's parts --------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """What the report's heading and signature need besides the figures."""

    today: date
    place: str = ""
    signer_title: str = "BÍ THƯ"


@dataclass(frozen=True)
class Section:
    """One organisation's unit and its subtree, level by level (stats.levels)."""

    levels: list[list[tuple[Figures, str]]]
    path: list[Unit]  # the unit and its parents, root last

    @property
    def figures(self) -> Figures:
        return self.levels[0][0][0]

    @property
    def unit(self) -> Unit:
        return self.figures.unit

    @property
    def org(self) -> Org:
        return self.unit.org

    @property
    def children(self) -> list[Figures]:
        """Direct child units in Vietnamese order."""
        kids = [f for f, _ in self.levels[1]] if len(self.levels) > 1 else []
        return sorted(kids, key=lambda f: (sort_key(f.unit.name), f.unit.code))


_PROVINCE = re.compile(r"^(tỉnh|thành) đoàn\b|\b(tỉnh|thành phố)\b")


def _is_province(name: str) -> bool:
    return _PROVINCE.search(name.casefold()) is not None


def level_names(section: Section) -> list[str]:
    """Names of the section's levels from where they sit in the tree, never from code.

    A province's level is "Cấp tỉnh" and the one under it "Cấp xã" (Đoàn xã/phường, đoàn cơ
    sở); the last level holds branches ("Chi đoàn", "Chi hội"); any other is "Cấp n".
    """
    depth = len(section.path) - 1
    province = next(
        (depth - i for i, unit in enumerate(section.path) if _is_province(unit.name)), None
    )
    found = []
    for k, level in enumerate(section.levels):
        at = depth + k
        if province is None and k > 0 and _mostly_provinces(level):
            province = at  # a national export: the provinces are among the levels
        if at == province:
            found.append(texts.LEVEL_PROVINCE)
        elif province is not None and at == province + 1:
            found.append(texts.LEVEL_COMMUNE)
        elif k == len(section.levels) - 1 and at > 0:
            orgs = {f.unit.org for f, _ in level}
            found.append(texts.LEVEL_BRANCH[orgs.pop()] if len(orgs) == 1 else texts.LEVEL_BRANCHES)
        else:
            found.append(texts.level_numbered(at + 1))
    return found


def _mostly_provinces(level: list[tuple[Figures, str]]) -> bool:
    return 2 * sum(_is_province(f.unit.name) for f, _ in level) > len(level)


def ordered(levels: list[list[tuple[Figures, str]]]) -> list[list[tuple[Figures, str]]]:
    """Each level in tree order: by parent as the level above is listed, then by name."""
    found: list[list[tuple[Figures, str]]] = []
    position: dict[int | None, int] = {}
    for level in levels:
        ranked = sorted(
            level,
            key=lambda fp: (
                position.get(fp[0].unit.parent_id, 0),
                sort_key(fp[0].unit.name),
                fp[0].unit.code,
            ),
        )
        position = {f.unit.id: i for i, (f, _) in enumerate(ranked)}
        found.append(ranked)
    return found


def _introducer(a: AdmissionRow) -> str | None:
    if a.introducer:
        return a.introducer
    return f"({texts.INTRODUCER_GONE})" if a.introducer_gone else None


_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


def _roman(n: int) -> str:
    """Sections are numbered I, II, III…: two organisations and their sum, rarely more."""
    return _ROMAN[n - 1] if n <= len(_ROMAN) else str(n)


# --- cells and styles ------------------------------------------------------------------------

_FONT = "Times New Roman"  # what Vietnamese administrative documents are set in
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_MIDDLE = Alignment(vertical="center")


def _styles() -> list[NamedStyle]:
    """Named styles: each styled cell carries a name, not its own copy of a font and border."""

    def style(
        name: str,
        bold: bool = False,
        fmt: str = "General",
        align: Alignment = _MIDDLE,
        fill: bool = False,
    ) -> NamedStyle:
        found = NamedStyle(name=name, number_format=fmt, border=_BOX, alignment=align)
        found.font = Font(name=_FONT, size=11, bold=bold)
        if fill:  # the header row
            found.fill = PatternFill("solid", fgColor="FFE7E6")
        return found

    return [
        style("bc_head", bold=True, align=_CENTER, fill=True),
        style("bc_text", align=_LEFT),
        style("bc_center", align=_CENTER),
        style("bc_number", fmt="#,##0"),
        style("bc_percent", fmt="0%"),
        style("bc_date", fmt="DD/MM/YYYY", align=_CENTER),
        style("bc_total_text", bold=True, align=_LEFT),
        style("bc_total_number", bold=True, fmt="#,##0"),
        style("bc_total_percent", bold=True, fmt="0%"),
    ]


def safe_cell(sheet: WriteOnlyWorksheet, value: object, style: str | None = None) -> WriteOnlyCell:
    """A cell whose text stays text: names come from people and unit files, never formulas.

    openpyxl writes a text starting with "=" as a formula (=HYPERLINK(…) would be a live link)
    and "#N/A" as an error; a string cell is shown as typed whatever it starts with (= + - @,
    after spaces, tab or CR too), without an apostrophe that would change the value.
    """
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and cell.data_type != "s":
        cell.data_type = "s"
    if style is not None:
        _style(cell, style)
    return cell


_STYLES: weakref.WeakKeyDictionary[Workbook, dict[str, StyleArray]] = weakref.WeakKeyDictionary()


def _style(cell: WriteOnlyCell, name: str) -> None:
    """A named style, looked up once per workbook: on a million rows the lookup costs more
    than the rest of the cell."""
    known = _STYLES.setdefault(cell.parent.parent, {})
    if name in known:
        cell._style = copy(known[name])
    else:
        cell.style = name
        known[name] = copy(cell._style)


def _figure_cells(
    sheet: WriteOnlyWorksheet, values: list[object], bold: bool, shares: set[int] = _SHARES
) -> list[object]:
    prefix = "bc_total_" if bold else "bc_"
    return [
        safe_cell(sheet, v, prefix + ("percent" if i in shares else "number"))
        for i, v in enumerate(values)
    ]


_YIELD_EVERY, _YIELD_FOR = 50, 0.0005  # rows, seconds
_PAGE = 495.0  # points down a landscape A4 page (502 printable), less a little for rounding
_ROW = 15.0  # a line of 11–12 point Times


class _Sheet:
    """A write-only sheet that knows its last row (merges and row heights need the number)
    and, when `paged`, where its pages end: it breaks pages itself, keeps a block together
    and repeats a table's header at the top of the next page."""

    def __init__(
        self,
        book: Workbook,
        title: str,
        widths: Sequence[float],
        landscape: bool = True,
        paged: bool = False,
    ) -> None:
        self.ws: WriteOnlyWorksheet = book.create_sheet(title)
        self.row = 0
        self.columns = len(widths)
        self.paged, self.used = paged, 0.0
        self.repeat: Callable[[], object] | None = None  # writes the header of an open table
        for n, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(n)].width = width
        _print_ready(self.ws, landscape)

    def add(self, cells: Sequence[object], height: float | None = None) -> int:
        if self.paged and height is None:
            height = _ROW  # every row's height set: Excel and LibreOffice break pages alike
        tall = _ROW if height is None else height
        if self.paged and self.used and self.used + tall > _PAGE:
            self.new_page()
        self.used += tall
        self.row += 1
        if height is not None:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append(list(cells))  # written out at once: the row is on disk now
        if height is not None:  # so its height can go (a million of them would stay else)
            del self.ws.row_dimensions[self.row]
        if self.row % _YIELD_EVERY == 0:
            # Sheets are written in a worker thread: hand the interpreter back to the event
            # loop now and then, or the bot would answer only between chunks.
            time.sleep(_YIELD_FOR)
        return self.row

    def new_page(self) -> None:
        self.ws.row_breaks.append(Break(id=self.row))
        self.used = 0.0
        repeat, self.repeat = self.repeat, None
        if repeat is not None:
            repeat()
            self.repeat = repeat

    def keep(self, height: float) -> None:
        """Start a new page unless `height` points still fit on this one."""
        if self.paged and self.used and self.used + height > _PAGE:
            self.new_page()

    def merge(self, first: int, last: int) -> None:
        """Merge the last row's cells from column `first` to `last` (1-based)."""
        if last > first:
            start, end = get_column_letter(first), get_column_letter(last)
            self.ws.merged_cells.add(f"{start}{self.row}:{end}{self.row}")

    def line(
        self,
        text: str,
        font: Font,
        align: Alignment = _LEFT,
        span: tuple[int, int] | None = None,
        height: float | None = None,
    ) -> None:
        """A line of prose across the sheet (or `span` columns), merged, no borders."""
        first, last = span or (1, self.columns)
        cell = safe_cell(self.ws, text)
        cell.font, cell.alignment = font, align
        self.add([None] * (first - 1) + [cell], height)
        self.merge(first, last)

    def pair(self, left: tuple[str, Font], right: tuple[str, Font], split: int) -> None:
        """Two blocks side by side: columns 1…split-2 and split…last (heading, signature)."""
        cells: list[object] = [None] * self.columns
        for (text, font), at in [(left, 0), (right, split - 1)]:
            if text:
                cells[at] = safe_cell(self.ws, text)
                cells[at].font, cells[at].alignment = font, _CENTER  # type: ignore[union-attr]
        self.add(cells)
        self.merge(1, split - 2)
        self.merge(split, self.columns)


def _print_ready(sheet: WriteOnlyWorksheet, landscape: bool) -> None:
    """A4, fit to the page's width, page numbers in the footer."""
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top, sheet.page_margins.bottom = 0.6, 0.7
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = texts.REPORT_PAGE
    sheet.oddFooter.center.size = 9
    sheet.oddFooter.center.font = _FONT


def _font(size: float = 12, bold: bool = False, italic: bool = False, **kw: object) -> Font:
    return Font(name=_FONT, size=size, bold=bold, italic=italic, **kw)  # type: ignore[arg-type]


def _lines_needed(text: str, chars: float) -> int:
    return max(1, math.ceil(len(text) / chars))


# --- sheet "Báo cáo" -------------------------------------------------------------------------

# Columns' widths add up to a landscape A4 page's printable width (10.7 in): printed at 100 %.
_REPORT_WIDTHS = [5, 34, 9, 7.5, 7.5, 8.5, 8, 8, 8, 8, 8.5, 8, 7.5]
_CHARS = 0.9  # characters of 11-point Times a unit of column width holds
_SPLIT = 7  # the right-hand blocks (national motto, signature) start at column G


def _heading_block(sheet: _Sheet, section: Section, heading: Heading) -> None:
    unit, path = section.unit, section.path
    above = path[1].name.upper() if len(path) > 1 else texts.REPORT_ORG_LINE[unit.org]
    body = texts.report_body(unit.org, len(section.levels) == 1, unit.name)
    when = heading.today
    place = texts.report_place_date(heading.place, when.day, when.month, when.year)
    sheet.pair((above, _font()), (texts.REPORT_REPUBLIC, _font(bold=True)), _SPLIT)
    sheet.pair((body, _font(bold=True)), (texts.REPORT_MOTTO, _font(bold=True, u="single")), _SPLIT)
    sheet.pair((texts.REPORT_STARS, _font()), ("", _font()), _SPLIT)
    sheet.pair((texts.REPORT_NUMBER, _font(size=11)), (place, _font(italic=True)), _SPLIT)
    sheet.add([])


def _title_block(sheet: _Sheet, period: Period, today: date) -> None:
    sheet.line(texts.REPORT_TITLE, _font(14, bold=True), _CENTER, height=21)
    sheet.line(texts.report_period_title(period.label()), _font(13, bold=True), _CENTER)
    sheet.line(texts.report_as_of(day_text(today)), _font(11, italic=True), _CENTER)
    sheet.add([])


def _summary(name: str, counts: Counts, period: Period, share: float) -> tuple[str, float]:
    """The paragraph and the height its merged row needs (a merged row never grows itself)."""
    text = texts.report_summary(
        name,
        period.label(),
        counts.members,
        counts.met,
        counts.introduced,
        counts.doan,
        counts.hoi,
        counts.declined,
        counts.pending,
        counts.target,
        share,
        _due(counts.target, share),
    )
    text = "\u2003" + text  # the first line indented, as a paragraph of a letter
    return text, 16.5 * _lines_needed(text, sum(_REPORT_WIDTHS) * _CHARS) + 4


def _paragraph(sheet: _Sheet, text: str, height: float) -> None:
    sheet.line(text, _font(12), Alignment(wrap_text=True, vertical="top"), height=height)


_HEADER = 48.0  # the height of a table's header row


def _table(sheet: _Sheet, rows: list[tuple[str, Counts]], totals: Counts, tail: float = 0) -> None:
    """STT, unit, figures, a totals row; the header again on each page the table runs onto.
    `tail`: the height of what must follow on the same page as the last rows (signature)."""
    ws = sheet.ws

    def header() -> None:
        sheet.add([safe_cell(ws, h, "bc_head") for h in texts.REPORT_TABLE_HEADERS], _HEADER)

    header()
    sheet.repeat = header
    for n, (name, counts) in enumerate(rows, start=1):
        if tail and n == max(len(rows) - 1, 1):
            sheet.keep(_ROW * (len(rows) - n + 2) + tail)
        first = [safe_cell(ws, n, "bc_center"), safe_cell(ws, name, "bc_text")]
        lines = _lines_needed(name, _REPORT_WIDTHS[1] * _CHARS)  # a long name wraps
        sheet.add(first + _figure_cells(ws, counts.cells(), bold=False), _ROW * lines)
    last = [
        safe_cell(ws, None, "bc_total_text"),
        safe_cell(ws, texts.REPORT_TOTAL, "bc_total_text"),
    ]
    sheet.add(last + _figure_cells(ws, totals.cells(), bold=True))
    sheet.repeat = None


def _section_rows(section: Section) -> tuple[list[tuple[str, Counts]], str | None]:
    """Each child unit; then what belongs to the unit itself (its own members) when there is
    any, so that the rows add up to the unit's figures. A target set on the unit itself is its
    whole subtree's, not a share beside its children's: a note says so, under the table."""
    rows = [(f.unit.name, Counts.of(f)) for f in section.children]
    whole = Counts.of(section.figures)
    rest = whole - total([c for _, c in rows])
    note = None
    if section.figures.own_target is not None and rest.target:
        given = whole.target - rest.target
        note = texts.report_own_target(section.unit.name, whole.target, given)
        rest = replace(rest, target=0)
    if not rest.empty:
        rows.append((texts.report_direct(section.unit.name), rest))
    return rows, note


_SIGNATURE = _ROW * 7  # a blank row, the two titles, room to sign


def _signature(sheet: _Sheet, heading: Heading, sections: list[Section]) -> None:
    main = sections[0]
    sign_for = texts.REPORT_SIGN_FOR[len(main.levels) > 1]
    only_hoi = all(s.org is Org.HOI for s in sections)
    title = texts.REPORT_HOI_SIGNER if only_hoi else heading.signer_title
    recipients = texts.REPORT_RECIPIENTS
    rights = [sign_for, title.upper(), "", "", "", ""]
    sheet.keep(_SIGNATURE)
    sheet.add([])
    small, italic = _font(10), _font(11, bold=True, italic=True)
    lefts = [recipients[0], *recipients[1:]]
    for n, right in enumerate(rights):
        left = lefts[n] if n < len(lefts) else ""
        left_font = italic if n == 0 else small
        cells: list[object] = [None] * sheet.columns
        if left:
            cells[0] = safe_cell(sheet.ws, left)
            cells[0].font, cells[0].alignment = left_font, _LEFT  # type: ignore[union-attr]
        if right:
            cells[_SPLIT - 1] = safe_cell(sheet.ws, right)
            cells[_SPLIT - 1].font = _font(12, bold=True)  # type: ignore[union-attr]
            cells[_SPLIT - 1].alignment = _CENTER  # type: ignore[union-attr]
        sheet.add(cells)
        sheet.merge(1, _SPLIT - 2)
        sheet.merge(_SPLIT, sheet.columns)


def _report_sheet(
    book: Workbook, sections: list[Section], period: Period, heading: Heading
) -> None:
    sheet = _Sheet(book, texts.SHEET_REPORT, _REPORT_WIDTHS, paged=True)
    _heading_block(sheet, sections[0], heading)
    _title_block(sheet, period, heading.today)
    several = len(sections) > 1
    for n, section in enumerate(sections, start=1):
        counts = Counts.of(section.figures)
        text, height = _summary(section.unit.name, counts, period, section.figures.expected_share)
        # A section starts where its title, summary and the top of its table fit together;
        # the signature goes with the last rows of the last table.
        tail = 0 if several else _SIGNATURE + _ROW
        keep = _ROW * 2 + height + (_HEADER + _ROW * 3 if len(section.levels) > 1 else tail)
        sheet.keep(keep)
        if several:
            title = texts.report_section(_roman(n), section.unit.name)
            sheet.line(title, _font(12, bold=True))
        _paragraph(sheet, text, height)
        if len(section.levels) > 1:
            sheet.line(texts.REPORT_TABLE_TITLE, _font(12, italic=True))
            rows, note = _section_rows(section)
            _table(sheet, rows, counts, tail)
            if note:
                sheet.line(note, _font(11, italic=True), height=_lines_needed(note, 120) * _ROW)
        sheet.add([])
    if several:
        rows = [(s.unit.name, Counts.of(s.figures)) for s in sections]
        names = " và ".join(s.unit.name for s in sections)
        share = sections[0].figures.expected_share
        text, height = _summary(names, total([c for _, c in rows]), period, share)
        sheet.keep(_ROW + height + _HEADER + _ROW * (len(rows) + 1) + _SIGNATURE)
        sheet.line(f"{_roman(len(sections) + 1)}. {texts.REPORT_COMBINED}", _font(12, bold=True))
        _paragraph(sheet, text, height)
        _table(sheet, rows, total([c for _, c in rows]), _SIGNATURE)
    _signature(sheet, heading, sections)


# --- one sheet per level ---------------------------------------------------------------------


def _level_sheet(
    book: Workbook, title: str, caption: str, level: list[tuple[Figures, str]]
) -> None:
    texts_of = [[f.unit.name for f, _ in level], [p for _, p in level]]
    texts_of.append([f.unit.code for f, _ in level])
    widths = [
        6,
        *(_fit(column, cap) for column, cap in zip(texts_of, (40, 34, 18), strict=True)),
        *([9] * _FIGURE_COLUMNS),
        8,
    ]
    sheet = _Sheet(book, title, widths)
    ws = sheet.ws
    ws.freeze_panes = "C3"  # the title, the header and the unit's name stay while scrolling
    ws.print_title_rows = "1:2"
    sheet.line(caption, _font(12, bold=True), height=20)
    sheet.add([safe_cell(ws, h, "bc_head") for h in texts.REPORT_LEVEL_HEADERS], 48)
    share = level[0][0].expected_share
    for n, (f, parent) in enumerate(level, start=1):
        first = [
            safe_cell(ws, n, "bc_center"),
            safe_cell(ws, f.unit.name, "bc_text"),
            safe_cell(ws, parent or None, "bc_text"),
            safe_cell(ws, f.unit.code, "bc_text"),
        ]
        values = Counts.of(f).cells()
        tall = _height(zip((f.unit.name, parent, f.unit.code), widths[1:4], strict=True))
        sheet.add(first + _figure_cells(ws, [*values, share], False, _LEVEL_SHARES), tall)
    if len(level) > 1:
        sums = total([Counts.of(f) for f, _ in level]).cells()
        first = [safe_cell(ws, v, "bc_total_text") for v in (None, texts.REPORT_TOTAL, None, None)]
        sheet.add(first + _figure_cells(ws, [*sums, share], True, _LEVEL_SHARES))


def _fit(column: list[str], cap: float) -> float:
    """A text column's width: its longest text on one line, up to `cap` (then it wraps)."""
    return min(math.ceil(max([10, *map(len, column)]) / _CHARS) + 2, cap)


def _height(cells: Iterable[tuple[str | None, float]]) -> float:
    """A row's height from its texts and their columns' widths: every row's height is set,
    so that Excel and LibreOffice print the same lines (neither grows a row on opening)."""
    return _ROW * max((_lines_needed(t, w * _CHARS) for t, w in cells if t), default=1)


def _unique(name: str, used: set[str]) -> str:
    """Excel wants sheet names unique and at most 31 characters."""
    found, n = name[:31], 2
    while found in used:
        suffix = f" ({n})"
        found, n = name[: 31 - len(suffix)] + suffix, n + 1
    used.add(found)
    return found


def _level_sheets(book: Workbook, sections: list[Section], period: Period) -> None:
    used = {texts.SHEET_REPORT, texts.SHEET_ADMISSIONS, texts.SHEET_COMMENDATION, texts.SHEET_MOVES}
    for section in sections:
        pairs = list(zip(level_names(section), ordered(section.levels), strict=True))
        # The unit's own row is the totals of the report sheet: a level sheet only for a branch.
        for name, level in pairs[1:] or pairs:
            title = texts.sheet_of_org(section.org, name) if len(sections) > 1 else name
            caption = texts.level_sheet_title(name, section.unit.name, period.label())
            _level_sheet(book, _unique(title, used), caption, level)


# --- the admissions list ---------------------------------------------------------------------

_ADMISSION_WIDTHS = [7, 28, 12, 9, 8, 32, 26, 12, 12, 26, 14]
_ADMISSION_TEXT_WIDTHS = [_ADMISSION_WIDTHS[i] for i in (1, 5, 6, 9)]  # name, unit, introducer…


class _Admissions:
    """The admissions list, written as chunks arrive; a new sheet when one is full."""

    def __init__(self, book: Workbook, caption: str, sheet_rows: int) -> None:
        self.book, self.caption, self.sheet_rows = book, caption, sheet_rows
        self.sheet: _Sheet | None = None
        self.in_sheet = self.count = self.doan = self.hoi = 0
        self.sheets = 0

    def _next_sheet(self) -> _Sheet:
        self.sheets += 1
        title = texts.SHEET_ADMISSIONS
        if self.sheets > 1:
            title = f"{title} ({self.sheets})"
        sheet = _Sheet(self.book, title, _ADMISSION_WIDTHS)
        sheet.ws.freeze_panes = "C3"
        sheet.ws.print_title_rows = "1:2"
        sheet.line(self.caption, _font(12, bold=True), height=20)
        headers = texts.REPORT_ADMISSION_HEADERS
        sheet.add([safe_cell(sheet.ws, h, "bc_head") for h in headers], 36)
        self.sheet, self.in_sheet = sheet, 0
        return sheet

    def add(self, rows: list[AdmissionRow]) -> None:
        for row in rows:
            sheet = self.sheet
            if sheet is None or self.in_sheet >= self.sheet_rows:
                sheet = self._next_sheet()
            self.count += 1
            self.doan += row.org is Org.DOAN
            self.hoi += row.org is Org.HOI
            texts_of = (row.youth, row.unit, row.introducer, row.decided_by)
            tall = _height(zip(texts_of, _ADMISSION_TEXT_WIDTHS, strict=True))
            sheet.add(self._cells(sheet.ws, row), tall)
            self.in_sheet += 1

    def _cells(self, ws: WriteOnlyWorksheet, a: AdmissionRow) -> list[object]:
        born = a.birth_date if a.birth_date is not None else a.birth_year
        return [
            safe_cell(ws, self.count, "bc_center"),
            safe_cell(ws, a.youth, "bc_text"),
            safe_cell(ws, born, "bc_date" if a.birth_date is not None else "bc_center"),
            safe_cell(ws, a.age, "bc_center"),
            safe_cell(ws, texts.ORG_SHORT[a.org], "bc_center"),
            safe_cell(ws, a.unit, "bc_text"),
            safe_cell(ws, _introducer(a), "bc_text"),
            safe_cell(ws, a.introduced_on, "bc_date"),
            safe_cell(ws, a.admitted_on, "bc_date"),
            safe_cell(ws, a.decided_by, "bc_text"),
            safe_cell(ws, a.phone, "bc_center"),
        ]

    def finish(self) -> None:
        sheet = self.sheet or self._next_sheet()
        if self.count:
            line = texts.admissions_total(self.count, self.doan, self.hoi)
        else:
            line = texts.REPORT_NO_ADMISSIONS
        sheet.line(line, _font(11, bold=True), span=(2, len(_ADMISSION_WIDTHS)))


# --- the whole workbook ----------------------------------------------------------------------


async def load_sections(db: Database, unit_ids: Sequence[int], period: Period) -> list[Section]:
    found = []
    for unit_id in unit_ids:
        levels = await stats.levels(db, unit_id, period)
        if levels:
            found.append(Section(levels, await report_rows.lineage(db, unit_id)))
    return found


def _front(book: Workbook, sections: list[Section], period: Period, heading: Heading) -> None:
    """Everything but the admissions: bounded by the number of units, written at once."""
    for style in _styles():
        book.add_named_style(style)
    names = " và ".join(s.unit.name for s in sections)
    book.properties.title = texts.workbook_title(period.label())
    book.properties.subject = names
    book.properties.creator = book.properties.lastModifiedBy = names
    book.properties.language = "vi-VN"
    _report_sheet(book, sections, period, heading)
    _level_sheets(book, sections, period)


async def write_report(
    path: Path,
    db: Database,
    unit_ids: Sequence[int],
    period: Period,
    heading: Heading,
    sheet_rows: int = SHEET_ROWS,
    chunk: int = report_rows.CHUNK,
    progress: Callable[[float], Awaitable[None]] | None = None,
) -> list[Section]:
    """Write the report of these units (one section each) to `path`; [] if none exists.

    The file appears whole or not at all (written beside it, then renamed). The CPU work runs
    in worker threads, one chunk at a time, so the bot keeps answering during a long export.
    """
    sections = await load_sections(db, unit_ids, period)
    if not sections:
        return []
    book = Workbook(write_only=True)
    part = path.with_name(path.name + ".part")
    try:
        await asyncio.to_thread(_front, book, sections, period, heading)
        caption = texts.admissions_title([s.unit.name for s in sections], period.label())
        admissions = _Admissions(book, caption, sheet_rows)
        expected = sum(s.figures.admitted for s in sections)
        ids = [s.unit.id for s in sections]
        done = 0
        async for rows in report_rows.admission_rows(db, ids, period, expected, chunk):
            await asyncio.to_thread(admissions.add, rows)
            done += len(rows)
            if progress is not None and expected:
                await progress(min(done / expected, 0.99))  # saving takes the last moments
        admissions.finish()
        await _commendations(book, db, sections, period)
        await _moves(book, db, sections, period, chunk)
        await asyncio.to_thread(book.save, part)
        os.replace(part, path)
    except BaseException:  # an error, or the bot stopping: no half-written file stays behind
        _discard(book)
        raise
    finally:
        part.unlink(missing_ok=True)
    return sections


_COMMENDATION_WIDTHS = [7, 30, 36, 16]


async def _commendations(
    book: Workbook, db: Database, sections: Sequence[Section], period: Period
) -> None:
    """*Đề nghị tuyên dương*: the members who met 1+1 in the period's year, most admitted
    first, for the year-end commendation decision."""
    year = Period(period.year)
    people = []
    for section in sections:
        people += await honors.top_members(db, section.unit.id, year, limit=10**9)
    sheet = _Sheet(book, texts.SHEET_COMMENDATION, _COMMENDATION_WIDTHS)
    names = [s.unit.name for s in sections]
    sheet.line(texts.commendation_title(names, period.year), _font(12, bold=True), height=20)
    sheet.add([safe_cell(sheet.ws, h, "bc_head") for h in texts.COMMENDATION_HEADERS], 30)
    for number, person in enumerate(people, start=1):
        sheet.add(
            [
                safe_cell(sheet.ws, number, "bc_center"),
                safe_cell(sheet.ws, person.name, "bc_text"),
                safe_cell(sheet.ws, person.where, "bc_text"),
                safe_cell(sheet.ws, person.admitted, "bc_number"),
            ]
        )
    if not people:
        sheet.line(texts.COMMENDATION_NOBODY, _font(11))


_MOVE_WIDTHS = [7, 13, 28, 34, 34]
_MOVE_TEXT_WIDTHS = _MOVE_WIDTHS[2:]  # name, from, to


async def _moves(
    book: Workbook, db: Database, sections: Sequence[Section], period: Period, chunk: int
) -> None:
    """*Chuyển sinh hoạt*: the members who moved in the period (by the day of the move) out
    of or into the report's units, oldest first, so the old unit's leaders see it filed."""
    sheet = _Sheet(book, texts.SHEET_MOVES, _MOVE_WIDTHS)
    sheet.ws.freeze_panes = "A3"
    sheet.ws.print_title_rows = "1:2"
    names = [s.unit.name for s in sections]
    title = texts.moves_title(names, period.label())
    sheet.line(title, _font(12, bold=True), height=20)
    sheet.add([safe_cell(sheet.ws, h, "bc_head") for h in texts.MOVES_HEADERS], 30)
    count = 0

    def add(rows: list[MoveRow], first: int) -> None:
        ws = sheet.ws
        for number, move in enumerate(rows, start=first):
            texts_of = (move.member, move.from_unit, move.to_unit)
            tall = _height(zip(texts_of, _MOVE_TEXT_WIDTHS, strict=True))
            cells = [
                safe_cell(ws, number, "bc_center"),
                safe_cell(ws, move.moved_on, "bc_date"),
                safe_cell(ws, move.member, "bc_text"),
                safe_cell(ws, move.from_unit, "bc_text"),
                safe_cell(ws, move.to_unit, "bc_text"),
            ]
            sheet.add(cells, tall)

    ids = [s.unit.id for s in sections]
    async for rows in report_rows.move_rows(db, ids, period, chunk):
        await asyncio.to_thread(add, rows, count + 1)
        count += len(rows)
    if not count:
        sheet.line(texts.MOVES_NOBODY, _font(11))


def _discard(book: Workbook) -> None:
    """Remove the sheets' scratch files, which openpyxl would otherwise keep until exit."""
    for sheet in book.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None:
            continue
        # The rows' generator first (it ends the XML it opened), then the stream, then the
        # file; any of them may be gone already (save() removes them as it goes).
        for step in (getattr(sheet, "_rows", None), writer):
            if step is not None:
                with contextlib.suppress(Exception):
                    step.close()
        with contextlib.suppress(Exception):
            writer.cleanup()


# --- the plain data annex (the earlier layout) -----------------------------------------------


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


def _plain_sheet(
    book: Workbook,
    title: str,
    headers: list[str],
    rows: list[list[object]],
    formats: Callable[[int], str | None],
) -> None:
    sheet: WriteOnlyWorksheet = book.create_sheet(title)
    for index, header in enumerate(headers, start=1):  # widths before any row: write-only
        width = max(len(_shown(v)) for v in [header, *(row[index - 1] for row in rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"  # the header stays while scrolling
    head = []
    for header in headers:
        cell = safe_cell(sheet, header)
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        head.append(cell)
    sheet.append(head)
    for row in rows:
        cells = []
        for column, value in enumerate(row, start=1):
            cell = safe_cell(sheet, value)
            fmt = formats(column)
            if fmt and value is not None:
                cell.number_format = fmt
            cells.append(cell)
        sheet.append(cells)


def _percent(column: int) -> str | None:
    return "0%" if column in _PERCENT_COLUMNS else None


def _first_is_date(column: int) -> str | None:
    return "DD/MM/YYYY" if column == 1 else None


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
    """The plain data annex of earlier versions: one sheet per level ("Cấp n"), then every
    admission; no heading. The filed report is write_report's."""
    book = Workbook(write_only=True)
    for n, level in enumerate(levels, start=1):
        rows = [_figure_row(f, parent) for f, parent in level]
        _plain_sheet(book, texts.SHEET_LEVEL.format(n=n), texts.LEVEL_HEADERS, rows, _percent)
    admitted = [
        [a.admitted_on, a.youth, texts.ORG_SHORT[Org(a.org)], a.unit, a.introducer, a.phone]
        for a in admissions
    ]
    # Excel opens at most 1,048,576 rows a sheet: a whole country's year needs more than one.
    chunks = [admitted[i : i + sheet_rows] for i in range(0, len(admitted), sheet_rows)] or [[]]
    for n, chunk in enumerate(chunks, start=1):
        title = texts.SHEET_ADMISSIONS if n == 1 else f"{texts.SHEET_ADMISSIONS} ({n})"
        _plain_sheet(book, title, texts.ADMISSION_HEADERS, chunk, _first_is_date)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
