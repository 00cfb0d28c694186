"""/vinhdanh (/honors): for a unit and a period, the members who brought the most youths in and
the units furthest ahead of the share expected by now. Members see their own unit; leaders and
admins any unit of their reach (same arguments as /stats: [period] [unit code or name]); one
who leads several top units is asked which."""

from __future__ import annotations

import re

from bot import texts
from handlers import picker
from handlers.chat import Button, Choice, Rows, Turn
from handlers.common import current_actor, current_member, refuse
from storage import honors, roles, units
from storage.periods import Period, parse_period
from storage.roles import Role
from storage.units import Unit

SHOWN_MEMBERS = 10
SHOWN_UNITS = 5
_BUTTON = re.compile(r"vd:([0-9]{1,9}):([0-9]{4}(?:-[HQ][1-4])?)")


async def show_honors(turn: Turn) -> None:
    args = await picker.read_args(turn, texts.HONOURS_USAGE)
    if args is None:
        return
    actor = await current_actor(turn)
    member = await current_member(turn)
    led = actor.top_units(Role.LEADER)
    reach = led + ([member.unit_id] if member and member.unit_id not in led else [])
    if not reach:
        await turn.say(texts.NOT_REGISTERED)
        return
    label = args.period.label()
    if args.unit is not None:
        unit = await picker.find(turn, args.unit, reach, lambda u: f"vd:{u.id}:{label}")
    elif led:
        tops = await picker.top_units(turn, led)
        if len(tops) > 1:
            rows: Rows = [[Button(u.name, f"vd:{u.id}:{label}")] for u in tops]
            await turn.say(texts.pick_top_honours(label), rows)
            return
        unit = tops[0] if tops else None
    else:
        async with turn.deps.db.read() as conn:
            unit = await units.get(conn, reach[0])
    if unit is not None:
        await _show(turn, unit, args.period)


async def _show(turn: Turn, unit: Unit, period: Period) -> None:
    db = turn.deps.db
    people = await honors.top_members(db, unit.id, period, SHOWN_MEMBERS)
    ahead = await honors.units_ahead(db, unit.id, period, SHOWN_UNITS)
    people_lines = [texts.honour_member(h.rank, h.name, h.where, h.admitted) for h in people]
    unit_lines = [
        texts.honour_unit(rank, f.unit.name, f.admitted, f.target, f.expected_share)
        for rank, f in ahead
    ]
    await turn.say(texts.honours(unit.name, period.label(), people_lines, unit_lines))


async def press(turn: Turn) -> None:
    """ "vd:<unit>:<period>": an answer to "which unit?", checked again now."""
    assert isinstance(turn.incoming, Choice)
    match = _BUTTON.fullmatch(turn.incoming.data)
    period = parse_period(match[2]) if match else None
    unit = None
    if match is not None and period is not None:
        actor = await current_actor(turn)
        member = await current_member(turn)
        async with turn.deps.db.read() as conn:
            unit = await units.get(conn, int(match[1]))
        own = member is not None and unit is not None and member.unit_id == unit.id
        if unit is not None and not own:
            unit = await roles.unit_for(turn.deps.db, actor, unit.id, Role.LEADER)
    if unit is None or period is None:
        await refuse(turn)
        return
    await turn.out.toast()
    await turn.out.settle()
    await _show(turn, unit, period)
