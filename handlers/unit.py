"""/donvi (/unit): the picture of a unit for its leader, with its children a tap away."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import texts
from handlers import picker
from handlers.common import Context, current_actor, parse_button, refuse, say
from storage import roles, units, unitview
from storage.roles import Actor, Role
from storage.units import Unit

NAMES_PER_PAGE = 30
CHILD_BUTTONS = 10


async def _send_picture(update: Update, context: Context, unit_id: int) -> None:
    deps = context.deps
    view = await unitview.picture(deps.db, unit_id, deps.today(), deps.settings.tz)
    if view is None:
        await refuse(update, context)
        return
    text = texts.unit_picture(
        view.unit.name,
        view.year,
        view.members,
        len(view.met),
        view.introduced,
        view.admitted,
        view.declined,
        view.pending,
        view.target,
        view.expected_share,
    )
    rows = [
        [
            InlineKeyboardButton(texts.BTN_NOT_MET, callback_data=f"dv:n:{unit_id}:0"),
            InlineKeyboardButton(texts.BTN_MET, callback_data=f"dv:m:{unit_id}:0"),
        ]
    ]
    rows += _children_rows(view.children, unit_id, 0)
    await say(update, context, text, InlineKeyboardMarkup(rows))


def _children_rows(
    children: list[Unit], unit_id: int, page: int
) -> list[list[InlineKeyboardButton]]:
    """One page of child units, with paging when a unit has more than fit."""
    shown = children[page * CHILD_BUTTONS : (page + 1) * CHILD_BUTTONS]
    rows = [
        [InlineKeyboardButton(f"📂 {kid.name}", callback_data=f"dv:u:{kid.id}:0")] for kid in shown
    ]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(texts.BTN_PREV, callback_data=f"dv:c:{unit_id}:{page - 1}"))
    if (page + 1) * CHILD_BUTTONS < len(children):
        nav.append(InlineKeyboardButton(texts.BTN_NEXT, callback_data=f"dv:c:{unit_id}:{page + 1}"))
    if nav:
        rows.append(nav)
    return rows


async def _send_children(update: Update, context: Context, unit_id: int, page: int) -> None:
    async with context.deps.db.read() as conn:
        unit = await units.get(conn, unit_id)
        kids = await units.children(conn, unit_id)
    if unit is None:
        await refuse(update, context)
        return
    pages = max(1, -(-len(kids) // CHILD_BUTTONS))
    page = min(max(page, 0), pages - 1)
    text = texts.children_page(unit.name, page, pages)
    await say(update, context, text, InlineKeyboardMarkup(_children_rows(kids, unit_id, page)))


async def _send_names(update: Update, context: Context, unit_id: int, met: bool, page: int) -> None:
    deps = context.deps
    view = await unitview.picture(deps.db, unit_id, deps.today(), deps.settings.tz)
    if view is None:
        await refuse(update, context)
        return
    names = view.met if met else view.not_met
    pages = max(1, -(-len(names) // NAMES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    title = texts.met_title(len(names)) if met else texts.not_met_title(len(names))
    shown = names[page * NAMES_PER_PAGE : (page + 1) * NAMES_PER_PAGE]
    op = "m" if met else "n"
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(texts.BTN_PREV, callback_data=f"dv:{op}:{unit_id}:{page - 1}")
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(texts.BTN_NEXT, callback_data=f"dv:{op}:{unit_id}:{page + 1}")
        )
    text = f"{view.unit.name}\n{texts.names_page(title, shown, page, pages)}"
    await say(update, context, text, InlineKeyboardMarkup([nav]) if nav else None)


@picker.purpose("dv", Role.LEADER, texts.PICK_UNIT_VIEW)
async def chosen(update: Update, context: Context, actor: Actor, unit: Unit) -> None:
    await _send_picture(update, context, unit.id)


async def show_unit(update: Update, context: Context) -> None:
    await picker.offer(update, context, "dv")


async def press(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    parsed = parse_button(query.data, "dv", "unmc", 2)
    if parsed is None:
        await refuse(update, context)
        return
    op, (unit_id, page) = parsed
    actor = await current_actor(update, context)
    if not await roles.may(context.deps.db, actor, unit_id, Role.LEADER):
        await refuse(update, context)
        return
    await query.answer()
    if op == "u":
        await _send_picture(update, context, unit_id)
    elif op == "c":
        await _send_children(update, context, unit_id, page)
    else:
        await _send_names(update, context, unit_id, op == "m", page)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["donvi", "unit"], show_unit, private))
    app.add_handler(CallbackQueryHandler(press, pattern=r"^dv:"))
