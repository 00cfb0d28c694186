"""/stats (/thongke): figures by unit and period, a chart; /xuat (/export): the XLSX report.

Buttons carry "st:<op>:<unit>:<period>:<page>" (op: v view, c chart, x export) and are checked
at each press: the user must still lead or administer that unit.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from bot import reports, texts
from handlers.background import Progress
from handlers.chat import Button, Choice, Command, File, Reply, Rows, Turn, fold
from handlers.common import current_actor, refuse
from storage import roles, stats, units
from storage.periods import Period, parse_period
from storage.roles import Actor, Role
from storage.stats import Figures, Report
from storage.validation import Org

PAGE_SIZE = 8
FILE_LIMIT = 50 * 1024 * 1024  # what a Telegram bot may upload; bigger goes by link
_PERIOD_ARG = re.compile(r"[0-9]{4}(-[A-Za-z0-9]+)?")  # as _target reads a period
_BUTTON = re.compile(r"^st:([vcx]):([0-9]{1,9}):([0-9]{4}(?:-[HQ][1-4])?):([0-9]{1,4})$")


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


async def _target(turn: Turn, usage: str) -> tuple[Actor, int, Period] | None:
    """Parse "[period] [unit code]"; say why not and return None when it cannot be served."""
    actor = await current_actor(turn)
    if not actor.holds_any(Role.LEADER):
        await turn.say(texts.NOT_A_LEADER)
        return None
    period = Period(turn.deps.today().year)
    code = None
    if len(turn.args) > 2:
        await turn.say(usage)
        return None
    for arg in turn.args:
        if re.fullmatch(r"[0-9]{4}(-[A-Za-z0-9]+)?", arg):
            parsed = parse_period(arg)
            if parsed is None:
                await turn.say(texts.period_invalid(arg))
                return None
            period = parsed
        else:
            code = arg
    if code is None:
        tops = actor.top_units(Role.LEADER)
        async with turn.deps.db.read() as conn:
            found = [u for u in [await units.get(conn, t) for t in tops] if u is not None]
        found.sort(key=lambda u: (u.parent_id is not None, u.name.casefold()))
        unit_id = found[0].id
    else:
        async with turn.deps.db.read() as conn:
            unit = await units.get_by_code(conn, code)
        if unit is None or not await roles.may(turn.deps.db, actor, unit.id, Role.LEADER):
            await refuse(turn)  # an unknown code and a foreign one look the same
            return None
        unit_id = unit.id
    return actor, unit_id, period


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


_ORGS = {"doan": Org.DOAN, "hoi": Org.HOI}


async def _scope(turn: Turn, actor: Actor, wanted: list[Org]) -> list[int]:
    """Without a unit code: the actor's top unit of each organisation (the first as /stats
    chooses it), Đoàn then Hội, or only those asked for."""
    async with turn.deps.db.read() as conn:
        tops = [await units.get(conn, t) for t in actor.top_units(Role.LEADER)]
    found = sorted(
        (u for u in tops if u is not None),
        key=lambda u: (u.parent_id is not None, u.name.casefold()),
    )
    first = {org: next((u.id for u in found if u.org is org), None) for org in Org}
    return [unit for org in wanted or list(Org) if (unit := first[org]) is not None]


async def show_stats(turn: Turn) -> None:
    target = await _target(turn, texts.STATS_USAGE)
    if target is None:
        return
    actor, unit_id, period = target
    report = await stats.report(turn.deps.db, unit_id, period)
    assert report is not None
    text, choices = await _render(turn, actor, report, 0)
    await turn.say(text, choices)
    if report.children:
        await _send_chart(turn, report)


async def export(turn: Turn) -> None:
    """/xuat [period] [unit code | doan | hoi]: one unit's report, or, without a code, Đoàn
    and Hội together when the user's scope holds both."""
    wanted = [_ORGS[fold(a)] for a in turn.args if fold(a) in _ORGS]
    rest = tuple(a for a in turn.args if fold(a) not in _ORGS)
    asked = turn
    if wanted and isinstance(turn.incoming, Command):  # _target reads the rest as before
        asked = replace(turn, incoming=Command(turn.incoming.name, rest))
    target = await _target(asked, texts.EXPORT_ORG_USAGE)
    if target is None:
        return
    actor, unit_id, period = target
    if any(not _PERIOD_ARG.fullmatch(a) for a in rest):  # a unit code: that unit alone
        await _send_report(turn, [unit_id], period)
        return
    found = await _scope(turn, actor, wanted)
    if not found:
        await refuse(turn)
        return
    await _send_report(turn, found, period)


async def press(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    match = _BUTTON.match(turn.incoming.data)
    period = parse_period(match[3]) if match else None
    actor = await current_actor(turn)
    if (
        match is None
        or period is None
        or not await roles.may(turn.deps.db, actor, int(match[2]), Role.LEADER)
    ):
        await refuse(turn)
        return
    op, unit_id, page = match[1], int(match[2]), int(match[4])
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
