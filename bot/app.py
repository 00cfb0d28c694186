"""Builds the Application: the one place where settings, storage and handlers meet."""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

import handlers
from bot import texts
from bot.settings import Settings
from handlers.common import Context, Deps, say
from scheduler import jobs
from scheduler.fanout import FanoutPolicy
from storage.clock import Clock, SystemClock
from storage.db import Database

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


def quiet_loggers() -> None:
    """Keep secrets and personal data out of the logs, whoever configures logging.

    httpx logs every request URL, and Telegram's URLs contain the bot token; at DEBUG
    python-telegram-bot logs that URL too, and whole updates and request parameters (names,
    phone numbers), so its loggers never go below INFO.
    """
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("telegram", "aiosqlite"):  # aiosqlite logs every SQL parameter at DEBUG
        logging.getLogger(name).setLevel(logging.INFO)


def build_application(settings: Settings, *, clock: Clock | None = None) -> Application:  # type: ignore[type-arg]
    quiet_loggers()
    deps = Deps(Database(settings.database_path), settings, clock or SystemClock())
    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .context_types(ContextTypes(context=Context))
        # Telegram's bulk limit is ~30 messages/s; a 429 is retried after retry_after.
        .rate_limiter(AIORateLimiter(max_retries=2))
        # Conversations rely on one update at a time per application.
        .concurrent_updates(False)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["deps"] = deps
    handlers.register(app)
    app.add_error_handler(_on_error)
    return app


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    deps: Deps = app.bot_data["deps"]
    await deps.db.open()
    await app.bot.set_my_commands([BotCommand(name, text) for name, text in texts.COMMANDS])
    config = deps.settings.reminders
    machinery = jobs.Reminders(
        deps.db,
        deps.clock,
        config,
        deps.settings,
        jobs.TelegramTransport(app.bot),
        FanoutPolicy(per_second=config.delivery.per_second),
    )
    jobs.install(app, machinery)
    log.info("bot @%s ready, database %s", app.bot.username, deps.db.path)


async def _post_stop(app: Application) -> None:  # type: ignore[type-arg]
    if "reminders" in app.bot_data:
        await jobs.reminders_of(app).stop()


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    deps: Deps = app.bot_data["deps"]
    await deps.db.close()


async def _on_error(update: object, context: Context) -> None:
    # Only the update id and the error type: updates carry names and phone numbers.
    update_id = update.update_id if isinstance(update, Update) else None
    log.error(
        "error while handling update %s: %s",
        update_id,
        type(context.error).__name__,
        exc_info=context.error,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await say(update, context, texts.ERROR)
        except Exception:  # the network may be what failed
            log.warning("could not tell the user about the error")
