"""A fake Zalo Bot API server, so the Zalo channel can be tested over real HTTP.

It behaves as /work/shared/zalo/API.md and fixtures.json describe the live service: a client
POSTs a JSON body to ``/bot<token>/<method>`` and gets ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": ...}`` with HTTP status N. What differs from
Telegram, and what this fake enforces so an adapter's mistakes fail here and not in production:

- ``getUpdates`` answers ONE update object (not a list), has no offset, and answers HTTP 408
  when nothing arrived in time; a consumed update may be served again (``redeliver``).
- Ids are opaque 20-hex strings, dates are milliseconds.
- ``sendMessage`` takes only ``chat_id`` and ``text`` (1-2000 characters after NFC): there are
  no keyboards and no parse modes, so any other key is a 400.
- ``sendPhoto`` takes a URL that the server fetches itself (the fake really GETs it).
- Polling and a webhook exclude each other; webhook deliveries carry ``X-Bot-Api-Secret-Token``
  and are flat ``{"event_name", "message"}`` (or wrapped in ``{"ok", "result"}``, as the docs
  show, when ``wrap_webhook`` is set).

Tests drive it in-process (same event loop): ``inject_text``/``inject_event``/``redeliver`` play
the user, ``messages()``/``texts()``/``calls`` show what the bot did, ``fail_next``/``quota`` make
Zalo misbehave on purpose. The token is never logged, printed or put in an error message.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import time
import unicodedata
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]
SentKind = Literal["text", "photo", "sticker"]

MAX_TEXT_LENGTH = 2000  # characters, counted after NFC normalisation
MIN_SECRET_LENGTH = 8
MAX_SECRET_LENGTH = 256
DEFAULT_POLL_TIMEOUT = 30.0  # seconds, when getUpdates has no "timeout"
FETCH_TIMEOUT = 10.0  # seconds, for sendPhoto's fetch and for webhook deliveries
SECRET_HEADER = "X-Bot-Api-Secret-Token"

TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"
STICKER_EVENT = "message.sticker.received"
VOICE_EVENT = "message.voice.received"
UNSUPPORTED_EVENT = "message.unsupported.received"

BAD_REQUEST = "Bad request"
UNSUPPORTED_PARAMETER = "Bad request: unsupported parameter"
CANNOT_FETCH_PHOTO = "Bad request: cannot fetch photo"
QUOTA_EXCEEDED = "Quota exceeded"
WEBHOOK_IS_SET = "webhook is set"

_DEFAULT_DESCRIPTIONS = {
    400: BAD_REQUEST,
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request timeout",
    429: QUOTA_EXCEEDED,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_QUOTA_METHODS = frozenset({"sendMessage", "sendPhoto"})
_NO_RESULT = object()  # a handler's answer that is {"ok": true} without a "result" key


class _ApiFailure(Exception):
    """Raised by a handler to answer with a Zalo error instead of a result."""

    def __init__(self, status: int, description: str, *, with_code: bool = True) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.with_code = with_code  # getWebhookInfo's 404 was measured without error_code

    def to_json(self) -> JSONDict:
        body: JSONDict = {"ok": False}
        if self.with_code:
            body["error_code"] = self.status
        body["description"] = self.description
        return body


@dataclass
class ApiCall:
    """One authenticated HTTP call. A long poll is recorded on arrival, answered later."""

    method: str
    json: JSONDict  # the request body as received ({} when empty)
    status: int = 0  # the HTTP status answered; 0 while a long poll still waits
    at: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> bool:
        return self.status != 0

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class ZaloSent:
    """A message the bot sent (sendMessage, sendPhoto or sendSticker) and Zalo accepted."""

    kind: SentKind
    chat_id: str
    text: str | None  # exactly as sent; None for photos and stickers
    message_id: str
    date: int  # milliseconds
    photo_url: str | None = None
    photo_bytes: bytes | None = None  # what the fake fetched from photo_url
    caption: str | None = None
    sticker: str | None = None


@dataclass
class _FailureRule:
    method: str
    status: int
    description: str
    chat_id: str | None
    remaining: int


def _bad(description: str = BAD_REQUEST) -> _ApiFailure:
    return _ApiFailure(400, description)


def _only(body: JSONDict, *allowed: str) -> None:
    """Zalo has no reply_markup, parse_mode, etc.: any other key is refused."""
    if set(body) - set(allowed):
        raise _bad(UNSUPPORTED_PARAMETER)


def _chat_id(body: JSONDict) -> str:
    chat_id = body.get("chat_id")
    if not isinstance(chat_id, str) or not chat_id:
        raise _bad("Bad request: invalid chat_id")
    return chat_id


def _check_text(value: Any) -> str:
    if not isinstance(value, str):
        raise _bad()
    if not 1 <= len(unicodedata.normalize("NFC", value)) <= MAX_TEXT_LENGTH:
        raise _bad()
    return value


def _poll_timeout(value: Any) -> float:
    """Seconds from getUpdates' "timeout", which clients send as a string ("30") or a number."""
    if value is None:
        return DEFAULT_POLL_TIMEOUT
    if isinstance(value, bool):
        raise _bad("Bad request: invalid timeout")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            raise _bad("Bad request: invalid timeout") from None
    else:
        raise _bad("Bad request: invalid timeout")
    if not math.isfinite(seconds) or seconds < 0:
        raise _bad("Bad request: invalid timeout")
    return seconds


def _is_http_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class FakeZaloApi:
    """The fake server. ``async with FakeZaloApi(token) as zalo:`` starts and stops it."""

    bot_id: str = "1459232241454765289"
    account_name: str = "bot.FakeZalo"

    def __init__(self, token: str, *, now: Callable[[], float] = time.time) -> None:
        self.token = token
        self._now = now
        self.poll_cap = 1.0  # longest a getUpdates waits, whatever its timeout asks
        self.wrap_webhook = False  # deliver {"ok": true, "result": update} instead of flat

        self.calls: list[ApiCall] = []
        self.sent: list[ZaloSent] = []
        self.polls = 0  # every authenticated getUpdates call, whatever its answer
        self.injected: list[JSONDict] = []  # every update ever injected, in order
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_updated_at: int | None = None
        self.webhook_statuses: list[int] = []  # one per delivery; 0 when the POST failed
        self.webhook_bodies: list[JSONDict] = []  # what each delivery POSTed, in order
        self.webhook_errors: list[str] = []  # why deliveries failed (connection refused...)
        self.internal_errors: list[str] = []  # bugs in this fake; tests may assert it is empty

        self._updates: deque[JSONDict] = deque()  # queued for getUpdates, oldest first
        self._by_message_id: dict[str, JSONDict] = {}
        self._ids: set[str] = set()
        self._failures: list[_FailureRule] = []
        self._quota: int | None = None
        self._quota_used = 0  # successful sendMessage/sendPhoto calls so far

        self._waiters: set[asyncio.Future[None]] = set()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._session: aiohttp.ClientSession | None = None
        # (update, body to POST): the body is fixed at injection, so wrap_webhook applies then.
        self._deliveries: asyncio.Queue[tuple[JSONDict, JSONDict]] | None = None
        self._worker: asyncio.Task[None] | None = None

        handlers: dict[str, Callable[[JSONDict, web.Request], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }
        self._handlers = handlers

    def __repr__(self) -> str:  # never the token
        return f"FakeZaloApi(port={self._port}, bot_id={self.bot_id!r})"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeZaloApi already started")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._closing = False
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        self._deliveries = asyncio.Queue()
        self._worker = asyncio.create_task(self._deliver_forever(self._deliveries))

    async def stop(self) -> None:
        """End pending long polls and webhook deliveries, then close sockets and sessions."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True
        self._wake()
        worker, self._worker = self._worker, None
        self._deliveries = None
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        await runner.cleanup()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> FakeZaloApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeZaloApi not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base_url(self) -> str:
        """A call is ``POST {api_base_url}{token}/{method}`` with a JSON body."""
        return f"{self.base_url}/bot"

    # ------------------------------------------------------------------ the user's side

    def inject_text(self, user_id: str, text: str, *, display_name: str = "Ted") -> str:
        """Queue (or deliver to the webhook) a text from ``user_id``; returns its message_id."""
        return self.inject_event(TEXT_EVENT, user_id, display_name=display_name, text=text)

    def inject_event(
        self, event_name: str, user_id: str, *, display_name: str = "Ted", **fields: Any
    ) -> str:
        """Queue any event in a private chat; ``fields`` go into ``message`` as they are.

        E.g. ``inject_event(IMAGE_EVENT, uid, photo_url=..., caption=...)``, or
        ``inject_event(UNSUPPORTED_EVENT, uid)`` (no content fields). Returns the message_id.
        """
        if not isinstance(user_id, str) or not user_id:
            raise TypeError("Zalo user ids are non-empty strings")
        message_id = self._new_id()
        message: JSONDict = {
            "message_id": message_id,
            "date": self._ms(),
            "from": {"id": user_id, "display_name": display_name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            **fields,
        }
        update: JSONDict = {"event_name": event_name, "message": message}
        self.injected.append(update)
        self._by_message_id[message_id] = update
        self._dispatch(update)
        return message_id

    def redeliver(self, message_id: str) -> None:
        """Serve the very same update again, as Zalo does with consumed updates."""
        try:
            update = self._by_message_id[message_id]
        except KeyError:
            raise KeyError(f"no injected update has message_id {message_id!r}") from None
        self._dispatch(update)

    @property
    def pending(self) -> int:
        """Updates queued for getUpdates and not served yet."""
        return len(self._updates)

    # ------------------------------------------------------------------ misbehaviour

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        chat_id: str | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls to ``method`` (to ``chat_id``, if given) fail with ``status``.

        ``description`` defaults to Zalo's wording for the status ("Quota exceeded" for 429...).
        A failed send is not recorded as sent.
        """
        if method not in self._handlers:
            raise ValueError(f"unknown Zalo method {method!r}")
        text = description if description is not None else _DEFAULT_DESCRIPTIONS.get(status)
        self._failures.append(
            _FailureRule(method, status, text or f"Error {status}", chat_id, times)
        )

    def quota(self, n: int | None) -> None:
        """After ``n`` successful sendMessage/sendPhoto calls in total (counting those already
        made), every further one answers 429 "Quota exceeded". ``None`` lifts the quota."""
        self._quota = n

    # ------------------------------------------------------------------ inspection

    def messages(self, chat_id: str) -> list[ZaloSent]:
        return [sent for sent in self.sent if sent.chat_id == chat_id]

    def texts(self, chat_id: str) -> list[str]:
        """The texts of the text messages sent to ``chat_id`` (not photo captions)."""
        return [sent.text for sent in self.messages(chat_id) if sent.text is not None]

    def calls_to(self, *methods: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method in methods]

    async def wait_for_messages(
        self, chat_id: str, count: int, seconds: float = 10.0
    ) -> list[ZaloSent]:
        """Wait until at least ``count`` messages were sent to ``chat_id``; return them all."""
        if not await self._wait_until(lambda: len(self.messages(chat_id)) >= count, seconds):
            seen = [sent.text or sent.photo_url or sent.sticker for sent in self.messages(chat_id)]
            raise AssertionError(
                f"expected {count} message(s) to chat {chat_id!r} within {seconds}s, "
                f"saw {len(seen)}: {seen!r}"
            )
        return self.messages(chat_id)

    async def wait_for_call(
        self, method: str, count: int = 1, seconds: float = 10.0
    ) -> list[ApiCall]:
        """Wait until ``count`` calls to ``method`` were answered; return all answered ones."""

        def answered() -> list[ApiCall]:
            return [call for call in self.calls_to(method) if call.done]

        if not await self._wait_until(lambda: len(answered()) >= count, seconds):
            raise AssertionError(
                f"expected {count} answered {method} call(s) within {seconds}s, "
                f"saw {len(answered())}; all methods called: {[c.method for c in self.calls]}"
            )
        return answered()

    async def wait_for_webhook(self, count: int = 1, seconds: float = 10.0) -> list[int]:
        """Wait until ``count`` webhook deliveries finished; return their HTTP statuses."""
        if not await self._wait_until(lambda: len(self.webhook_statuses) >= count, seconds):
            raise AssertionError(
                f"expected {count} webhook deliveries within {seconds}s, "
                f"saw statuses {self.webhook_statuses!r}, errors {self.webhook_errors!r}"
            )
        return list(self.webhook_statuses)

    async def post_webhook(self, body: JSONDict, secret: str | None) -> int:
        """POST any body to the registered webhook with any secret (None: no header).

        For wrong-secret tests; returns the HTTP status (0 if the POST failed). Not counted
        in ``webhook_statuses``.
        """
        if self.webhook_url is None:
            raise RuntimeError("no webhook is set")
        return await self._post(self.webhook_url, body, secret)

    # ------------------------------------------------------------------ internals: state

    def _ms(self) -> int:
        return int(self._now() * 1000)

    def _new_id(self) -> str:
        while (new := secrets.token_hex(10)) in self._ids:
            pass
        self._ids.add(new)
        return new

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_change(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            async with asyncio.timeout(seconds):
                await waiter
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    async def _wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await self._wait_for_change(remaining)
        return True

    def _dispatch(self, update: JSONDict) -> None:
        """To the webhook while one is set (and the fake runs), else to the getUpdates queue."""
        if self.webhook_url is not None and self._deliveries is not None:
            body = {"ok": True, "result": update} if self.wrap_webhook else update
            self._deliveries.put_nowait((update, body))
        else:
            self._updates.append(update)
        self._wake()

    def _injected_failure(self, method: str, body: JSONDict) -> _ApiFailure | None:
        for rule in self._failures:
            if rule.method == method and rule.chat_id in (None, body.get("chat_id")):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._failures.remove(rule)
                return _ApiFailure(rule.status, rule.description)
        return None

    def _spend_quota(self) -> None:
        if self._quota is not None and self._quota_used >= self._quota:
            raise _ApiFailure(429, QUOTA_EXCEEDED)

    def _record(self, sent: ZaloSent) -> JSONDict:
        self.sent.append(sent)
        if sent.kind in ("text", "photo"):
            self._quota_used += 1
        return {"message_id": sent.message_id, "date": sent.date}

    # ------------------------------------------------------------------ internals: webhook

    async def _post(self, url: str, body: JSONDict, secret: str | None) -> int:
        if self._session is None:
            raise RuntimeError("FakeZaloApi not started")
        headers = {} if secret is None else {SECRET_HEADER: secret}
        try:
            async with self._session.post(
                url,
                json=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT),
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            self.webhook_errors.append(f"{type(exc).__name__}: {exc}")
            return 0

    async def _deliver_forever(self, queue: asyncio.Queue[tuple[JSONDict, JSONDict]]) -> None:
        """One delivery at a time, so the receiver sees updates in injection order."""
        while True:
            update, body = await queue.get()
            url, secret = self.webhook_url, self.webhook_secret
            if url is None:  # the webhook was deleted meanwhile: back to polling
                self._updates.append(update)
                self._wake()
                continue
            try:
                status = await self._post(url, body, secret)
            except Exception as exc:  # a bug in the fake must show, not kill deliveries
                self.internal_errors.append(f"webhook delivery: {exc!r}")
                status = 0
            self.webhook_bodies.append(body)
            self.webhook_statuses.append(status)
            self._wake()

    # ------------------------------------------------------------------ internals: methods

    async def _get_me(self, body: JSONDict, request: web.Request) -> JSONDict:
        return {
            "id": self.bot_id,
            "account_name": self.account_name,
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _get_updates(self, body: JSONDict, request: web.Request) -> JSONDict:
        if self.webhook_url is not None:
            raise _bad(WEBHOOK_IS_SET)
        wait = min(_poll_timeout(body.get("timeout")), self.poll_cap)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not self._updates and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self._wait_for_change(remaining)
        # Don't hand an update to a client that already hung up: it would be lost.
        if self._updates and not self._closing and not _client_gone(request):
            return self._updates.popleft()
        raise _ApiFailure(408, "Request timeout")

    async def _set_webhook(self, body: JSONDict, request: web.Request) -> JSONDict:
        url, secret = body.get("url"), body.get("secret_token")
        if not _is_http_url(url):
            raise _bad("Bad request: invalid url")
        if not isinstance(secret, str) or not (
            MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH
        ):
            raise _bad("Bad request: secret_token must be 8-256 characters")
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_updated_at = self._ms()
        return {"url": url, "updated_at": self.webhook_updated_at}

    async def _delete_webhook(self, body: JSONDict, request: web.Request) -> JSONDict:
        self.webhook_url = self.webhook_secret = None
        self.webhook_updated_at = self._ms()
        return {"url": "", "updated_at": self.webhook_updated_at}

    async def _get_webhook_info(self, body: JSONDict, request: web.Request) -> JSONDict:
        if self.webhook_url is None:
            raise _ApiFailure(404, "Not Found", with_code=False)
        return {"url": self.webhook_url, "updated_at": self.webhook_updated_at}

    async def _send_message(self, body: JSONDict, request: web.Request) -> JSONDict:
        _only(body, "chat_id", "text")
        chat_id = _chat_id(body)
        text = _check_text(body.get("text"))
        self._spend_quota()
        return self._record(ZaloSent("text", chat_id, text, self._new_id(), self._ms()))

    async def _send_photo(self, body: JSONDict, request: web.Request) -> JSONDict:
        _only(body, "chat_id", "photo", "caption")
        chat_id = _chat_id(body)
        url = body.get("photo")
        if not _is_http_url(url):
            raise _bad("Bad request: photo must be an http(s) URL")
        caption = body.get("caption")
        if caption is not None and not isinstance(caption, str):
            raise _bad()
        self._spend_quota()
        data = await self._fetch(url)
        sent = ZaloSent(
            "photo",
            chat_id,
            None,
            self._new_id(),
            self._ms(),
            photo_url=url,
            photo_bytes=data,
            caption=caption,
        )
        return self._record(sent)

    async def _fetch(self, url: str) -> bytes:
        if self._session is None:
            raise RuntimeError("FakeZaloApi not started")
        try:
            async with self._session.get(
                url, timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
            ) as response:
                if response.status != 200:
                    raise _bad(CANNOT_FETCH_PHOTO)
                return await response.read()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise _bad(CANNOT_FETCH_PHOTO) from None

    async def _send_sticker(self, body: JSONDict, request: web.Request) -> JSONDict:
        _only(body, "chat_id", "sticker")
        chat_id = _chat_id(body)
        sticker = body.get("sticker")
        if not isinstance(sticker, str) or not sticker:
            raise _bad()
        sent = ZaloSent("sticker", chat_id, None, self._new_id(), self._ms(), sticker=sticker)
        return self._record(sent)

    async def _send_chat_action(self, body: JSONDict, request: web.Request) -> object:
        _only(body, "chat_id", "action")
        _chat_id(body)
        if not isinstance(body.get("action"), str):
            raise _bad()
        return _NO_RESULT

    # ------------------------------------------------------------------ internals: HTTP

    def _answer(
        self, call: ApiCall | None, result: Any = None, failure: _ApiFailure | None = None
    ) -> web.Response:
        if failure is not None:
            status, payload = failure.status, failure.to_json()
        else:
            status = 200
            payload = {"ok": True} if result is _NO_RESULT else {"ok": True, "result": result}
        if call is not None:
            call.status = status
        self._wake()
        return web.json_response(payload, status=status)

    @staticmethod
    async def _read_body(request: web.Request) -> JSONDict:
        raw = await request.read()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise _bad("Bad request: body must be JSON") from None
        if not isinstance(body, dict):
            raise _bad("Bad request: body must be a JSON object")
        return body

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._answer(None, failure=_ApiFailure(401, "Unauthorized"))
        method = request.match_info["method"]
        if request.method != "POST":
            return self._answer(None, failure=_ApiFailure(405, "Method Not Allowed"))
        try:
            body = await self._read_body(request)
        except _ApiFailure as failure:
            call = ApiCall(method, {})
            self.calls.append(call)
            return self._answer(call, failure=failure)
        # Recorded even when unknown (404), so a test can see what the bot tried to call.
        call = ApiCall(method, body)
        self.calls.append(call)
        handler = self._handlers.get(method)
        if handler is None:
            return self._answer(call, failure=_ApiFailure(404, "Not Found"))
        if method == "getUpdates":
            self.polls += 1
        try:
            failure = self._injected_failure(method, body)
            if failure is not None:
                raise failure
            result = await handler(body, request)
        except _ApiFailure as failure:
            return self._answer(call, failure=failure)
        except Exception as exc:  # a bug in the fake must fail the test, not hang it
            self.internal_errors.append(f"{method}: {exc!r}")
            return self._answer(call, failure=_ApiFailure(500, "Internal Server Error"))
        return self._answer(call, result)

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return self._answer(None, failure=_ApiFailure(404, "Not Found"))
