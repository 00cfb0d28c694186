"""/donvi (/unit): the picture of a unit for its leader, with its children a tap away."""

from __future__ import annotations

from bot import texts
from handlers import picker
from handlers.chat import Button, Choice, Rows, Turn
from handlers.common import current_actor, parse_button, refuse
from storage import roles, units, unitview
from storage.roles import Actor, Role
from storage.units import Unit

NAMES_PER_PAGE = 30
CHILD_BUTTONS = 10


async def _send_picture(turn: Turn, unit_id: int) -> None:
    deps = turn.deps
    view = await unitview.picture(deps.db, unit_id, deps.today(), deps.settings.tz)
    if view is None:
        await refuse(turn)
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
        coverage=view.coverage,
        assigned=view.assigned,
    )
    rows = [
        [
            Button(texts.BTN_NOT_MET, f"dv:n:{unit_id}:0"),
            Button(texts.BTN_MET, f"dv:m:{unit_id}:0"),
        ]
    ]
    rows += _children_rows(view.children, unit_id, 0)
    await turn.say(text, rows)


def _children_rows(children: list[Unit], unit_id: int, page: int) -> Rows:
    """One page of child units, with paging when a unit has more than fit."""
    shown = children[page * CHILD_BUTTONS : (page + 1) * CHILD_BUTTONS]
    rows = [[Button(f"📂 {kid.name}", f"dv:u:{kid.id}:0")] for kid in shown]
    nav = []
    if page > 0:
        nav.append(Button(texts.BTN_PREV, f"dv:c:{unit_id}:{page - 1}"))
    if (page + 1) * CHILD_BUTTONS < len(children):
        nav.append(Button(texts.BTN_NEXT, f"dv:c:{unit_id}:{page + 1}"))
    if nav:
        rows.append(nav)
    return rows


async def _send_children(turn: Turn, unit_id: int, page: int) -> None:
    async with turn.deps.db.read() as conn:
        unit = await units.get(conn, unit_id)
        kids = await units.children(conn, unit_id)
    if unit is None:
        await refuse(turn)
        return
    pages = max(1, -(-len(kids) // CHILD_BUTTONS))
    page = min(max(page, 0), pages - 1)
    text = texts.children_page(unit.name, page, pages)
    await turn.say(text, _children_rows(kids, unit_id, page))


async def _send_names(turn: Turn, unit_id: int, met: bool, page: int) -> None:
    deps = turn.deps
    view = await unitview.picture(deps.db, unit_id, deps.today(), deps.settings.tz)
    if view is None:
        await refuse(turn)
        return
    names = view.met if met else view.not_met
    pages = max(1, -(-len(names) // NAMES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    title = texts.met_title(len(names)) if met else texts.not_met_title(len(names))
    shown = names[page * NAMES_PER_PAGE : (page + 1) * NAMES_PER_PAGE]
    op = "m" if met else "n"
    nav = []
    if page > 0:
        nav.append(Button(texts.BTN_PREV, f"dv:{op}:{unit_id}:{page - 1}"))
    if page < pages - 1:
        nav.append(Button(texts.BTN_NEXT, f"dv:{op}:{unit_id}:{page + 1}"))
    text = f"{view.unit.name}\n{texts.names_page(title, shown, page, pages)}"
    await turn.say(text, [nav] if nav else None)


@picker.purpose("dv", Role.LEADER, texts.PICK_UNIT_VIEW)
async def chosen(turn: Turn, actor: Actor, unit: Unit) -> None:
    await _send_picture(turn, unit.id)


async def show_unit(turn: Turn) -> None:
    await picker.offer(turn, "dv")


async def press(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    parsed = parse_button(turn.incoming.data, "dv", "unmc", 2)
    if parsed is None:
        await refuse(turn)
        return
    op, (unit_id, page) = parsed
    actor = await current_actor(turn)
    if not await roles.may(turn.deps.db, actor, unit_id, Role.LEADER):
        await refuse(turn)
        return
    await turn.out.toast()
    if op == "u":
        await _send_picture(turn, unit_id)
    elif op == "c":
        await _send_children(turn, unit_id, page)
    else:
        await _send_names(turn, unit_id, op == "m", page)
