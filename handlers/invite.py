"""/moi (/invite): a leader gets, or renews, the member invite link of one of their units."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import texts
from handlers import picker
from handlers.common import Context, current_actor, parse_button, refuse, say
from storage import invites, roles, units
from storage.roles import Actor, Role
from storage.units import Unit


def _link(context: Context, unit: Unit) -> str:
    payload = invites.unit_payload(context.deps.link_secret, unit)
    return invites.link(context.bot.username, payload)


def _renew_button(unit: Unit) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.BTN_RENEW_LINK, callback_data=f"iv:n:{unit.id}")]]
    )


@picker.purpose("mi", Role.LEADER, texts.PICK_INVITE)
async def show_link(update: Update, context: Context, actor: Actor, unit: Unit) -> None:
    await say(
        update, context, texts.member_invite(unit.name, _link(context, unit)), _renew_button(unit)
    )


@picker.purpose("mn", Role.LEADER, texts.PICK_RENEW)
async def renew_link(update: Update, context: Context, actor: Actor, unit: Unit) -> None:
    async with context.deps.db.write() as conn:
        await units.bump_invite_generation(conn, unit.id)
        fresh = await units.get(conn, unit.id)
    assert fresh is not None
    await say(
        update,
        context,
        texts.invite_renewed(fresh.name, _link(context, fresh)),
        _renew_button(fresh),
    )


async def invite(update: Update, context: Context) -> None:
    renew = bool(context.args) and context.args[0].casefold() in {"moi", "mới", "new"}
    await picker.offer(update, context, "mn" if renew else "mi")


async def press_renew(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    parsed = parse_button(query.data, "iv", "n", 1)
    actor = await current_actor(update, context)
    unit = (
        await roles.unit_for(context.deps.db, actor, parsed[1][0], Role.LEADER) if parsed else None
    )
    if unit is None:
        await refuse(update, context)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await renew_link(update, context, actor, unit)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["moi", "invite"], invite, private))
    app.add_handler(CallbackQueryHandler(press_renew, pattern=r"^iv:"))
