"""Telegram through python-telegram-bot: updates in, replies out, buttons, menus, reminders."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)

from bot import texts
from bot.channels import ChannelUnavailable, PerChat
from handlers import commands, numbered, router
from handlers.chat import Choice, Command, Incoming, Other, Phone, Reply, Text, Turn, Who
from handlers.common import Deps
from scheduler.fanout import Outcome
from storage.roles import Role

log = logging.getLogger(__name__)

NAME = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
CONCURRENT_UPDATES = 64  # people served at once; one person's updates still go one by one
QUEUED_UPDATES = 100_000  # updates that may wait for their chat's turn (PTB's own bound)


class OnePerChat(BaseUpdateProcessor):
    """Many people at once, each person's updates in order and never overlapping: a double tap
    or a fast second message waits for the first, a slow export of one admin stops nobody."""

    def __init__(self, max_concurrent_updates: int) -> None:
        # PTB takes its own slot before calling us: sized so that updates queued behind their
        # chat's lock never fill it. The real bound is taken once it is this chat's turn.
        super().__init__(QUEUED_UPDATES)
        self.chats = PerChat()
        self._serving = asyncio.Semaphore(max_concurrent_updates)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self.chats.hold(_person(update)), self._serving:
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _person(update: object) -> int:
    if isinstance(update, Update):
        chat = update.effective_chat or update.effective_user
        if chat is not None:
            return chat.id
    return 0


def _is_unchanged(exc: BadRequest) -> bool:
    return "not modified" in str(exc).lower()


@contextmanager
def _unless_unchanged() -> Iterator[None]:
    """An edit that changes nothing (a double tap) is done, not an error."""
    try:
        yield
    except BadRequest as exc:
        if not _is_unchanged(exc):
            raise


def _inline(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.choices
        ]
    )


def _markup(reply: Reply) -> Any:
    if reply.ask_phone:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(texts.BTN_SHARE_PHONE, request_contact=True)], [texts.BTN_SKIP]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if reply.choices:
        return _inline(reply)
    if reply.phone_done:
        return ReplyKeyboardRemove()
    return None


REPLY_RETRY_MAX = 10.0  # seconds a reply may wait out a 429 (in its own chat only)


async def _call(request: Callable[[], Awaitable[Any]]) -> Any:
    """One Bot API call of a reply; a short 429 is waited out once, holding only this chat."""
    try:
        return await request()
    except RetryAfter as exc:
        delay = _seconds(exc.retry_after)
        if delay > REPLY_RETRY_MAX:
            raise
        await asyncio.sleep(delay)
        return await request()


def _seconds(delay: Any) -> float:
    return float(getattr(delay, "total_seconds", lambda: delay)())


class LastChoices:
    """The choices last shown in each chat, in memory: a label typed instead of pressed
    ("hôm nay", "đoàn") counts as the press. Lost on restart, which costs only that comfort."""

    LIMIT = 10_000  # chats remembered; the oldest are forgotten first

    def __init__(self) -> None:
        self._by_chat: OrderedDict[int, list[tuple[str, str | None]]] = OrderedDict()

    def remember(self, chat_id: int, reply: Reply) -> None:
        self._by_chat.pop(chat_id, None)
        self._by_chat[chat_id] = numbered.offered(reply)
        while len(self._by_chat) > self.LIMIT:
            self._by_chat.popitem(last=False)

    def typed(self, chat_id: int, text: str) -> Incoming | None:
        found = numbered.pick(self._by_chat.get(chat_id, []), text.strip(), numbers=False)
        if found is None or found[1] is None:
            return None
        return Choice(found[1])


class Outbox:
    """The answers of one update: sent to its chat, edits on the message a button was on."""

    buttons = True

    def __init__(self, app: Application, update: Update, shown: LastChoices) -> None:  # type: ignore[type-arg]
        self.bot = app.bot
        self.shown = shown
        self.query = update.callback_query
        chat = update.effective_chat
        assert chat is not None
        self.chat_id = chat.id
        self.answered = False

    async def send(self, reply: Reply) -> None:
        chat, bot = self.chat_id, self.bot
        if reply.picture is not None:
            pic = reply.picture
            photo, caption = InputFile(pic.data, filename=pic.name), pic.caption or None
            await _call(lambda: bot.send_photo(chat, photo, caption=caption))
        elif reply.file is not None:
            doc = reply.file
            document, caption = InputFile(doc.data, filename=doc.name), doc.caption or None
            await _call(lambda: bot.send_document(chat, document, caption=caption))
        else:
            markup = _markup(reply)
            await _call(lambda: bot.send_message(chat, reply.text, reply_markup=markup))
            self.shown.remember(chat, reply)

    async def replace(self, reply: Reply) -> None:
        query = self.query
        if query is None or reply.picture or reply.file or reply.ask_phone:
            await self.send(reply)
            return
        with _unless_unchanged():
            await _call(lambda: query.edit_message_text(reply.text, reply_markup=_inline(reply)))
        self.shown.remember(self.chat_id, reply)

    async def settle(self, note: str | None = None) -> None:
        message = self.query.message if self.query else None
        if self.query is None or message is None or getattr(message, "text", None) is None:
            return
        if note is None:
            markup = message.reply_markup
            label = next(
                (
                    button.text
                    for row in (markup.inline_keyboard if markup else ())
                    for button in row
                    if button.callback_data == self.query.data
                ),
                None,
            )
            note = f"→ {label}" if label else None
        text = f"{message.text}\n{note}" if note else message.text
        with suppress(BadRequest):  # the message is gone or unchanged: the answer still counts
            await self.query.edit_message_text(text, reply_markup=None)

    async def drop_choices(self) -> None:
        if self.query is not None:
            with _unless_unchanged():
                await self.query.edit_message_reply_markup(None)

    async def toast(self, text: str | None = None, *, alert: bool = False) -> None:
        if self.query is None:
            if text:
                await self.bot.send_message(self.chat_id, text)
            return
        if not self.answered:
            self.answered = True
            with suppress(BadRequest):  # "query is too old": the press still counts
                await self.query.answer(text, show_alert=alert)


def _polling_trouble(exc: TelegramError) -> None:
    """A lost connection while polling: one WARNING line (PTB retries with its own backoff),
    not an ERROR with a traceback on every poll."""
    log.warning("telegram: polling failed (%s); retrying", type(exc).__name__)


def _group_command(update: Update, bot_username: str) -> bool:
    """A command sent in a group, to this bot (or to no bot in particular)."""
    message, chat = update.message, update.effective_chat
    if message is None or chat is None or chat.type == "private" or not message.text:
        return False
    head = message.text.split()[0] if message.text.startswith("/") else ""
    target = head.partition("@")[2]
    return bool(head) and (not target or target.casefold() == bot_username.casefold())


def incoming(update: Update, bot_username: str) -> Incoming | None:
    """What a person did, in the core's words; None for what the bot does not take."""
    if update.callback_query is not None:
        return Choice(update.callback_query.data or "")
    message = update.message
    chat = update.effective_chat
    if message is None or chat is None or chat.type != "private" or message.from_user is None:
        return None
    if message.contact is not None:
        own = message.contact.user_id == message.from_user.id
        return Phone(message.contact.phone_number, own)
    if message.text is None:
        return Other("media")
    text = message.text
    if text.startswith("/") and len(text) > 1 and not text[1].isspace():
        head, *args = text.split()
        name, _, target = head[1:].partition("@")
        if target and target.casefold() != bot_username.casefold():
            return None  # meant for another bot
        return Command(name.casefold(), tuple(args))
    return Text(text)


class TelegramChannel:
    """One PTB Application: long polling in, the Bot API out."""

    name = NAME

    def __init__(self, deps: Deps, web_server: Any = None, request: Any = None) -> None:
        """`request`: PTB's HTTP layer, replaced only by benchmarks (bench/pipeline.py)."""
        settings = deps.settings
        self.deps = deps
        self.web = web_server
        self.webhook = settings.telegram_mode == "webhook"
        self.last_contact: datetime | None = None
        self.shown = LastChoices()
        builder = ApplicationBuilder()
        if request is not None:
            builder = builder.request(request).get_updates_request(request)
        self.app: Application = (  # type: ignore[type-arg]
            builder.token(settings.token)
            .base_url(settings.telegram_api_base_url)
            .base_file_url(settings.telegram_file_base_url)
            # No global rate limiter: PTB's AIORateLimiter pauses *every* request while one
            # chat waits out a 429. Reminders are paced by scheduler.fanout; a reply that meets
            # a 429 waits in its own chat only (Outbox._call).
            .concurrent_updates(OnePerChat(CONCURRENT_UPDATES))
            .build()
        )
        self.app.bot_data["deps"] = deps
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)

    # --- lifecycle ---------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Reach Telegram (getMe) and set the members' command menu."""
        try:
            await self.app.initialize()
            await self.app.bot.set_my_commands([BotCommand(n, d) for n, d in commands.menu(None)])
            await self._admin_menus()
        except InvalidToken:
            raise ChannelUnavailable(NAME, refused=True, kind="InvalidToken") from None
        except TelegramError as exc:
            raise ChannelUnavailable(NAME, refused=False, kind=type(exc).__name__) from None
        self._contact()
        if self.webhook:
            self.web.add_post(WEBHOOK_PATH, self._on_webhook)

    async def start(self) -> None:
        if self.webhook:
            settings = self.deps.settings
            assert settings.telegram_webhook_secret is not None
            await self.app.bot.set_webhook(
                f"{settings.public_base_url}{WEBHOOK_PATH}",
                secret_token=settings.telegram_webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
            await self.app.start()
            log.info("telegram: bot @%s on its webhook", self.app.bot.username)
            return
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES, error_callback=_polling_trouble
        )
        await self.app.start()
        log.info("telegram: bot @%s polling", self.app.bot.username)

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()

    async def _admin_menus(self) -> None:
        """ADMIN_IDS see their commands from the start, not only after an appointment."""
        for address in self.deps.settings.admin_ids:
            channel, _, ref = address.partition(":")
            if channel == NAME:
                await self.show_role_menu(ref, commands.menu(Role.ADMIN))

    def health(self) -> dict[str, Any]:
        receiving = self.app.running and (
            self.webhook or (self.app.updater is not None and self.app.updater.running)
        )
        return {
            "ok": bool(receiving),
            "mode": "webhook" if self.webhook else "polling",
            "last_contact": self.last_contact.isoformat() if self.last_contact else None,
        }

    def _contact(self) -> None:
        self.last_contact = datetime.now(UTC)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Telegram's delivery: the secret header checked in constant time, then queued."""
        secret = self.deps.settings.telegram_webhook_secret
        assert secret is not None
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.app.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        if update is not None:
            self._contact()
            await self.app.update_queue.put(update)  # handled after the answer
        return web.Response(status=200)

    async def close(self) -> None:
        await self.app.shutdown()

    # --- in ----------------------------------------------------------------------------------

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        if _group_command(update, self.app.bot.username or ""):
            # A command in a group: one short pointer to the private chat, nothing recorded.
            assert update.message is not None
            link = f"https://t.me/{self.app.bot.username}"
            await update.message.reply_text(texts.group_pointer(link))
            return
        found = incoming(update, self.app.bot.username or "")
        chat, user = update.effective_chat, update.effective_user
        if found is None or chat is None or user is None:
            return
        self._contact()
        if isinstance(found, Text):
            found = self.shown.typed(chat.id, found.text) or found
        who = Who(NAME, str(chat.id), str(user.id))
        out = Outbox(self.app, update, self.shown)
        # Telegram serves an update again when a crash kept it from being confirmed.
        await router.handle(Turn(who, found, self.deps, out), str(update.update_id))
        if isinstance(found, Choice) and not out.answered:
            await out.toast()

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Only the update id, a short error id and the error type: updates carry names and
        # phone numbers.
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "error while handling update %s (error id %s): %s",
            update_id,
            secrets.token_hex(3),
            type(context.error).__name__,
            exc_info=context.error,
        )
        if isinstance(context.error, RetryAfter):
            return  # the apology would meet the same 429
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await self.app.bot.send_message(update.effective_chat.id, texts.ERROR)
            except Exception:  # the network may be what failed
                log.warning("could not tell the user about the error")

    # --- out, to people other than the speaker -----------------------------------------------

    def start_link(self, payload: str) -> str | None:
        return f"https://t.me/{self.app.bot.username}?start={payload}"

    async def send_text(self, user_ref: str, text: str) -> bool:
        try:
            await self.app.bot.send_message(int(user_ref), text)
        except TelegramError as exc:  # the action is done: a notice that failed is only logged
            log.warning("telegram: a notice was not delivered (%s)", type(exc).__name__)
            return False
        return True

    async def show_role_menu(self, user_ref: str, entries: list[tuple[str, str]] | None) -> None:
        scope = BotCommandScopeChat(int(user_ref))
        with suppress(TelegramError):  # a menu is a convenience: never fail the action for it
            if entries is None:
                await self.app.bot.delete_my_commands(scope=scope)
            else:
                await self.app.bot.set_my_commands(
                    [BotCommand(n, d) for n, d in entries], scope=scope
                )

    async def deliver(self, user_ref: str, text: str) -> tuple[Outcome, float]:
        return await deliver(self.app.bot, user_ref, text)


def _maybe_arrived(exc: NetworkError) -> bool:
    """Whether the request may have reached Telegram although no answer came back."""
    if isinstance(exc, TimedOut):
        # PTB's pool timeout and a connect timeout never left; a read timeout may have arrived.
        never_sent = "not sent" in str(exc).lower().replace("*", "")
        return not never_sent and not isinstance(exc.__cause__, httpx.ConnectTimeout)
    cause = exc.__cause__  # PTB raises NetworkError from httpx's error, or for a 502 answer
    return isinstance(cause, httpx.TransportError) and not isinstance(cause, httpx.ConnectError)


async def deliver(bot: Bot, user_ref: str, text: str) -> tuple[Outcome, float]:
    """One reminder: what became of it, and how long to wait before a retry."""
    try:
        await bot.send_message(int(user_ref), text)
    except Forbidden:
        return Outcome.UNREACHABLE, 0.0
    except RetryAfter as exc:
        return Outcome.RETRY, _seconds(exc.retry_after)
    except BadRequest as exc:
        gone = "chat not found" in str(exc).lower()
        return (Outcome.UNREACHABLE if gone else Outcome.FAILED), 0.0
    except NetworkError as exc:  # TimedOut too
        # One cut off after it was sent (a read timeout, a dropped connection) may have
        # arrived: never send it twice. A 5xx answer, or a request that never left, may retry.
        return (Outcome.UNCERTAIN if _maybe_arrived(exc) else Outcome.RETRY), 0.0
    except TelegramError:  # any other answer of the API (401…): it was not delivered
        return Outcome.RETRY, 0.0
    return Outcome.SENT, 0.0
