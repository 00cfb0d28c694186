"""/bonhiem (/appoint): an admin makes one-time leader or admin links and codes, and removes
leaders and admins: "ap:r|R:<unit>:<member>" asks first, "ap:y|Y:…" removes (the removed
person is told on their own channel), "ap:b:<unit>:0" goes back to the panel.

Opening such a link (/start l_… or a_…) or typing its code is handled here too: the first
opener gets the role, registering first if needed, and the admin who made it is told who took it.
"""

from __future__ import annotations

from bot import texts
from handlers import picker
from handlers.chat import Button, Choice, Reply, Rows, Turn
from handlers.common import (
    Deps,
    current_actor,
    notify_address,
    notify_member,
    parse_button,
    refuse,
)
from storage import codes, members, roles
from storage.members import Member
from storage.roles import Actor, Role
from storage.units import Unit


async def _panel(turn: Turn, unit: Unit) -> tuple[str, Rows]:
    db = turn.deps.db
    leaders = await roles.holders(db, unit.id, Role.LEADER)
    admins = await roles.holders(db, unit.id, Role.ADMIN)
    rows = [
        [Button(texts.BTN_LEADER_LINK, f"ap:l:{unit.id}:0")],
        [Button(texts.BTN_ADMIN_LINK, f"ap:a:{unit.id}:0")],
    ]
    rows += [
        [Button(texts.remove_leader_button(m.full_name), f"ap:r:{unit.id}:{m.id}")] for m in leaders
    ]
    # A forwarded admin link must be undoable from the chat too.
    rows += [
        [Button(texts.remove_admin_button(m.full_name), f"ap:R:{unit.id}:{m.id}")] for m in admins
    ]
    text = texts.appoint_panel(
        unit.name, [m.full_name for m in leaders], [m.full_name for m in admins], unit.org
    )
    return text, rows


@picker.purpose("bn", Role.ADMIN, texts.PICK_APPOINT)
async def show_panel(turn: Turn, actor: Actor, unit: Unit) -> None:
    text, choices = await _panel(turn, unit)
    await turn.say(text, choices)


async def appoint(turn: Turn) -> None:
    await picker.offer(turn, "bn")


async def press(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    parsed = parse_button(turn.incoming.data, "ap", "larRyYb", 2)
    if parsed is None:
        await refuse(turn)
        return
    op, (unit_id, member_id) = parsed
    deps = turn.deps
    actor = await current_actor(turn)
    unit = await roles.unit_for(deps.db, actor, unit_id, Role.ADMIN)
    if unit is None:
        await refuse(turn)
        return
    if op == "b":
        await turn.out.toast()
        text, choices = await _panel(turn, unit)
        await turn.out.replace(Reply(text, choices))
        return
    if op in "rR":
        await _ask_remove(turn, unit, member_id, Role.LEADER if op == "r" else Role.ADMIN)
        return
    if op in "yY":
        await _remove(turn, unit, member_id, Role.LEADER if op == "y" else Role.ADMIN)
        return
    await turn.out.toast()
    role = Role.LEADER if op == "l" else Role.ADMIN
    grant = await roles.create_grant(
        deps.db, unit.id, role, turn.who.address, deps.clock, deps.link_secret
    )
    link = deps.start_link(grant.payload)
    await turn.say(
        texts.grant_link(role.value, unit.name, link, unit.org, codes.display(grant.code))
    )


async def _holder_name(turn: Turn, unit: Unit, member_id: int, role: Role) -> str | None:
    holders = await roles.holders(turn.deps.db, unit.id, role)
    return next((m.full_name for m in holders if m.id == member_id), None)


async def _ask_remove(turn: Turn, unit: Unit, member_id: int, role: Role) -> None:
    name = await _holder_name(turn, unit, member_id, role)
    if name is None:
        await refuse(turn)
        return
    await turn.out.toast()
    yes = "y" if role is Role.LEADER else "Y"
    choices = [
        [
            Button(texts.BTN_REMOVE_YES, f"ap:{yes}:{unit.id}:{member_id}"),
            Button(texts.BTN_BACK, f"ap:b:{unit.id}:0"),
        ]
    ]
    text = texts.confirm_remove(name, role.value, unit.name, unit.org)
    await turn.out.replace(Reply(text, choices))


async def _remove(turn: Turn, unit: Unit, member_id: int, role: Role) -> None:
    deps = turn.deps
    removed_name = await _holder_name(turn, unit, member_id, role)
    if removed_name is None or not await roles.revoke(deps.db, member_id, unit.id, role):
        await refuse(turn)
        return
    await turn.out.toast(texts.role_removed(removed_name, role.value, unit.name, unit.org))
    async with deps.db.read() as conn:
        removed = await members.get(conn, member_id)
    if removed is not None:
        await notify_member(
            deps, removed, texts.role_removed_notice(role.value, unit.name, unit.org)
        )
        still = await roles.load_actor(
            deps.db, removed.channel, removed.user_ref, deps.settings.admin_ids
        )
        strongest = Role.ADMIN if still.holds_any(Role.ADMIN) else None
        if strongest is None and still.holds_any(Role.LEADER):
            strongest = Role.LEADER
        await show_role_menu(deps, removed, strongest)
    text, choices = await _panel(turn, unit)
    await turn.out.replace(Reply(text, choices))


# --- opening a link or typing a code ---------------------------------------------------------


async def take_grant(turn: Turn, digest: str, member: Member) -> None:
    """Give the role to `member` (who opened the link) and tell the admin who made it."""
    deps = turn.deps
    check = await roles.redeem_grant(deps.db, digest, member, deps.clock)
    if check.problem is not None or check.unit is None or check.role is None:
        await turn.say(texts.GRANT_PROBLEM[check.problem or "grant_invalid"])
        return
    await turn.say(texts.grant_received(check.role.value, check.unit.name, check.unit.org))
    await show_role_menu(deps, member, check.role)
    if check.created_by:
        await notify_address(
            deps,
            check.created_by,
            texts.grant_used_by(
                member.full_name, check.role.value, check.unit.name, check.unit.org
            ),
        )


async def show_role_menu(deps: Deps, member: Member, role: Role | None) -> None:
    """The person's command menu: the members' commands, plus the role's (none: plain)."""
    from handlers import commands  # the registry imports every journey, this one included

    channel = deps.channels.get(member.channel)
    if channel is not None:
        entries = None if role is None else commands.menu(role)
        await channel.show_role_menu(member.user_ref, entries)
