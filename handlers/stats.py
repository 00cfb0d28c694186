"""/stats (/thongke): figures by unit and period, a chart; /xuat (/export): the XLSX report.

Buttons carry "st:<op>:<unit>:<period>:<page>" (op: v view, c chart, x export) and are checked
at each press: the user must still lead or administer that unit.
"""

from __future__ import annotations

import asyncio
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import reports, texts
from handlers.common import Context, current_actor, refuse, say
from storage import roles, stats, units
from storage.periods import Period, parse_period
from storage.roles import Actor, Role
from storage.stats import Figures, Report

PAGE_SIZE = 8
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
    )


async def _render(
    context: Context, actor: Actor, report: Report, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    period = report.period.label()
    unit = report.unit.unit
    pages = max(1, -(-len(report.children) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = report.children[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    parts = [texts.stats_header(period, unit.name), _block(report.unit)]
    if shown:
        lines = [_child_line(page * PAGE_SIZE + i, f) for i, f in enumerate(shown, start=1)]
        parts += ["", texts.stats_children_title(page, pages), *lines, "", texts.STATS_LEGEND]

    def button(label: str, op: str, unit_id: int, to_page: int = 0) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=f"st:{op}:{unit_id}:{period}:{to_page}")

    rows = [[button(f"📂 {f.unit.name}", "v", f.unit.id)] for f in shown]
    nav = []
    if page > 0:
        nav.append(button(texts.BTN_PREV, "v", unit.id, page - 1))
    if page < pages - 1:
        nav.append(button(texts.BTN_NEXT, "v", unit.id, page + 1))
    if unit.parent_id is not None and await roles.may(
        context.deps.db, actor, unit.parent_id, Role.LEADER
    ):
        nav.append(button(texts.BTN_UP, "v", unit.parent_id))
    if nav:
        rows.append(nav)
    extra = [button(texts.BTN_EXPORT, "x", unit.id)]
    if report.children:
        extra.insert(0, button(texts.BTN_CHART, "c", unit.id))
    rows.append(extra)
    return "\n".join(parts), InlineKeyboardMarkup(rows)


async def _target(update: Update, context: Context, usage: str) -> tuple[Actor, int, Period] | None:
    """Parse "[period] [unit code]"; say why not and return None when it cannot be served."""
    actor = await current_actor(update, context)
    if not actor.holds_any(Role.LEADER):
        await say(update, context, texts.NOT_A_LEADER)
        return None
    period = Period(context.deps.today().year)
    code = None
    if len(context.args or []) > 2:
        await say(update, context, usage)
        return None
    for arg in context.args or []:
        if re.fullmatch(r"[0-9]{4}(-[A-Za-z0-9]+)?", arg):
            parsed = parse_period(arg)
            if parsed is None:
                await say(update, context, texts.period_invalid(arg))
                return None
            period = parsed
        else:
            code = arg
    if code is None:
        tops = actor.top_units(Role.LEADER)
        async with context.deps.db.read() as conn:
            found = [u for u in [await units.get(conn, t) for t in tops] if u is not None]
        found.sort(key=lambda u: (u.parent_id is not None, u.name.casefold()))
        unit_id = found[0].id
    else:
        async with context.deps.db.read() as conn:
            unit = await units.get_by_code(conn, code)
        if unit is None or not await roles.may(context.deps.db, actor, unit.id, Role.LEADER):
            await refuse(update, context)  # an unknown code and a foreign one look the same
            return None
        unit_id = unit.id
    return actor, unit_id, period


async def _send_chart(update: Update, context: Context, report: Report) -> None:
    if not report.children:
        await say(update, context, texts.NO_CHILDREN_CHART)
        return
    chat = update.effective_chat
    assert chat is not None
    # Drawing and writing files take CPU time: off the event loop, so the bot keeps answering.
    png = await asyncio.to_thread(reports.chart_png, report)
    await context.bot.send_photo(chat.id, InputFile(png, filename="bieudo.png"))


async def _send_export(update: Update, context: Context, unit_id: int, period: Period) -> None:
    db = context.deps.db
    levels = await stats.levels(db, unit_id, period)
    admitted = await stats.admissions(db, unit_id, period)
    unit = levels[0][0][0].unit
    data = await asyncio.to_thread(reports.workbook_bytes, levels, admitted)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(data, filename=texts.export_filename(period.label(), unit.code)),
        caption=texts.export_caption(period.label(), unit.name),
    )


async def show_stats(update: Update, context: Context) -> None:
    target = await _target(update, context, texts.STATS_USAGE)
    if target is None:
        return
    actor, unit_id, period = target
    report = await stats.report(context.deps.db, unit_id, period)
    assert report is not None
    text, markup = await _render(context, actor, report, 0)
    await say(update, context, text, markup)
    if report.children:
        await _send_chart(update, context, report)


async def export(update: Update, context: Context) -> None:
    target = await _target(update, context, texts.EXPORT_USAGE)
    if target is not None:
        await _send_export(update, context, target[1], target[2])


async def press(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    match = _BUTTON.match(query.data)
    period = parse_period(match[3]) if match else None
    actor = await current_actor(update, context)
    if (
        match is None
        or period is None
        or not await roles.may(context.deps.db, actor, int(match[2]), Role.LEADER)
    ):
        await refuse(update, context)
        return
    op, unit_id, page = match[1], int(match[2]), int(match[4])
    report = await stats.report(context.deps.db, unit_id, period)
    if report is None:
        await refuse(update, context)
        return
    await query.answer()
    if op == "v":
        text, markup = await _render(context, actor, report, page)
        await query.edit_message_text(text, reply_markup=markup)
    elif op == "c":
        await _send_chart(update, context, report)
    else:
        await _send_export(update, context, unit_id, period)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["stats", "thongke"], show_stats, private))
    app.add_handler(CommandHandler(["xuat", "export"], export, private))
    app.add_handler(CallbackQueryHandler(press, pattern=r"^st:"))
