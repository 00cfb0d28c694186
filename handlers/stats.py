"""/stats (/thongke): figures by unit and period, a chart; /xuat (/export): the XLSX report.

Buttons carry "st:<op>:<unit>:<period>:<page>" and are checked at each press: the user must
still lead or administer that unit. On a report: v view (in place), c chart, x export. Answers
to "which unit?": s the figures and chart, y the report; with unit 0, the user's top units
all together: a the figures and chart of each in turn, e one workbook with a section each.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

from bot import reports, texts
from handlers import picker
from handlers.background import Progress
from handlers.chat import Button, Choice, File, Reply, Rows, Turn
from handlers.common import current_actor, refuse
from storage import roles, stats
from storage.periods import Period, parse_period
from storage.roles import Actor, Role
from storage.stats import Figures, Report
from storage.units import Unit
from storage.validation import Org

PAGE_SIZE = 8
FILE_LIMIT = 50 * 1024 * 1024  # what a Telegram bot may upload; bigger goes by link
_BUTTON = re.compile(r"^st:([vcxsyae]):([0-9]{1,9}):([0-9]{4}(?:-[HQ][1-4])?):([0-9]{1,4})$")


def _block(f: Figures) -> str:
    return texts.stats_block(
        f.members,
        f.met,
        f.introduced,
        f.admitted_doan,
        f.admitted_hoi,
        f.declined,
        f.pending,
        f.target,
        f.expected_share,
        coverage=f.coverage,
        assigned=f.assigned,
    )


def _child_line(rank: int, f: Figures) -> str:
    return texts.stats_child(
        rank,
        f.unit.name,
        f.admitted,
        f.target,
        f.members,
        f.met,
        f.introduced,
        f.admitted_doan,
        f.admitted_hoi,
        f.declined,
        f.pending,
        headcount=f.headcount if f.coverage else None,
    )


async def _render(turn: Turn, actor: Actor, report: Report, page: int) -> tuple[str, Rows]:
    period = report.period.label()
    unit = report.unit.unit
    pages = max(1, -(-len(report.children) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = report.children[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    parts = [texts.stats_header(period, unit.name), _block(report.unit)]
    if shown:
        lines = [_child_line(page * PAGE_SIZE + i, f) for i, f in enumerate(shown, start=1)]
        parts += ["", texts.stats_children_title(page, pages), *lines, "", texts.STATS_LEGEND]

    def button(label: str, op: str, unit_id: int, to_page: int = 0) -> Button:
        return Button(label, f"st:{op}:{unit_id}:{period}:{to_page}")

    rows = [[button(f"📂 {f.unit.name}", "v", f.unit.id)] for f in shown]
    nav = []
    if page > 0:
        nav.append(button(texts.BTN_PREV, "v", unit.id, page - 1))
    if page < pages - 1:
        nav.append(button(texts.BTN_NEXT, "v", unit.id, page + 1))
    if unit.parent_id is not None and await roles.may(
        turn.deps.db, actor, unit.parent_id, Role.LEADER
    ):
        nav.append(button(texts.BTN_UP, "v", unit.parent_id))
    if nav:
        rows.append(nav)
    extra = [button(texts.BTN_EXPORT, "x", unit.id)]
    if report.children:
        extra.insert(0, button(texts.BTN_CHART, "c", unit.id))
    rows.append(extra)
    return "\n".join(parts), rows


async def _leader(turn: Turn) -> Actor | None:
    actor = await current_actor(turn)
    if not actor.holds_any(Role.LEADER):
        await turn.say(texts.NOT_A_LEADER)
        return None
    return actor


async def _asked(turn: Turn, usage: str, op: str) -> tuple[Actor, list[Unit], Period] | None:
    """The units "[period] [unit]" asks for: the one typed (found within the user's reach),
    or, without one, the user's top units. None when something was said instead: the usage,
    a wrong period, a unit not found, or the choices among several units that match."""
    actor = await _leader(turn)
    if actor is None:
        return None
    args = await picker.read_args(turn, usage)
    if args is None:
        return None
    reach = actor.top_units(Role.LEADER)
    label = args.period.label()
    if args.unit is None:
        return actor, await picker.top_units(turn, reach), args.period
    unit = await picker.find(turn, args.unit, reach, lambda u: f"st:{op}:{u.id}:{label}:0")
    return (actor, [unit], args.period) if unit is not None else None


def _both(tops: list[Unit]) -> list[Unit]:
    """Several top units together, as the report's sections go: Đoàn, then Hội."""
    order = list(Org)
    return sorted(tops, key=lambda u: order.index(u.org))  # stable: Vietnamese order within


async def _ask_top(turn: Turn, tops: list[Unit], period: Period, question: str, ops: str) -> None:
    """Several top units: which one, or all of them together (ops: one unit's, all's)."""
    label = period.label()
    one, every = ops
    rows: Rows = [[Button(u.name, f"st:{one}:{u.id}:{label}:0")] for u in tops]
    orgs = [u.org for u in tops]
    both = len(tops) == 2 and set(orgs) == set(Org)
    together = texts.BTN_BOTH_ORGS if both else texts.btn_all_units(len(tops))
    rows.append([Button(together, f"st:{every}:0:{label}:0")])
    await turn.say(question, rows)


async def _send_chart(turn: Turn, report: Report) -> None:
    if not report.children:
        await turn.say(texts.NO_CHILDREN_CHART)
        return
    as_of = turn.deps.today()
    # Drawing and writing files take CPU time: off the event loop, so the bot keeps answering.
    png = await asyncio.to_thread(reports.chart_png, report, as_of)
    f = report.unit
    caption = texts.chart_caption(
        f.unit.name,
        report.period.label(),
        f.admitted,
        f.target,
        f.expected_share,
        reports.day_text(as_of),
    )
    shown = min(len(report.children), reports.CHART_UNITS)
    if shown < len(report.children):
        caption += (
            f"\n{texts.chart_shown(shown, len(report.children))}. {texts.CHART_ALL_IN_EXPORT}"
        )
    await turn.out.send(Reply(picture=File("bieudo.png", png, caption)))


async def _send_export(turn: Turn, unit_id: int, period: Period) -> None:
    await _send_report(turn, [unit_id], period)


async def _send_report(turn: Turn, unit_ids: list[int], period: Period) -> None:
    """The report of these units, prepared in the background (nobody else waits for it)."""

    async def work(progress: Progress) -> Reply:
        return await _report_reply(turn, unit_ids, period, progress)

    await turn.deps.heavy.start(turn, work)


async def _report_reply(
    turn: Turn, unit_ids: list[int], period: Period, progress: Progress
) -> Reply:
    """The report of these units (one section each), written to a scratch file, then sent; a
    file bigger than a chat may carry goes by link (or is said to be too big)."""
    deps = turn.deps
    settings = deps.settings
    heading = reports.Heading(deps.today(), settings.report_place, settings.report_signer_title)
    with tempfile.TemporaryDirectory(prefix="motcongmot-") as folder:
        path = Path(folder) / "baocao.xlsx"
        sections = await reports.write_report(
            path, deps.db, unit_ids, period, heading, progress=progress
        )
        if not sections:
            return Reply(texts.NO_PERMISSION)
        # The channels send bytes: the compressed file, never the workbook being built.
        data = await asyncio.to_thread(path.read_bytes)
    label = period.label()
    name = texts.export_filename(label, "-".join(s.unit.code for s in sections))
    caption = texts.export_caption(label, " và ".join(s.unit.name for s in sections))
    if len(data) <= FILE_LIMIT:
        return Reply(file=File(name, data, caption))
    if deps.files is not None:
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Reply(texts.file_link(caption, deps.files.put(name, data, kind)))
    return Reply(texts.file_too_big(len(data) // (1024 * 1024)))


async def _show(turn: Turn, actor: Actor, unit_id: int, period: Period) -> None:
    """A unit's figures with their buttons, then its chart."""
    report = await stats.report(turn.deps.db, unit_id, period)
    if report is None:
        await refuse(turn)
        return
    text, choices = await _render(turn, actor, report, 0)
    await turn.say(text, choices)
    if report.children:
        await _send_chart(turn, report)


async def show_stats(turn: Turn) -> None:
    """/stats [period] [unit]: with several top units and none typed, asks which (or all)."""
    asked = await _asked(turn, texts.STATS_USAGE, "s")
    if asked is None:
        return
    actor, found, period = asked
    if len(found) > 1:
        await _ask_top(turn, found, period, texts.pick_top_stats(period.label()), "sa")
    elif found:
        await _show(turn, actor, found[0].id, period)


async def export(turn: Turn) -> None:
    """/xuat [period] [unit | doan | hoi]: one unit's report; with several top units and none
    typed, asks which, or all of them in one workbook (a section each)."""
    asked = await _asked(turn, texts.EXPORT_ORG_USAGE, "y")
    if asked is None:
        return
    _actor, found, period = asked
    if len(found) > 1:
        await _ask_top(turn, found, period, texts.pick_top_export(period.label()), "ye")
    elif found:
        await _send_report(turn, [found[0].id], period)


async def _all_tops(turn: Turn, actor: Actor) -> list[Unit]:
    return _both(await picker.top_units(turn, actor.top_units(Role.LEADER)))


async def press(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    match = _BUTTON.match(turn.incoming.data)
    period = parse_period(match[3]) if match else None
    actor = await current_actor(turn)
    if match is None or period is None:
        await refuse(turn)
        return
    op, unit_id, page = match[1], int(match[2]), int(match[4])
    if op in "ae":  # an answer to "which top unit?": all of them
        tops = await _all_tops(turn, actor) if unit_id == 0 else []
        if len(tops) < 2:
            await refuse(turn)
            return
        await turn.out.toast()
        await turn.out.settle()
        if op == "e":
            await _send_report(turn, [u.id for u in tops], period)
        else:
            for unit in tops:
                await _show(turn, actor, unit.id, period)
        return
    if not await roles.may(turn.deps.db, actor, unit_id, Role.LEADER):
        await refuse(turn)
        return
    if op in "sy":  # an answer to "which unit?"
        await turn.out.toast()
        await turn.out.settle()
        if op == "s":
            await _show(turn, actor, unit_id, period)
        else:
            await _send_report(turn, [unit_id], period)
        return
    report = await stats.report(turn.deps.db, unit_id, period)
    if report is None:
        await refuse(turn)
        return
    await turn.out.toast()
    if op == "v":
        text, choices = await _render(turn, actor, report, page)
        await turn.out.replace(Reply(text, choices))
    elif op == "c":
        await _send_chart(turn, report)
    else:
        await _send_export(turn, unit_id, period)
