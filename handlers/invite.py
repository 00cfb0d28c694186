"""/moi (/invite): a leader gets, or renews, the member invite link and code of a unit.

Renewing kills the old link and code, so it asks first: "iv:n:<unit>" (the button under an
invite, or /moi moi) shows the question, "iv:y:<unit>" renews, "iv:k:<unit>" keeps the old one.
Every press checks again that the user leads the unit.
"""

from __future__ import annotations

from bot import texts
from handlers import picker
from handlers.chat import Button, Choice, Command, Rows, Turn
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
async def ask_renew(turn: Turn, actor: Actor, unit: Unit) -> None:
    choices = [
        [
            Button(texts.BTN_RENEW_YES, f"iv:y:{unit.id}"),
            Button(texts.BTN_RENEW_NO, f"iv:k:{unit.id}"),
        ]
    ]
    await turn.say(texts.confirm_renew(unit.name), choices)


async def renew_link(turn: Turn, unit: Unit) -> None:
    async with turn.deps.db.write() as conn:
        await units.bump_invite_generation(conn, unit.id)
        fresh = await units.get(conn, unit.id)
    assert fresh is not None
    link, code = await _link_and_code(turn, fresh)
    await turn.say(texts.invite_renewed(fresh.name, link, code), _renew_button(fresh))


async def invite(turn: Turn) -> None:
    renew = bool(turn.args) and turn.args[0].casefold() in {"moi", "mới", "new"}
    if renew:  # what follows "moi" may name the unit (/moi moi tan lap)
        turn.incoming = Command("moi", turn.args[1:])
    await picker.offer(turn, "mn" if renew else "mi")


async def press_renew(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    parsed = parse_button(turn.incoming.data, "iv", "nyk", 1)
    actor = await current_actor(turn)
    unit = await roles.unit_for(turn.deps.db, actor, parsed[1][0], Role.LEADER) if parsed else None
    if parsed is None or unit is None:
        await refuse(turn)
        return
    await turn.out.toast()
    op = parsed[0]
    if op == "n":
        await turn.out.drop_choices()
        await ask_renew(turn, actor, unit)
    elif op == "y":
        await turn.out.settle()
        await renew_link(turn, unit)
    else:
        await turn.out.settle()
        await turn.say(texts.RENEW_KEPT)
