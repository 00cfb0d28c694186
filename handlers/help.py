"""/help, /huy, and never silence: unknown commands, stray text, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import texts
from handlers import flow
from handlers.common import REMOVE_KEYBOARD, Context, current_actor, say
from storage.roles import Role


async def show_help(update: Update, context: Context) -> None:
    actor = await current_actor(update, context)
    text = texts.HELP
    if actor.holds_any(Role.LEADER):
        text += texts.LEADER_HELP
    if actor.holds_any(Role.ADMIN):
        text += texts.ADMIN_HELP
    await say(update, context, text)


async def cancel(update: Update, context: Context) -> None:
    cancelled = await flow.cancel(update, context)
    await say(
        update, context, texts.CANCELLED if cancelled else texts.NOTHING_TO_CANCEL, REMOVE_KEYBOARD
    )


async def unknown_command(update: Update, context: Context) -> None:
    state = await flow.active(update, context)
    await say(update, context, texts.UNKNOWN_IN_CONVERSATION if state else texts.UNKNOWN)


async def stale_button(update: Update, context: Context) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(texts.STALE_BUTTON)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["help", "trogiup"], show_help, private))
    app.add_handler(CommandHandler(["huy", "cancel"], cancel, private))


def register_fallbacks(app: Application) -> None:  # type: ignore[type-arg]
    """Last in line: whatever no journey or command took."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(private & ~filters.COMMAND, flow.on_message))
    app.add_handler(CallbackQueryHandler(stale_button))
