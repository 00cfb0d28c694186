"""/cuatoi (/mine): the member's referrals this year, whether 1+1 is met, and withdrawing one."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import texts
from handlers.common import Context, current_member, parse_button, refuse, say
from storage import members, referrals
from storage.referrals import Decision, NotAllowed, Status

SHOWN = 30  # a phone screen; older ones are counted, not listed
WITHDRAW_BUTTONS = 5


async def show_mine(update: Update, context: Context) -> None:
    member = await current_member(update, context)
    if member is None:
        await say(update, context, texts.NOT_REGISTERED)
        return
    deps = context.deps
    year = await referrals.member_year(deps.db, member.id, deps.today().year, deps.settings.tz)
    lines = [
        texts.mine_line(r.id, r.full_name, r.birth.display(), r.org, r.status.value)
        for r in year.referrals[:SHOWN]
    ]
    hidden = max(0, len(year.referrals) - SHOWN)
    pending = [r for r in year.referrals if r.status is Status.INTRODUCED][:WITHDRAW_BUTTONS]
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.withdraw_button(r.id), callback_data=f"mn:w:{r.id}")]
            for r in pending
        ]
    )
    text = texts.mine(year.year, lines, year.admitted, year.pending, hidden)
    await say(update, context, text, markup if pending else None)


async def press(update: Update, context: Context) -> None:
    """mn:w asks to confirm, mn:W withdraws, mn:k keeps; only the introducing member may."""
    query = update.callback_query
    assert query is not None and query.data is not None
    parsed = parse_button(query.data, "mn", "wWk", 1)
    member = await current_member(update, context)
    deps = context.deps
    referral = await referrals.get(deps.db, parsed[1][0]) if parsed else None
    op = parsed[0] if parsed else ""
    if member is None or referral is None or referral.member_id != member.id:
        await refuse(update, context)
        return
    await query.answer()
    if op == "k":
        await query.edit_message_reply_markup(None)
        return
    if op == "w":
        buttons = [
            [
                InlineKeyboardButton(texts.BTN_WITHDRAW_YES, callback_data=f"mn:W:{referral.id}"),
                InlineKeyboardButton(texts.BTN_WITHDRAW_NO, callback_data=f"mn:k:{referral.id}"),
            ]
        ]
        text = texts.confirm_withdraw(referral.id, referral.full_name)
        await say(update, context, text, InlineKeyboardMarkup(buttons))
        return
    try:
        await referrals.change_status(
            deps.db,
            referral.id,
            Decision.WITHDRAW,
            member.id,
            deps.clock,
            tz=deps.settings.tz,
            actor_ref=f"{member.channel}:{member.user_ref}",
        )
    except NotAllowed:
        await query.edit_message_text(texts.CANNOT_WITHDRAW)
        return
    await query.edit_message_text(texts.WITHDRAWN)


async def ask_erase(update: Update, context: Context) -> None:
    """/xoadulieu: deletion on request, after one confirmation."""
    if await current_member(update, context) is None:
        await say(update, context, texts.NOT_REGISTERED)
        return
    buttons = [
        [
            InlineKeyboardButton(texts.BTN_ERASE_YES, callback_data="er:y:0"),
            InlineKeyboardButton(texts.BTN_ERASE_NO, callback_data="er:n:0"),
        ]
    ]
    await say(update, context, texts.CONFIRM_ERASE, InlineKeyboardMarkup(buttons))


async def press_erase(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    parsed = parse_button(query.data, "er", "yn", 1)
    member = await current_member(update, context)
    if parsed is None or member is None:
        await refuse(update, context)  # it only ever acts on the presser's own data
        return
    await query.answer()
    if parsed[0] == "n":
        await query.edit_message_text(texts.ERASE_KEPT)
        return
    await members.erase(context.deps.db, member.id)
    await query.edit_message_text(texts.ERASED)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["cuatoi", "mine"], show_mine, private))
    app.add_handler(CommandHandler(["xoadulieu", "forgetme"], ask_erase, private))
    app.add_handler(CallbackQueryHandler(press, pattern=r"^mn:"))
    app.add_handler(CallbackQueryHandler(press_erase, pattern=r"^er:"))
