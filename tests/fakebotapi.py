"""A fake Telegram Bot API server, so end-to-end tests can run the real PTB ``Application``.

It speaks HTTP on 127.0.0.1 like api.telegram.org does: PTB posts to ``/bot<token>/<method>``
and gets ``{"ok": ..., "result": ...}`` back. Tests drive it in-process (same event loop):
``inject_message``/``inject_callback`` play the user, ``messages()``/``calls`` show what the bot
did, ``fail_next``/``rate_limit``/``block`` make Telegram misbehave on purpose.

How PTB v22 encodes a request (see ``telegram/request/_requestparameter.py``): every parameter
becomes one form field; ``str`` values are sent as they are, everything else is ``json.dumps``-ed
(ints -> ``"5"``, bools -> ``"true"``, markups and lists -> JSON text, datetimes -> unix ints,
timedeltas -> seconds, possibly fractional). The body is urlencoded, or multipart when a file is
uploaded; an uploaded file arrives as a part named after its parameter (``document``), or under
``attached<hex>`` with the parameter set to ``attach://attached<hex>`` (media groups, thumbnails).
So whether ``"123"`` is a number depends on the parameter's name, and a user's text that happens to
look like JSON must stay text: decoding is done per parameter name (``_decode_param``).

On the way back PTB strips "Bad Request: " from an error's description and ``.capitalize()``s the
rest ("BUTTON_DATA_INVALID" -> "Button_data_invalid"), so match BadRequest messages with (?i).

Webhooks work as in telegram-bot-api (``Client.cpp``, ``WebhookActor.cpp``): after ``setWebhook``
getUpdates answers 409 and a background task POSTs each pending update, oldest first and one at a
time, to the url (plain http is accepted for 127.0.0.1/localhost only), with the secret in the
``X-Telegram-Bot-Api-Secret-Token`` header; a 2xx answer removes the update, anything else (or no
connection) keeps it and retries after WEBHOOK_RETRY_DELAY. ``webhook_statuses`` records each
delivery, ``wait_for_webhook`` waits for them, ``post_webhook`` forges a request.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]
MessageKind = Literal["text", "photo", "document"]

# Telegram's documented limits; enforcing them makes the bot's mistakes fail here, not in prod.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
TERMINATED_BY_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_RETRY_DELAY = 0.2  # seconds between a failed delivery and the next attempt
WEBHOOK_TIMEOUT = 10.0  # seconds a webhook may take to answer before it counts as a failure
MAX_SECRET_TOKEN_LENGTH = 256

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


# Parameters whose value is text even when it looks like a number or JSON (PTB never
# JSON-encodes a str), so a user typing "123" or "[1]" is not turned into an int or a list.
_STRING_PARAMS = _words(
    "action address business_connection_id callback_query_id caption description document",
    "emoji file_id first_name game_short_name inline_message_id ip_address language_code",
    "last_name message_effect_id name parse_mode phone_number photo query question",
    "secret_token short_description sticker text thumbnail title url vcard",
)
# Ids and counters that other clients (the JSON routes, hand-written tests) may send as strings.
_INT_PARAMS = _words(
    "cache_time chat_id from_chat_id limit message_id message_thread_id offset",
    "reply_to_message_id user_id",
)
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+\.\d*(?:[eE][-+]?\d+)?")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]*")  # empty: no secret, as in Telegram
# Plain http and any port are for these hosts only; elsewhere Telegram wants https on these ports.
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
# Put in _current_poll by setWebhook: the waiting long poll ends with TERMINATED_BY_SET_WEBHOOK.
_ENDED_BY_SET_WEBHOOK = object()

# Inline buttons must do something; a button with none of these is rejected by Telegram.
_INLINE_BUTTON_ACTIONS = _words(
    "callback_data callback_game copy_text login_url pay switch_inline_query",
    "switch_inline_query_chosen_chat switch_inline_query_current_chat url web_app",
)
# Tags Telegram's HTML parse mode accepts; anything else is a "can't parse entities" error.
_HTML_TAGS = _words(
    "a b blockquote code del em i ins pre s span strike strong tg-emoji tg-spoiler u",
)
_HTML_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_MARKDOWN_V2_MARKERS_RE = re.compile(r"(?<!\\)(\|\||[*_~`])")
_MARKDOWN_V2_LINK_RE = re.compile(r"(?<!\\)\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_V2_ESCAPE_RE = re.compile(r"\\(.)")
_MARKDOWN_MARKERS_RE = re.compile(r"[*_`]")


class _ApiFailure(Exception):
    """Raised by a method handler to answer with a Bot API error instead of a result."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error = ApiError(status, description, retry_after)


def _bad_request(detail: str) -> _ApiFailure:
    return _ApiFailure(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class TgUser:
    """A Telegram user as the tests imagine them; their private chat id equals their id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "vi"

    def to_dict(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def private_chat(self) -> JSONDict:
        chat: JSONDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        return chat

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TgUser:
        return cls(
            id=int(data["id"]),
            first_name=str(data.get("first_name") or f"User {data['id']}"),
            last_name=data.get("last_name"),
            username=data.get("username"),
            language_code=data.get("language_code", "vi"),
        )


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, read fully into memory."""

    filename: str
    mime_type: str
    data: bytes


@dataclass(frozen=True)
class ApiError:
    status: int
    description: str
    retry_after: int | None = None

    def to_json(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class ApiCall:
    """One HTTP call to the Bot API. A long poll is recorded on arrival, finished later."""

    method: str
    params: JSONDict
    at: float  # time.monotonic() on arrival
    result: Any = None
    error: ApiError | None = None
    done: bool = False

    @property
    def ok(self) -> bool:
        return self.done and self.error is None


@dataclass
class FakeStats:
    requests: int = 0
    rate_limited: int = 0  # 429s produced by rate_limit()
    injected_failures: int = 0  # errors produced by fail_next()/block()
    conflicts: int = 0  # getUpdates ended by a newer getUpdates while its client still waited
    by_status: Counter[int] = field(default_factory=Counter)  # every HTTP status answered


@dataclass
class SentMessage:
    """A message the bot sent, as it is now (after edits)."""

    message_id: int
    chat_id: int
    chat: JSONDict
    sender: JSONDict
    date: int
    kind: MessageKind
    text: str | None  # the text, or the caption of a photo/document, exactly as sent
    parse_mode: str | None = None
    entities: list[Any] | None = None
    reply_markup: JSONDict | None = None
    reply_to_message_id: int | None = None
    file: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None
    file_id: str | None = None
    file_unique_id: str | None = None
    width: int | None = None
    height: int | None = None
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False
    # (text, reply_markup) before each edit, oldest first
    history: list[tuple[str | None, JSONDict | None]] = field(default_factory=list)

    @property
    def edited(self) -> bool:
        return self.edit_count > 0

    @property
    def plain_text(self) -> str | None:
        """The text as a user reads it (markup of the parse mode removed)."""
        return None if self.text is None else _plain_text(self.text, self.parse_mode)

    @property
    def removes_keyboard(self) -> bool:
        return bool(self.reply_markup and self.reply_markup.get("remove_keyboard"))

    def buttons(self) -> list[list[tuple[str, str]]]:
        """(text, callback_data) of the inline keyboard; callback_data is "" for url buttons."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [(str(button.get("text", "")), str(button.get("callback_data", ""))) for button in row]
            for row in rows
        ]

    def button_data(self, text: str) -> str:
        """callback_data of the one inline button labelled ``text``."""
        found = [data for row in self.buttons() for label, data in row if label == text]
        if len(found) != 1:
            raise AssertionError(
                f"expected one button {text!r} on message {self.message_id}, "
                f"found {len(found)} in {self.buttons()}"
            )
        return found[0]

    def reply_keyboard(self) -> list[list[JSONDict]]:
        """Rows of a ReplyKeyboardMarkup, each button as a dict (plain strings normalised)."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [
            [dict(button) if isinstance(button, dict) else {"text": str(button)} for button in row]
            for row in rows
        ]

    def to_bot_api(self) -> JSONDict:
        """The Message object Telegram would return / embed in a callback query."""
        message: JSONDict = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": dict(self.chat),
            "from": dict(self.sender),
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        text = self.plain_text
        if self.kind == "text":
            message["text"] = text
            if self.entities:
                message["entities"] = self.entities
        else:
            if text:
                message["caption"] = text
                if self.entities:
                    message["caption_entities"] = self.entities
            size = len(self.file) if self.file is not None else 0
            if self.kind == "photo":
                message["photo"] = [
                    {
                        "file_id": self.file_id,
                        "file_unique_id": self.file_unique_id,
                        "width": self.width,
                        "height": self.height,
                        "file_size": size,
                    }
                ]
            else:
                document: JSONDict = {
                    "file_id": self.file_id,
                    "file_unique_id": self.file_unique_id,
                    "file_size": size,
                }
                if self.filename is not None:
                    document["file_name"] = self.filename
                if self.mime_type is not None:
                    document["mime_type"] = self.mime_type
                message["document"] = document
        # Telegram only echoes inline keyboards back; reply keyboards live on the client.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message

    def to_dict(self) -> JSONDict:
        """A JSON-friendly summary for the /_test/messages route."""
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "kind": self.kind,
            "text": self.text,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "buttons": [[list(button) for button in row] for row in self.buttons()],
            "filename": self.filename,
            "mime_type": self.mime_type,
            "file_size": None if self.file is None else len(self.file),
            "edit_count": self.edit_count,
            "deleted": self.deleted,
            "date": self.date,
        }


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes | None  # None for files "sent" by URL
    filename: str | None
    mime_type: str | None


@dataclass
class _FailureRule:
    method: str  # lower-case
    error: ApiError
    remaining: int
    chat_id: int | None


@dataclass
class _CallbackRecord:
    update_id: int
    answer: JSONDict | None = None


def _utf16_len(text: str) -> int:
    # Telegram measures text and entity offsets in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _plain_text(text: str, parse_mode: str | None) -> str:
    mode = (parse_mode or "").lower()
    if mode == "html":
        return html.unescape(_HTML_TAG_RE.sub("", text))
    if mode == "markdownv2":
        text = _MARKDOWN_V2_LINK_RE.sub(r"\1", text)
        return _MARKDOWN_V2_ESCAPE_RE.sub(r"\1", _MARKDOWN_V2_MARKERS_RE.sub("", text))
    if mode == "markdown":
        return _MARKDOWN_MARKERS_RE.sub("", text)
    return text


def _check_html(text: str) -> None:
    """Reject what Telegram's HTML parser rejects: unknown tags, stray '<', unbalanced tags."""
    open_tags: list[str] = []
    position = 0
    while (start := text.find("<", position)) != -1:
        match = _HTML_TAG_RE.match(text, start)
        offset = len(text[:start].encode())
        if match is None:
            raise _bad_request(
                f"can't parse entities: Unsupported start tag at byte offset {offset}"
            )
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in _HTML_TAGS:
            raise _bad_request(
                f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
            )
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            raise _bad_request(f"can't parse entities: Unexpected end tag at byte offset {offset}")
        position = match.end()
    if open_tags:
        raise _bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{open_tags[-1]}"'
        )


def _command_entities(text: str) -> list[JSONDict]:
    """The bot_command entity Telegram adds; PTB's CommandHandler needs it at offset 0."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0] if text.strip() else text
    if len(command) < 2:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]


def _decode_param(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {key} JSON object") from None
    if _INT_RE.fullmatch(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    if _FLOAT_RE.fullmatch(value):
        return float(value)
    return value


def _image_size(data: bytes) -> tuple[int, int]:
    # PNG keeps its size at a fixed offset; anything else gets a plausible default.
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 320, 320


def _require_int(params: Mapping[str, Any], key: str) -> int:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_request(f"{key} is empty" if value in (None, "") else f"invalid {key}")
    return value


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _webhook_target(url: str) -> str:
    """The address to POST to for a setWebhook ``url``, or the 400 Telegram answers."""
    target = url if "://" in url else f"https://{url}"  # Telegram assumes https
    parts = urlsplit(target)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise _bad_request("invalid webhook URL specified")
    if parts.hostname.lower() in _LOCAL_HOSTS:
        return target
    if parts.scheme != "https":
        raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if (port or 443) not in _WEBHOOK_PORTS:
        raise _bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    return target


async def _post_json(
    session: aiohttp.ClientSession, url: str, body: Mapping[str, Any], secret: str | None
) -> int:
    """POST ``body`` as Telegram posts an update; the HTTP status, or 0 when it got none."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_TOKEN_HEADER] = secret
    data = json.dumps(body, ensure_ascii=False).encode()
    try:
        async with session.post(url, data=data, headers=headers, allow_redirects=False) as answer:
            await answer.read()
            return answer.status
    except (aiohttp.ClientError, TimeoutError, OSError):
        return 0


def _normalise_markup(markup: JSONDict | None) -> JSONDict | None:
    # An empty inline keyboard is how a bot removes buttons; store it as "no markup".
    if markup is not None and markup.get("inline_keyboard") == []:
        return None
    return markup


class FakeBotApi:
    """The fake server. ``async with FakeBotApi(token) as api:`` starts and stops it."""

    def __init__(
        self,
        token: str,
        bot_username: str = "motcongmot_test_bot",
        bot_id: int = 999000,
        *,
        bot_first_name: str = "Một cộng một",
        strict_chats: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        # strict: sending to a chat nobody injected answers "chat not found", like Telegram.
        self.strict_chats = strict_chats
        self._now = now

        self.calls: list[ApiCall] = []
        self.commands: list[JSONDict] = []
        self.commands_scope: JSONDict | None = None
        self.commands_language_code: str | None = None
        self.stats = FakeStats()
        self.injected: list[JSONDict] = []  # every update ever injected, in order
        self.internal_errors: list[str] = []  # bugs in this fake; tests may assert it is empty

        self._updates: list[JSONDict] = []  # not yet acknowledged by an offset
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._chats: dict[int, JSONDict] = {}
        self._next_message_id: dict[int, int] = {}
        self._bot_messages: dict[int, dict[int, SentMessage]] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._callbacks: dict[str, _CallbackRecord] = {}
        self._commands_by_scope: dict[tuple[str, str], list[JSONDict]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._failures: list[_FailureRule] = []
        self._blocked: set[int] = set()
        self._allowed_updates: list[str] = []
        self._rate: float | None = None
        self._rate_methods: frozenset[str] = frozenset()
        self._rate_window: deque[float] = deque()

        # setWebhook: while webhook_url is set, getUpdates is refused and updates are POSTed.
        self.webhook_url: str | None = None  # as given to setWebhook
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None  # as given; None: not given
        self.webhook_statuses: list[int] = []  # HTTP status of each delivery; 0: no connection
        self._webhook_target: str | None = None  # webhook_url with its scheme
        self._webhook_task: asyncio.Task[None] | None = None

        # Futures woken on every state change; long polls and wait_* helpers sleep on them.
        self._waiters: set[asyncio.Future[None]] = set()
        self._current_poll: object | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self._methods: dict[str, tuple[str, Callable[[JSONDict], Any]]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("sendMessage", self._send_message),
            ("editMessageText", self._edit_message_text),
            ("editMessageCaption", self._edit_message_caption),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("answerCallbackQuery", self._answer_callback_query),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("sendPhoto", self._send_photo),
            ("sendDocument", self._send_document),
            ("sendChatAction", self._send_chat_action),
            ("getFile", self._get_file),
            ("close", self._true),
            ("logOut", self._true),
            # Cosmetic setup calls a bot may make at start; accepted so they don't 404.
            ("setMyDescription", self._true),
            ("setMyShortDescription", self._true),
            ("setChatMenuButton", self._true),
        ):
            self._methods[name.lower()] = (name, handler)
        self._methods["getupdates"] = ("getUpdates", self._true)  # dispatched specially

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotApi already started")
        # Uploads can be up to 50 MB; aiohttp's default body limit is 1 MB.
        app = web.Application(client_max_size=MAX_DOCUMENT_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        app.router.add_post("/_test/message", self._handle_test_message)
        app.router.add_post("/_test/callback", self._handle_test_callback)
        app.router.add_get("/_test/messages", self._handle_test_messages)
        # Long polls are woken before cleanup, so a short grace period is plenty.
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
        if self.webhook_url is not None:  # started again with a webhook still set
            self._start_webhook_delivery()

    async def stop(self) -> None:
        """Wake every pending long poll, end webhook delivery, close the socket and connections."""
        runner, self._runner = self._runner, None
        task, self._webhook_task = self._webhook_task, None
        if runner is None and task is None:
            return
        self._closing = True
        self._wake()
        if task is not None:
            task.cancel()  # its ClientSession closes on the way out
            await asyncio.wait([task])
            self._reap_webhook_task(task)
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.base_url}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------ what the user does

    def inject_message(
        self,
        user: TgUser,
        text: str | None = None,
        *,
        contact: Mapping[str, Any] | None = None,
        chat: Mapping[str, Any] | None = None,
    ) -> int:
        """Queue a message from ``user``; returns its update_id."""
        if text is None and contact is None:
            raise ValueError("inject_message needs text or contact")
        chat_dict = dict(chat) if chat is not None else user.private_chat()
        if "id" not in chat_dict or "type" not in chat_dict:
            raise ValueError("chat needs at least 'id' and 'type'")
        chat_id = int(chat_dict["id"])
        self._chats[chat_id] = chat_dict
        message: JSONDict = {
            "message_id": self._new_message_id(chat_id),
            "date": int(self._now()),
            "chat": chat_dict,
            "from": user.to_dict(),
        }
        if text is not None:
            message["text"] = text
            entities = _command_entities(text)
            if entities:
                message["entities"] = entities
        if contact is not None:
            # Sharing one's own contact (request_contact button) carries one's user_id.
            shared = {"first_name": user.first_name, "user_id": user.id, **contact}
            message["contact"] = {key: value for key, value in shared.items() if value is not None}
        self._user_messages[(chat_id, message["message_id"])] = message
        return self._push_update({"message": message})

    def inject_callback(
        self, user: TgUser, message_id: int, data: str, *, chat_id: int | None = None
    ) -> int:
        """Queue a button press on bot message ``message_id``; returns its update_id.

        An unknown message_id is still delivered, with a minimal message, because tests forge
        callback data on purpose.
        """
        chat_id = user.id if chat_id is None else chat_id
        stored = self._bot_messages.get(chat_id, {}).get(message_id)
        if stored is not None:
            message = stored.to_bot_api()
        else:
            if chat_id == user.id and chat_id not in self._chats:
                self._chats[chat_id] = user.private_chat()
            message = {
                "message_id": message_id,
                "date": int(self._now()),  # date 0 would make PTB see an InaccessibleMessage
                "chat": dict(self._chat(chat_id, create=True)),
                "from": self.bot_user,
            }
        query_id = f"{self.bot_id}{next(self._query_ids):08d}"
        update_id = self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_dict(),
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                    "message": message,
                }
            }
        )
        self._callbacks[query_id] = _CallbackRecord(update_id)
        return update_id

    def add_chat(self, user: TgUser) -> None:
        """Make the user's private chat known without sending anything (for strict_chats)."""
        self._chats[user.id] = user.private_chat()

    # ------------------------------------------------------------------ what the bot did

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Bot messages in the chat, oldest first, as they are now."""
        return [
            message
            for message in self._bot_messages.get(chat_id, {}).values()
            if include_deleted or not message.deleted
        ]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        try:
            return self._bot_messages[chat_id][message_id]
        except KeyError:
            raise KeyError(f"no bot message {message_id} in chat {chat_id}") from None

    def last_message(self, chat_id: int) -> SentMessage:
        messages = self.messages(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1]

    def calls_to(self, *methods: str) -> list[ApiCall]:
        wanted = {method.lower() for method in methods}
        return [call for call in self.calls if call.method.lower() in wanted]

    def callback_answer(self, update_id: int) -> JSONDict | None:
        """The answerCallbackQuery params for the callback injected as ``update_id``."""
        for record in self._callbacks.values():
            if record.update_id == update_id:
                return record.answer
        raise KeyError(f"update {update_id} is not an injected callback")

    def commands_for(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        return list(self._commands_by_scope.get(self._commands_key(scope, language_code), []))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet acknowledged by a getUpdates offset."""
        return list(self._updates)

    async def wait_until(
        self, predicate: Callable[[], bool], *, seconds: float = 3.0, what: str = "condition"
    ) -> None:
        """Sleep until ``predicate()`` holds, re-checking after every call and injection."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [(call.method, call.params) for call in self.calls[-5:]]
                raise TimeoutError(f"waited {seconds}s for {what}; last calls: {recent}")
            await self._wait_for_change(remaining)

    async def wait_for_call(self, method: str, count: int = 1, *, seconds: float = 3.0) -> ApiCall:
        """The ``count``-th finished call to ``method`` (waiting for it if needed)."""

        def finished() -> list[ApiCall]:
            return [call for call in self.calls_to(method) if call.done]

        await self.wait_until(
            lambda: len(finished()) >= count, seconds=seconds, what=f"{count}x {method}"
        )
        return finished()[count - 1]

    async def wait_for_message(
        self, chat_id: int, count: int = 1, *, seconds: float = 3.0
    ) -> SentMessage:
        """The ``count``-th bot message in the chat (deleted ones included)."""
        await self.wait_until(
            lambda: len(self.messages(chat_id, include_deleted=True)) >= count,
            seconds=seconds,
            what=f"{count} bot message(s) in chat {chat_id}",
        )
        return self.messages(chat_id, include_deleted=True)[count - 1]

    async def wait_for_webhook(self, count: int = 1, seconds: float = 10.0) -> list[int]:
        """The statuses of the first ``count`` webhook deliveries, waiting for them if needed."""
        await self.wait_until(
            lambda: len(self.webhook_statuses) >= count,
            seconds=seconds,
            what=f"{count} webhook deliveries (so far {self.webhook_statuses})",
        )
        return self.webhook_statuses[:count]

    async def post_webhook(self, body: JSONDict, secret: str | None) -> int:
        """POST ``body`` to the webhook with ``secret`` as its secret token (None: no header).

        For forged requests (a wrong secret, a strange body): the HTTP status is returned (0 when
        there was no answer) and is not a delivery: the queue and webhook_statuses stay as they are.
        """
        if self._webhook_target is None:
            raise RuntimeError("post_webhook needs a webhook: call setWebhook first")
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            return await _post_json(session, self._webhook_target, body, secret)

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str = "",
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls to ``method`` (to ``chat_id`` if given) with an error.

        A 429 always carries retry_after (default 1), since that is what makes PTB raise
        RetryAfter.
        """
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        else:
            description = description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._failures.append(
            _FailureRule(method.lower(), ApiError(status, description, retry_after), count, chat_id)
        )

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every call aimed at their chat answers 403 until unblock."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def rate_limit(
        self, per_second: float | None, *, methods: Iterable[str] = ("sendMessage",)
    ) -> None:
        """Above ``per_second`` accepted calls (sliding window), answer 429 retry_after=1.

        A sliding window rather than a token bucket: N quick calls give exactly
        floor(per_second) successes, which keeps tests deterministic.
        """
        self._rate = per_second
        self._rate_methods = frozenset(method.lower() for method in methods)
        self._rate_window.clear()

    # ------------------------------------------------------------------ internals: state

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

    def resend(self, update_id: int) -> None:
        """Serve an update again, as Telegram does when a crash kept it from being confirmed."""
        update = next(u for u in self.injected if u["update_id"] == update_id)
        self._updates.append(update)
        self._updates.sort(key=lambda u: u["update_id"])
        self._wake()

    def _push_update(self, payload: JSONDict) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **payload}
        self._updates.append(update)
        self.injected.append(update)
        self._wake()
        return update_id

    def _clear_webhook(self) -> None:
        self.webhook_url = self.webhook_secret = self.webhook_allowed_updates = None
        self._webhook_target = None

    def _start_webhook_delivery(self) -> None:
        task = self._webhook_task
        if task is not None and not task.done():
            return
        if task is not None:
            self._reap_webhook_task(task)
        self._webhook_task = asyncio.get_running_loop().create_task(
            self._deliver_webhooks(), name="FakeBotApi webhook delivery"
        )

    def _reap_webhook_task(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.internal_errors.append(f"webhook delivery: {task.exception()!r}")

    async def _deliver_webhooks(self) -> None:
        """POST pending updates to the webhook, oldest first, one at a time, until stop()."""
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                target = self._webhook_target
                pending = self._deliverable() if target is not None else []
                if target is None or not pending:
                    await self._wait_for_change(1.0)
                    continue
                update = pending[0]
                status = await _post_json(session, target, update, self.webhook_secret)
                self.webhook_statuses.append(status)
                delivered = 200 <= status <= 299  # Telegram takes any 2xx as delivered
                if delivered:
                    update_id = update["update_id"]
                    self._updates = [u for u in self._updates if u["update_id"] != update_id]
                self._wake()
                if not delivered:
                    await asyncio.sleep(WEBHOOK_RETRY_DELAY)

    def _new_message_id(self, chat_id: int) -> int:
        # One counter per chat, shared by the user's and the bot's messages, like Telegram.
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _chat(self, chat_id: int, *, create: bool = False) -> JSONDict:
        chat = self._chats.get(chat_id)
        if chat is not None:
            return chat
        if self.strict_chats and not create:
            raise _bad_request("chat not found")
        if chat_id > 0:
            chat = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        else:
            chat = {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
        self._chats[chat_id] = chat
        return chat

    def _target_chat(self, params: Mapping[str, Any]) -> JSONDict:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _bad_request("chat not found")  # "@channel" names: no channels here
        return self._chat(chat_id)

    def _bot_message(self, params: Mapping[str, Any], missing: str) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by FakeBotApi")
        chat = self._target_chat(params)
        message_id = _require_int(params, "message_id")
        message = self._bot_messages.get(chat["id"], {}).get(message_id)
        if message is None or message.deleted:
            raise _bad_request(missing)
        return message

    @staticmethod
    def _commands_key(scope: Mapping[str, Any] | None, language_code: str) -> tuple[str, str]:
        return json.dumps(dict(scope or {"type": "default"}), sort_keys=True), language_code

    def _check_text(self, text: Any, parse_mode: Any, *, caption: bool) -> None:
        if not isinstance(text, str):
            raise _bad_request("invalid text")
        if str(parse_mode or "").lower() == "html":
            _check_html(text)
        plain = _plain_text(text, parse_mode)
        if caption:
            if _utf16_len(plain) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        elif not plain.strip():
            raise _bad_request("message text is empty")
        elif _utf16_len(plain) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")

    def _markup(self, params: Mapping[str, Any], *, inline_only: bool) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse inline keyboard markup")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
        elif inline_only:
            raise _bad_request("inline keyboard expected")
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse reply keyboard markup")
            for row in rows:
                for button in row:
                    label = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(label, str) or not label:
                        raise _bad_request("BUTTON_TEXT_INVALID")
        elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return _normalise_markup(markup)

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad_request('can\'t parse inline keyboard button: Field "text" must be set')
        if not button["text"]:
            raise _bad_request("BUTTON_TEXT_INVALID")
        if not _INLINE_BUTTON_ACTIONS & button.keys():
            raise _bad_request(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")

    def _build_message(self, chat: JSONDict, kind: MessageKind, params: JSONDict) -> SentMessage:
        """Validate and build; the message_id is only taken by _commit, so a rejected send
        leaves no gap in the chat's numbering."""
        reply_to = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id", reply_to)
        return SentMessage(
            message_id=0,
            chat_id=chat["id"],
            chat=chat,
            sender=self.bot_user,
            date=int(self._now()),
            kind=kind,
            text=params.get("text") if kind == "text" else params.get("caption"),
            parse_mode=params.get("parse_mode"),
            entities=params.get("entities" if kind == "text" else "caption_entities"),
            reply_markup=self._markup(params, inline_only=False),
            reply_to_message_id=reply_to if isinstance(reply_to, int) else None,
        )

    def _commit(self, message: SentMessage) -> JSONDict:
        message.message_id = self._new_message_id(message.chat_id)
        self._bot_messages.setdefault(message.chat_id, {})[message.message_id] = message
        return message.to_bot_api()

    def _store_file(self, upload: Any, kind: MessageKind) -> _StoredFile:
        """An uploaded file, a known file_id, or a URL, as Telegram accepts for photo/document."""
        data: bytes | None = None
        filename: str | None = None
        mime: str | None = None
        if isinstance(upload, UploadedFile):
            limit = MAX_PHOTO_BYTES if kind == "photo" else MAX_DOCUMENT_BYTES
            if not upload.data:
                raise _bad_request("file must be non-empty")
            if len(upload.data) > limit:
                raise _bad_request("file is too big")
            data, filename, mime = upload.data, upload.filename, upload.mime_type
        elif isinstance(upload, str) and upload in self._files:
            return self._files[upload]
        elif isinstance(upload, str) and upload.startswith(("http://", "https://")):
            filename = upload.rsplit("/", 1)[-1] or None
        elif upload in (None, ""):
            raise _bad_request(f"there is no {kind} in the request")
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        number = next(self._file_ids)
        suffix = filename.rpartition(".")[2] if filename and "." in filename else "bin"
        stored = _StoredFile(
            file_id=f"fake-{kind}-{number}",
            file_unique_id=f"fakeuniq{number}",
            file_path=f"{kind}s/file_{number}.{suffix}",
            data=data,
            filename=filename,
            mime_type=mime,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _acknowledge(self, offset: Any) -> None:
        if isinstance(offset, bool) or not isinstance(offset, int) or offset == 0:
            return
        if offset < 0:
            # Telegram: a negative offset keeps only the last -offset updates.
            self._updates = self._updates[offset:]
        else:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]

    def _deliverable(self) -> list[JSONDict]:
        if not self._allowed_updates:
            return list(self._updates)
        allowed = set(self._allowed_updates)
        # An update has exactly one field besides update_id, naming its kind.
        return [update for update in self._updates if allowed & (update.keys() - {"update_id"})]

    def _injected_failure(self, method: str, params: Mapping[str, Any]) -> ApiError | None:
        chat_id = params.get("chat_id")
        if chat_id in self._blocked and method not in ("getupdates", "getme"):
            self.stats.injected_failures += 1
            return ApiError(403, BLOCKED)
        for rule in self._failures:
            if rule.method == method and rule.chat_id in (None, chat_id):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._failures.remove(rule)
                self.stats.injected_failures += 1
                return rule.error
        return None

    def _rate_limited(self, method: str) -> ApiError | None:
        if self._rate is None or method not in self._rate_methods:
            return None
        # A window of >= 1 s holding floor(rate * window) calls; rates below 1/s widen it.
        window = max(1.0, 1.0 / self._rate) if self._rate > 0 else float("inf")
        allowed = max(1, int(self._rate * window)) if self._rate > 0 else 0
        now = time.monotonic()
        while self._rate_window and now - self._rate_window[0] >= window:
            self._rate_window.popleft()
        if len(self._rate_window) >= allowed:
            self.stats.rate_limited += 1
            return ApiError(429, "Too Many Requests: retry after 1", 1)
        self._rate_window.append(now)
        return None

    # ------------------------------------------------------------------ internals: methods

    def _true(self, params: JSONDict) -> bool:
        return True

    def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: JSONDict) -> bool:
        self._clear_webhook()
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        # Telegram's order: a waiting long poll is ended and the old webhook dropped (and the queue
        # if asked) before the new one is checked, so a refused setWebhook leaves no webhook.
        url = str(params.get("url") or "")
        if url and self._current_poll is not None:
            self._current_poll = _ENDED_BY_SET_WEBHOOK
        self._delete_webhook(params)
        if not url:
            return True  # an empty url removes the webhook
        target = _webhook_target(url)
        secret = str(params.get("secret_token") or "")
        if len(secret) > MAX_SECRET_TOKEN_LENGTH:
            raise _bad_request("secret token is too long")
        if not _SECRET_TOKEN_RE.fullmatch(secret):
            raise _bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise _bad_request("can't parse allowed updates JSON object")
            # Shared with getUpdates: Telegram remembers the last list, [] meaning "all".
            self._allowed_updates = [str(kind) for kind in allowed]
        self.webhook_url, self._webhook_target = url, target
        self.webhook_secret = secret or None
        self.webhook_allowed_updates = None if allowed is None else list(self._allowed_updates)
        self._start_webhook_delivery()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._deliverable()),
        }

    async def _get_updates(self, params: JSONDict, request: web.Request) -> list[JSONDict]:
        if self.webhook_url is not None:
            raise _ApiFailure(409, WEBHOOK_ACTIVE)
        offset = params.get("offset")
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise _bad_request("invalid limit")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise _bad_request("invalid timeout")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):  # Telegram remembers the last list; [] means "all"
            self._allowed_updates = [str(kind) for kind in allowed]
        self._acknowledge(offset)

        # Telegram ends an older poll with 409 when a newer one arrives, which is how two bot
        # instances on one token show up; we mimic it, but end it quietly if its client left.
        me = object()
        self._current_poll = me
        self._wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, float(timeout))
        try:
            while not self._closing and self._current_poll is me and not self._deliverable():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await self._wait_for_change(remaining)
            if self._current_poll is not me and not self._closing:
                ended_by_set_webhook = self._current_poll is _ENDED_BY_SET_WEBHOOK
                # A client that cancelled its poll (PTB's Updater.stop) closes the socket just
                # before its next call; give that close a moment to arrive before crying 409.
                if not _client_gone(request):
                    await asyncio.sleep(0.05)
                if _client_gone(request):
                    return []
                if ended_by_set_webhook:
                    raise _ApiFailure(409, TERMINATED_BY_SET_WEBHOOK)
                self.stats.conflicts += 1
                raise _ApiFailure(409, CONFLICT)
        finally:
            if self._current_poll is me:
                self._current_poll = None
        if self._closing:
            return []
        return self._deliverable()[: max(1, min(100, limit))]

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._target_chat(params)
        self._check_text(params.get("text", ""), params.get("parse_mode"), caption=False)
        return self._commit(self._build_message(chat, "text", params))

    def _send_photo(self, params: JSONDict) -> JSONDict:
        return self._send_file(params, "photo")

    def _send_document(self, params: JSONDict) -> JSONDict:
        return self._send_file(params, "document")

    def _send_file(self, params: JSONDict, kind: MessageKind) -> JSONDict:
        chat = self._target_chat(params)
        if "caption" in params:
            self._check_text(params["caption"], params.get("parse_mode"), caption=True)
        message = self._build_message(chat, kind, params)
        stored = self._store_file(params.get(kind), kind)
        message.file = stored.data
        message.filename = stored.filename
        message.mime_type = stored.mime_type
        message.file_id = stored.file_id
        message.file_unique_id = stored.file_unique_id
        if kind == "photo":
            message.width, message.height = _image_size(stored.data or b"")
        return self._commit(message)

    def _apply_edit(
        self,
        message: SentMessage,
        params: JSONDict,
        text: str | None,
        entities: Any,
        markup: JSONDict | None,
    ) -> JSONDict:
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise _ApiFailure(400, NOT_MODIFIED)
        message.history.append((message.text, message.reply_markup))
        message.text, message.entities, message.reply_markup = text, entities, markup
        if "parse_mode" in params:
            message.parse_mode = params["parse_mode"]
        message.edit_count += 1
        message.edit_date = int(self._now())
        self._wake()
        return message.to_bot_api()

    def _edit_message_text(self, params: JSONDict) -> JSONDict:
        message = self._bot_message(params, "message to edit not found")
        if message.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        text = params.get("text", "")
        self._check_text(text, params.get("parse_mode"), caption=False)
        # Like Telegram, an edit without reply_markup drops the inline keyboard.
        markup = self._markup(params, inline_only=True)
        return self._apply_edit(message, params, text, params.get("entities"), markup)

    def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        message = self._bot_message(params, "message to edit not found")
        if message.kind == "text":
            raise _bad_request("there is no caption in the message to edit")
        caption = params.get("caption")
        if caption is not None:
            self._check_text(caption, params.get("parse_mode"), caption=True)
        markup = self._markup(params, inline_only=True)
        return self._apply_edit(message, params, caption, params.get("caption_entities"), markup)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        message = self._bot_message(params, "message to edit not found")
        markup = self._markup(params, inline_only=True)
        return self._apply_edit(message, params, message.text, message.entities, markup)

    def _delete_message(self, params: JSONDict) -> bool:
        chat = self._target_chat(params)
        message_id = _require_int(params, "message_id")
        message = self._bot_messages.get(chat["id"], {}).get(message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            return True
        # Bots may delete the user's messages in a private chat too.
        if self._user_messages.pop((chat["id"], message_id), None) is not None:
            return True
        raise _bad_request("message to delete not found")

    def _answer_callback_query(self, params: JSONDict) -> bool:
        record = self._callbacks.get(str(params.get("callback_query_id", "")))
        if record is None or record.answer is not None:
            raise _ApiFailure(400, QUERY_INVALID)  # unknown, or answered already
        text = params.get("text")
        if text is not None and _utf16_len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        record.answer = dict(params)
        return True

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad_request("too many commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("command description is empty or too long")
        scope = params.get("scope")
        language_code = str(params.get("language_code", ""))
        key = self._commands_key(scope, language_code)
        self._commands_by_scope[key] = [dict(command) for command in commands]
        self.commands = [dict(command) for command in commands]
        self.commands_scope = scope
        self.commands_language_code = params.get("language_code")
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands_for(params.get("scope"), str(params.get("language_code", "")))

    def _delete_my_commands(self, params: JSONDict) -> bool:
        scope = params.get("scope")
        language_code = str(params.get("language_code", ""))
        self._commands_by_scope.pop(self._commands_key(scope, language_code), None)
        same_scope = self._commands_key(scope, language_code) == self._commands_key(
            self.commands_scope, self.commands_language_code or ""
        )
        if same_scope:
            self.commands = []
        return True

    def _send_chat_action(self, params: JSONDict) -> bool:
        self._target_chat(params)
        if not params.get("action"):
            raise _bad_request("action is empty")
        return True

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data or b""),
            "file_path": stored.file_path,
        }

    # ------------------------------------------------------------------ internals: HTTP

    def _reply(self, call: ApiCall | None, error: ApiError | None, result: Any) -> web.Response:
        if call is not None:
            call.result, call.error, call.done = result, error, True
        status = 200 if error is None else error.status
        self.stats.by_status[status] += 1
        self._wake()
        if error is not None:
            return web.json_response(error.to_json(), status=error.status)
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> JSONDict:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise _bad_request("request body must be a JSON object")
                raw.update(body)
                params = {
                    key: _decode_param(key, value) if isinstance(value, str) else value
                    for key, value in raw.items()
                }
                return self._coerce_ints(params)
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    try:
                        files[key] = UploadedFile(
                            value.filename, value.content_type, value.file.read()
                        )
                    finally:
                        value.file.close()  # a SpooledTemporaryFile; don't leave it to the GC
                else:
                    raw[key] = value
        params = {key: _decode_param(key, str(value)) for key, value in raw.items()}
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = files.pop(value.removeprefix("attach://"), value)
        params.update(files)  # files sent directly under their parameter's name
        return self._coerce_ints(params)

    @staticmethod
    def _coerce_ints(params: JSONDict) -> JSONDict:
        for key in _INT_PARAMS & params.keys():
            value = params[key]
            if isinstance(value, str) and _INT_RE.fullmatch(value):
                params[key] = int(value)
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        if request.match_info["token"] != self.token:
            return self._reply(None, ApiError(401, "Unauthorized"), None)
        sent_name = request.match_info["method"]
        name, handler = self._methods.get(sent_name.lower(), (sent_name, None))
        try:
            params = await self._read_params(request)
        except _ApiFailure as failure:
            return self._reply(None, failure.error, None)
        except web.HTTPRequestEntityTooLarge:
            return self._reply(None, ApiError(413, "Request Entity Too Large"), None)
        except ValueError:  # a JSON body that isn't JSON
            return self._reply(None, ApiError(400, "Bad Request: can't parse JSON body"), None)
        # Recorded even when unknown (404), so a test can see what the bot tried to call.
        call = ApiCall(method=name, params=params, at=time.monotonic())
        self.calls.append(call)
        if handler is None:
            return self._reply(call, ApiError(404, "Not Found"), None)
        try:
            error = self._injected_failure(name.lower(), params) or self._rate_limited(name.lower())
            if error is not None:
                return self._reply(call, error, None)
            if name == "getUpdates":
                result = await self._get_updates(params, request)
            else:
                result = handler(params)
        except _ApiFailure as failure:
            return self._reply(call, failure.error, None)
        except Exception as exc:  # a bug in the fake must fail the test, not hang it
            self.internal_errors.append(f"{name}: {exc!r}")
            return self._reply(call, ApiError(500, f"Internal Server Error: {exc!r}"), None)
        return self._reply(call, None, result)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        stored = self._files_by_path.get(request.match_info["file_path"])
        if stored is None or stored.data is None:
            return web.json_response(ApiError(404, "Not Found").to_json(), status=404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    @staticmethod
    async def _test_body(request: web.Request) -> JSONDict:
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="body must be JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("user"), dict):
            raise web.HTTPBadRequest(text="body needs a 'user' object")
        return body

    async def _handle_test_message(self, request: web.Request) -> web.Response:
        body = await self._test_body(request)
        try:
            update_id = self.inject_message(
                TgUser.from_dict(body["user"]),
                body.get("text"),
                contact=body.get("contact"),
                chat=body.get("chat"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"ok": True, "result": {"update_id": update_id}})

    async def _handle_test_callback(self, request: web.Request) -> web.Response:
        body = await self._test_body(request)
        try:
            chat_id = body.get("chat_id")
            update_id = self.inject_callback(
                TgUser.from_dict(body["user"]),
                int(body["message_id"]),
                str(body["data"]),
                chat_id=None if chat_id is None else int(chat_id),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"ok": True, "result": {"update_id": update_id}})

    async def _handle_test_messages(self, request: web.Request) -> web.Response:
        try:
            chat_id = int(request.query["chat_id"])
        except (KeyError, ValueError):
            raise web.HTTPBadRequest(text="chat_id query parameter required") from None
        return web.json_response(
            {"ok": True, "result": [message.to_dict() for message in self.messages(chat_id)]}
        )
