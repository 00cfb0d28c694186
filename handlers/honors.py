"""/vinhdanh (/honors): for a unit and a period, the members who brought the most youths in and
the units furthest ahead of the share expected by now. Members see their own unit; leaders and
admins any unit of their reach (same arguments as /stats: [period] [unit code])."""

from __future__ import annotations

import re

from bot import texts
from handlers.chat import Turn
from handlers.common import current_actor, current_member, refuse
from storage import honors, roles, units
from storage.periods import Period, parse_period
from storage.roles import Role
from storage.units import Unit

SHOWN_MEMBERS = 10
SHOWN_UNITS = 5


async def show_honors(turn: Turn) -> None:
    period = Period(turn.deps.today().year)
    code = None
    for arg in turn.args[:2]:
        if re.fullmatch(r"[0-9]{4}(-[A-Za-z0-9]+)?", arg):
            parsed = parse_period(arg)
            if parsed is None:
                await turn.say(texts.period_invalid(arg))
                return
            period = parsed
        else:
            code = arg
    unit = await _unit(turn, code)
    if unit is None:
        return
    db = turn.deps.db
    people = await honors.top_members(db, unit.id, period, SHOWN_MEMBERS)
    ahead = await honors.units_ahead(db, unit.id, period, SHOWN_UNITS)
    people_lines = [texts.honour_member(h.rank, h.name, h.where, h.admitted) for h in people]
    unit_lines = [
        texts.honour_unit(rank, f.unit.name, f.admitted, f.target, f.expected_share)
        for rank, f in ahead
    ]
    await turn.say(texts.honours(unit.name, period.label(), people_lines, unit_lines))


async def _unit(turn: Turn, code: str | None) -> Unit | None:
    """The unit asked for, if the person may see it; their own unit (or top unit) by default."""
    actor = await current_actor(turn)
    member = await current_member(turn)  # before the read below: it takes the same lock
    async with turn.deps.db.read() as conn:
        if code is not None:
            unit = await units.get_by_code(conn, code)
        elif actor.holds_any(Role.LEADER):
            tops = [await units.get(conn, t) for t in actor.top_units(Role.LEADER)]
            found = sorted((u for u in tops if u), key=lambda u: u.parent_id is not None)
            unit = found[0] if found else None
        else:
            unit = await units.get(conn, member.unit_id) if member else None
    if unit is None and code is None:
        await turn.say(texts.NOT_REGISTERED)
        return None
    own = member is not None and unit is not None and member.unit_id == unit.id
    if unit is None or not (own or await roles.may(turn.deps.db, actor, unit.id, Role.LEADER)):
        await refuse(turn)  # an unknown code and a foreign one look the same
        return None
    return unit
