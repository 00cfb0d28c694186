"""Zalo through its Bot API, with a thin httpx client of our own.

Polling (development) or a webhook on the bot's own HTTP server (production). Zalo has no
buttons, edits, documents or deep links: choices go out as numbered lines (handlers.numbered),
pictures and files by signed link (bot.web), invites as codes. Updates may come twice: each
message_id is acted on once (storage.seen). Ids are strings; dates are milliseconds.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import web

from bot import texts
from bot.channels import ChannelUnavailable, PerChat
from handlers import numbered, router
from handlers.chat import File, Incoming, Other, Reply, Turn, Who
from handlers.common import Deps
from scheduler.fanout import Outcome

log = logging.getLogger(__name__)

NAME = "zalo"
WEBHOOK_PATH = "/zalo/webhook"
TEXT_LIMIT = 2000  # characters, counted after NFC
POLL_TIMEOUT = 30  # seconds Zalo holds a getUpdates open
BACKOFF_MAX = 60.0
CONCURRENT = 32  # people served at once; one person's messages still go one by one


class ZaloApiError(Exception):
    """An answer with ok:false (whatever its HTTP status), or one that is not JSON."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description}")
        self.code, self.description = code, description


class ZaloApi:
    def __init__(self, base_url: str, token: str, client: httpx.AsyncClient) -> None:
        self._base = f"{base_url}{token}/"  # holds the token: never log it
        self.client = client
        self.last_answer: datetime | None = None

    async def call(self, method: str, payload: dict[str, Any] | None = None, **kw: Any) -> Any:
        response = await self.client.post(self._base + method, json=payload or {}, **kw)
        self.last_answer = datetime.now(UTC)  # Zalo answered, whatever it said
        try:
            body = response.json()
        except ValueError:
            raise ZaloApiError(response.status_code, "not json") from None
        if not isinstance(body, dict) or body.get("ok") is not True or response.is_error:
            code = body.get("error_code") if isinstance(body, dict) else None
            description = body.get("description", "") if isinstance(body, dict) else ""
            raise ZaloApiError(int(code or response.status_code), str(description))
        return body.get("result")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraphs, then lines, then anywhere."""
    text = unicodedata.normalize("NFC", text)
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    for separator in ("\n\n", "\n"):
        cut = text.rfind(separator, 0, limit + 1)
        if cut > 0:
            return [text[:cut], *split_text(text[cut + len(separator) :], limit)]
    pieces.append(text[:limit])
    return [*pieces, *split_text(text[limit:], limit)]


def _update_of(body: Any) -> dict[str, Any] | None:
    """Webhook bodies come flat ({event_name, message}) or wrapped ({ok, result: {...}})."""
    if not isinstance(body, dict):
        return None
    if "event_name" not in body and isinstance(body.get("result"), dict):
        body = body["result"]
    return body if isinstance(body.get("message"), dict) else None


class Outbox:
    buttons = False

    def __init__(self, channel: ZaloChannel, who: Who) -> None:
        self.channel, self.who = channel, who

    async def send(self, reply: Reply) -> None:
        deps = self.channel.deps
        if reply.picture is not None:
            await self.channel.send_picture(self.who.chat_ref, reply.picture)
        elif reply.file is not None:
            await self.channel.send_file(self.who.chat_ref, reply.file)
        else:
            # Remembered first: an answer typed quickly still means what was shown.
            await numbered.remember(deps.db, self.who, reply, deps.clock)
            await self.channel.send_long(self.who.chat_ref, numbered.render(reply))

    async def replace(self, reply: Reply) -> None:
        await self.send(reply)  # nothing is edited on Zalo: the next message follows

    async def settle(self, note: str | None = None) -> None:
        if note:
            await self.channel.send_long(self.who.chat_ref, note)

    async def drop_choices(self) -> None:
        pass

    async def toast(self, text: str | None = None, *, alert: bool = False) -> None:
        if text:
            await self.channel.send_long(self.who.chat_ref, text)


def transport_outcome(exc: httpx.HTTPError) -> Outcome:
    """A send that got no answer: only one that surely never left may go again. One cut off
    after it was sent (read timeout, dropped connection) may have arrived: never twice."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Outcome.RETRY
    return Outcome.UNCERTAIN


class ZaloChannel:
    name = NAME

    def __init__(self, deps: Deps, web_server: Any) -> None:
        settings = deps.settings
        assert settings.zalo_bot_token is not None
        self.deps = deps
        self.web = web_server
        self.webhook = settings.zalo_mode == "webhook"
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(15.0, read=POLL_TIMEOUT + 15.0))
        self.api = ZaloApi(
            settings.zalo_api_base_url, settings.zalo_bot_token.get_secret_value(), self.client
        )
        self.observers: list[Callable[[str], None]] = []  # told each message_id once handled
        self.error_observers: list[Callable[[BaseException], None]] = []
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.chats = PerChat()
        self._gate = asyncio.Semaphore(CONCURRENT)
        self._quota_told = False

    # --- lifecycle ---------------------------------------------------------------------------

    async def prepare(self) -> None:
        try:
            await self.api.call("getMe")
        except ZaloApiError as exc:
            refused = exc.code in (401, 403)
            raise ChannelUnavailable(NAME, refused=refused, kind=str(exc.code)) from None
        except httpx.HTTPError as exc:
            raise ChannelUnavailable(NAME, refused=False, kind=type(exc).__name__) from None
        if self.webhook:
            self.web.add_post(WEBHOOK_PATH, self._on_webhook)

    async def start(self) -> None:
        settings = self.deps.settings
        if self.webhook:
            assert settings.zalo_webhook_secret is not None
            url = f"{settings.public_base_url}{WEBHOOK_PATH}"
            secret = settings.zalo_webhook_secret.get_secret_value()
            await self.api.call("setWebhook", {"url": url, "secret_token": secret})
            log.info("zalo: webhook set")
            return
        try:  # polling and a webhook exclude each other
            await self.api.call("deleteWebhook")
        except (ZaloApiError, httpx.HTTPError) as exc:
            log.warning("zalo: deleteWebhook failed (%s)", type(exc).__name__)
        self._poller = asyncio.create_task(self._poll(), name="zalo-poll")
        log.info("zalo: polling")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        if self._tasks:  # what is in hand finishes; a stuck one is not waited for long
            await asyncio.wait(self._tasks, timeout=10.0)

    async def close(self) -> None:
        await self.client.aclose()

    def health(self) -> dict[str, Any]:
        receiving = self.webhook or (self._poller is not None and not self._poller.done())
        last = self.api.last_answer
        return {
            "ok": bool(receiving),
            "mode": "webhook" if self.webhook else "polling",
            "last_contact": last.isoformat() if last else None,
        }

    # --- in ----------------------------------------------------------------------------------

    async def _poll(self) -> None:
        wait = 1.0
        while True:
            try:
                update = await self.api.call("getUpdates", {"timeout": str(POLL_TIMEOUT)})
            except ZaloApiError as exc:
                if exc.code == 408:  # nothing arrived within the timeout
                    wait = 1.0
                    continue
                log.warning("zalo: getUpdates refused (%d); retrying in %.0f s", exc.code, wait)
            except httpx.HTTPError as exc:
                log.warning(
                    "zalo: getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, wait
                )
            else:
                wait = 1.0
                found = _update_of(update)
                if found is not None:
                    self.accept(found)
                continue
            await asyncio.sleep(wait)
            wait = min(wait * 2, BACKOFF_MAX)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        secret = self.deps.settings.zalo_webhook_secret
        assert secret is not None
        given = request.headers.get("X-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return web.Response(status=403)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        found = _update_of(body)
        if found is not None:
            self.accept(found)  # answered at once; handled after
        return web.json_response({"ok": True})

    def accept(self, update: dict[str, Any]) -> None:
        task = asyncio.create_task(self._handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update: dict[str, Any]) -> None:
        message = update["message"]
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        message_id = str(message.get("message_id") or "")
        chat_ref = str(chat.get("id") or sender.get("id") or "")
        user_ref = str(sender.get("id") or chat_ref)
        if not message_id or not chat_ref or sender.get("is_bot"):
            return
        if chat.get("chat_type", "PRIVATE") != "PRIVATE":
            return  # groups deliver only mentions, and the campaign is personal
        try:
            # The chat's turn first, then a global slot: a burst from one chat never holds
            # the slots everybody else needs.
            async with self.chats.hold(chat_ref), self._gate:
                await self._handle_one(update, message_id, Who(NAME, chat_ref, user_ref))
        finally:
            for observer in self.observers:
                observer(message_id)

    async def _handle_one(self, update: dict[str, Any], message_id: str, who: Who) -> None:
        deps = self.deps
        try:
            incoming = await self._incoming(update, who)
            # Zalo serves updates again: the router acts on each message_id once.
            await router.handle(Turn(who, incoming, deps, Outbox(self, who)), message_id)
        except Exception as exc:
            # Only the error's type: updates carry names and phone numbers.
            log.error("zalo: error while handling an update: %s", type(exc).__name__, exc_info=exc)
            for observer in self.error_observers:
                observer(exc)
            try:
                await self.send_long(who.chat_ref, texts.ERROR)
            except Exception:
                log.warning("zalo: could not tell the user about the error")

    async def _incoming(self, update: dict[str, Any], who: Who) -> Incoming:
        event = str(update.get("event_name", ""))
        if event == "message.text.received":
            text = update["message"].get("text")
            if isinstance(text, str) and text.strip():
                return await numbered.resolve(self.deps.db, who, text)
        return Other(event.split(".")[1] if event.count(".") == 2 else "unknown")

    # --- out ---------------------------------------------------------------------------------

    async def send_long(self, chat_ref: str, text: str) -> None:
        for piece in split_text(text):
            await self.api.call("sendMessage", {"chat_id": chat_ref, "text": piece})

    def _shelf(self) -> Any:
        return self.deps.files

    async def send_picture(self, chat_ref: str, picture: File) -> None:
        shelf = self._shelf()
        if shelf is None:
            await self.send_long(chat_ref, texts.FILE_NEEDS_SERVER)
            return
        url = shelf.put(picture.name, picture.data, "image/png")
        payload = {"chat_id": chat_ref, "photo": url}
        if picture.caption:
            payload["caption"] = picture.caption
        await self.api.call("sendPhoto", payload)

    async def send_file(self, chat_ref: str, file: File) -> None:
        shelf = self._shelf()
        if shelf is None:
            await self.send_long(chat_ref, texts.FILE_NEEDS_SERVER)
            return
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        url = shelf.put(file.name, file.data, kind)
        await self.send_long(chat_ref, texts.file_link(file.caption or file.name, url))

    def start_link(self, payload: str) -> str | None:
        return None  # Zalo has no deep links: codes do their work

    async def show_role_menu(self, user_ref: str, entries: list[tuple[str, str]] | None) -> None:
        pass  # no command menu: the numbered menu is built from the person's roles each time

    async def send_text(self, user_ref: str, text: str) -> bool:
        try:
            await self.send_long(user_ref, text)
        except (ZaloApiError, httpx.HTTPError) as exc:
            log.warning("zalo: a notice was not delivered (%s)", type(exc).__name__)
            return False
        return True

    async def deliver(self, user_ref: str, text: str) -> tuple[Outcome, float]:
        """One reminder: what became of it (Zalo's 429 means the month's quota is spent)."""
        try:
            await self.send_long(user_ref, text)
        except ZaloApiError as exc:
            if exc.code == 429:
                if not self._quota_told:
                    self._quota_told = True
                    log.error(
                        "zalo: the bot's message quota is spent; deliveries fail until it renews"
                    )
                return Outcome.FAILED, 0.0
            if exc.code == 403:
                return Outcome.UNREACHABLE, 0.0
            if exc.code == 408:
                return Outcome.UNCERTAIN, 0.0
            if exc.code in (400, 404):
                return Outcome.FAILED, 0.0
            return Outcome.RETRY, 0.0  # 401, 5xx: not delivered
        except httpx.HTTPError as exc:
            return transport_outcome(exc), 0.0
        return Outcome.SENT, 0.0
