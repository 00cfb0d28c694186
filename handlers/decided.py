"""/daduyet (/decided): the referrals a leader's units have decided, the latest first, so the
leader finds the number to give /molai.

Pages carry "dd:m:<page>[:<unit id>]", a unit chosen among several matches "dd:u:<unit id>";
each press checks again that the user still leads that unit.
"""

from __future__ import annotations

from bot import texts
from handlers.chat import Button, Choice, Rows, Turn
from handlers.common import current_actor, parse_button, refuse
from handlers.review import Queue, queue_for, typed_unit
from storage import referrals
from storage.roles import Actor, Role

PAGE_SIZE = 10
MAX_PAGE = 9999  # what a button may carry


async def _page(turn: Turn, actor: Actor, queue: Queue, page: int) -> tuple[str, Rows]:
    own = actor.member.id if actor.member else None
    found = await referrals.decided_page(
        turn.deps.db, queue.scope, own, page * PAGE_SIZE, PAGE_SIZE + 1
    )
    shown = found[:PAGE_SIZE]
    if not shown:
        return texts.NO_DECIDED, []
    title = texts.decided_title(queue.unit.name if queue.unit else None, page)
    lines = [
        texts.decided_line(r.id, r.full_name, r.status.value, r.day.strftime("%d/%m/%Y"))
        for r in shown
    ]
    rows: Rows = []
    if len(found) > PAGE_SIZE and page < MAX_PAGE:
        rows.append([Button(texts.BTN_MORE, f"dd:m:{page + 1}{queue.suffix}")])
    return "\n".join([title, *lines, "", texts.DECIDED_HINT]), rows


async def show_decided(turn: Turn) -> None:
    actor = await current_actor(turn)
    if not actor.holds_any(Role.LEADER):
        await turn.say(texts.NOT_A_LEADER)
        return
    go, unit = await typed_unit(turn, actor, "dd:u")
    if not go:
        return
    queue = Queue([unit.id], unit) if unit else Queue(actor.top_units(Role.LEADER))
    text, rows = await _page(turn, actor, queue, 0)
    await turn.say(text, rows)


def _parse(data: str) -> tuple[int, int | None] | None:
    """(page, unit id or None) of a page button or a unit choice."""
    limited = parse_button(data, "dd", "m", 2)
    if limited is not None:
        return limited[1][0], limited[1][1]
    plain = parse_button(data, "dd", "mu", 1)
    if plain is None:
        return None
    op, (first,) = plain
    return (first, None) if op == "m" else (0, first)


async def press(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    parsed = _parse(turn.incoming.data)
    actor = await current_actor(turn)
    if parsed is None or parsed[0] > MAX_PAGE or not actor.holds_any(Role.LEADER):
        await refuse(turn)
        return
    page, unit_id = parsed
    queue = await queue_for(turn, actor, unit_id)
    if queue is None:
        await refuse(turn)
        return
    await turn.out.toast()
    await turn.out.drop_choices()
    text, rows = await _page(turn, actor, queue, page)
    await turn.say(text, rows)
