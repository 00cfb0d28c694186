"""/moi (/invite): a leader gets, or renews, the member invite link and code of a unit."""

from __future__ import annotations

from bot import texts
from handlers import picker
from handlers.chat import Button, Choice, Rows, Turn
from handlers.common import current_actor, parse_button, refuse
from storage import codes, invites, roles, units
from storage.roles import Actor, Role
from storage.units import Unit


async def _link_and_code(turn: Turn, unit: Unit) -> tuple[str | None, str]:
    deps = turn.deps
    link = deps.start_link(invites.unit_payload(deps.link_secret, unit))
    code = await invites.remember_unit_code(deps.db, deps.link_secret, unit)
    return link, codes.display(code)


def _renew_button(unit: Unit) -> Rows:
    return [[Button(texts.BTN_RENEW_LINK, f"iv:n:{unit.id}")]]


@picker.purpose("mi", Role.LEADER, texts.PICK_INVITE)
async def show_link(turn: Turn, actor: Actor, unit: Unit) -> None:
    link, code = await _link_and_code(turn, unit)
    await turn.say(texts.member_invite(unit.name, link, code), _renew_button(unit))


@picker.purpose("mn", Role.LEADER, texts.PICK_RENEW)
async def renew_link(turn: Turn, actor: Actor, unit: Unit) -> None:
    async with turn.deps.db.write() as conn:
        await units.bump_invite_generation(conn, unit.id)
        fresh = await units.get(conn, unit.id)
    assert fresh is not None
    link, code = await _link_and_code(turn, fresh)
    await turn.say(texts.invite_renewed(fresh.name, link, code), _renew_button(fresh))


async def invite(turn: Turn) -> None:
    renew = bool(turn.args) and turn.args[0].casefold() in {"moi", "mới", "new"}
    await picker.offer(turn, "mn" if renew else "mi")


async def press_renew(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    parsed = parse_button(turn.incoming.data, "iv", "n", 1)
    actor = await current_actor(turn)
    unit = await roles.unit_for(turn.deps.db, actor, parsed[1][0], Role.LEADER) if parsed else None
    if unit is None:
        await refuse(turn)
        return
    await turn.out.toast()
    await turn.out.drop_choices()
    await renew_link(turn, actor, unit)
