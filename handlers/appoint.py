"""/bonhiem (/appoint): an admin makes one-time leader or admin links, and removes leaders.

Opening such a link (/start l_… or a_…) is handled here too: the first opener gets the role,
registering first if needed, and the admin who made the link is told who took it.
"""

from __future__ import annotations

from contextlib import suppress

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import texts
from handlers import picker
from handlers.common import Context, current_actor, notify, parse_button, refuse, say
from storage import invites, members, roles
from storage.members import Member
from storage.roles import Actor, GrantCheck, Role
from storage.units import Unit


async def _panel(context: Context, unit: Unit) -> tuple[str, InlineKeyboardMarkup]:
    leaders = await roles.holders(context.deps.db, unit.id, Role.LEADER)
    rows = [
        [InlineKeyboardButton(texts.BTN_LEADER_LINK, callback_data=f"ap:l:{unit.id}:0")],
        [InlineKeyboardButton(texts.BTN_ADMIN_LINK, callback_data=f"ap:a:{unit.id}:0")],
    ]
    admins = await roles.holders(context.deps.db, unit.id, Role.ADMIN)
    rows += [
        [
            InlineKeyboardButton(
                texts.remove_leader_button(m.full_name), callback_data=f"ap:r:{unit.id}:{m.id}"
            )
        ]
        for m in leaders
    ]
    # A forwarded admin link must be undoable from the chat too.
    rows += [
        [
            InlineKeyboardButton(
                texts.remove_admin_button(m.full_name), callback_data=f"ap:R:{unit.id}:{m.id}"
            )
        ]
        for m in admins
    ]
    text = texts.appoint_panel(
        unit.name, [m.full_name for m in leaders], [m.full_name for m in admins]
    )
    return text, InlineKeyboardMarkup(rows)


@picker.purpose("bn", Role.ADMIN, texts.PICK_APPOINT)
async def show_panel(update: Update, context: Context, actor: Actor, unit: Unit) -> None:
    text, markup = await _panel(context, unit)
    await say(update, context, text, markup)


async def _member(context: Context, member_id: int) -> Member | None:
    async with context.deps.db.read() as conn:
        return await members.get(conn, member_id)


async def appoint(update: Update, context: Context) -> None:
    await picker.offer(update, context, "bn")


async def press(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    parsed = parse_button(query.data, "ap", "larR", 2)
    if parsed is None:
        await refuse(update, context)
        return
    op, (unit_id, member_id) = parsed
    deps = context.deps
    actor = await current_actor(update, context)
    unit = await roles.unit_for(deps.db, actor, unit_id, Role.ADMIN)
    if unit is None:
        await refuse(update, context)
        return
    if op in "rR":
        role = Role.LEADER if op == "r" else Role.ADMIN
        removed_name = next(
            (m.full_name for m in await roles.holders(deps.db, unit.id, role) if m.id == member_id),
            None,
        )
        if removed_name is None or not await roles.revoke(deps.db, member_id, unit.id, role):
            await refuse(update, context)
            return
        await query.answer(texts.role_removed(removed_name, role.value, unit.name, unit.org))
        removed = await _member(context, member_id)
        if removed is not None:
            still = await roles.load_actor(
                deps.db, removed.channel, removed.user_ref, deps.settings.admin_ids
            )
            strongest = Role.ADMIN if still.holds_any(Role.ADMIN) else None
            if strongest is None and still.holds_any(Role.LEADER):
                strongest = Role.LEADER
            await show_role_menu(context, removed.user_ref, strongest)
        text, markup = await _panel(context, unit)
        await query.edit_message_text(text, reply_markup=markup)
        return
    await query.answer()
    role = Role.LEADER if op == "l" else Role.ADMIN
    payload = await roles.create_grant(deps.db, unit.id, role, actor.user_ref, deps.clock)
    link = invites.link(context.bot.username, payload)
    await say(update, context, texts.grant_link(role.value, unit.name, link, unit.org))


# --- opening a link --------------------------------------------------------------------------


async def check_payload(context: Context, payload: str) -> GrantCheck:
    return await roles.check_grant(context.deps.db, roles.token_hash(payload), context.deps.clock)


async def take_grant(update: Update, context: Context, digest: str, member: Member) -> None:
    """Give the role to `member` (who opened the link) and tell the admin who made it."""
    deps = context.deps
    check = await roles.redeem_grant(deps.db, digest, member, deps.clock)
    if check.problem is not None or check.unit is None or check.role is None:
        await say(update, context, texts.GRANT_PROBLEM[check.problem or "grant_invalid"])
        return
    await say(
        update, context, texts.grant_received(check.role.value, check.unit.name, check.unit.org)
    )
    await show_role_menu(context, member.user_ref, check.role)
    if check.created_by:
        await notify(
            context,
            check.created_by,
            texts.grant_used_by(
                member.full_name, check.role.value, check.unit.name, check.unit.org
            ),
        )


async def show_role_menu(context: Context, user_ref: str, role: Role | None) -> None:
    """The chat's command menu: the members' commands, plus the role's (none: back to plain)."""
    scope = BotCommandScopeChat(int(user_ref))
    entries = list(texts.COMMANDS)
    if role is not None:
        entries += texts.LEADER_COMMANDS
    if role is Role.ADMIN:
        entries += texts.ADMIN_COMMANDS
    with suppress(TelegramError):  # a menu is a convenience: never fail the action for it
        if role is None:
            await context.bot.delete_my_commands(scope=scope)
        else:
            await context.bot.set_my_commands([BotCommand(n, d) for n, d in entries], scope=scope)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["bonhiem", "appoint"], appoint, private))
    app.add_handler(CallbackQueryHandler(press, pattern=r"^ap:"))
