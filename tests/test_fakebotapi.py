"""The fake Bot API server, exercised with the real PTB Bot and Application over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import socket
import struct
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakebotapi import FakeBotApi, TgUser

pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST-token_for-the-fake"
ALICE = TgUser(id=1001, first_name="Lan", last_name="Nguyễn", username="lan_ng")
BOB = TgUser(id=1002, first_name="Minh")
SECRET = "s3cret_Token-42"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on every RetryAfter unless it may use timedelta (the future behaviour).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


@pytest_asyncio.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.api_base_url, base_file_url=api.file_base_url) as tg_bot:
        yield tg_bot


@dataclass(frozen=True)
class Hit:
    """One POST the webhook receiver got."""

    secret: str | None  # the X-Telegram-Bot-Api-Secret-Token header
    content_type: str
    body: dict[str, Any]
    at: float  # time.monotonic() on arrival


class Receiver:
    """A bot's webhook endpoint in miniature, on 127.0.0.1.

    Records every POST, then waits for ``gate`` (cleared: the request is held), then answers 403
    if ``secret`` is set and the request's differs, else the next of ``statuses`` (200 when none
    are left). ``on_update`` gets each accepted body.
    """

    def __init__(self) -> None:
        self.url = ""
        self.hits: list[Hit] = []
        self.statuses: deque[int] = deque()
        self.secret: str | None = None
        self.on_update: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        self.gate = asyncio.Event()
        self.gate.set()
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            hit = Hit(
                request.headers.get(SECRET_HEADER),
                request.content_type,
                await request.json(),
                time.monotonic(),
            )
            self.hits.append(hit)
            await self.gate.wait()
            if self.secret is not None and hit.secret != self.secret:
                return web.Response(status=403)
            status = self.statuses.popleft() if self.statuses else 200
            if status == 200 and self.on_update is not None:
                await self.on_update(hit.body)
            return web.Response(status=status)
        finally:
            self.in_flight -= 1


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        yield hook
    finally:
        hook.gate.set()  # a held request finishes before the server goes
        await runner.cleanup()


async def eventually(predicate: Callable[[], bool], seconds: float = 3.0) -> None:
    """Poll ``predicate`` (for state outside the fake, which wait_until would not notice)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"waited {seconds}s for {predicate}"
        await asyncio.sleep(0.01)


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def tiny_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (width + 1) * height)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)


async def test_get_me_and_wrong_token(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (999000, "motcongmot_test_bot", True)
    assert bot.username == "motcongmot_test_bot"

    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG", base_url=api.api_base_url):
            pass

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api.api_base_url}WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{api.api_base_url}{TOKEN}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }


async def test_send_message_with_inline_keyboard(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE.id, "Chọn một:", reply_markup=keyboard([("Có", "yes"), ("Không", "no")])
    )
    assert sent.message_id == 1
    assert sent.chat.id == ALICE.id
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "no"

    stored = api.message(ALICE.id, sent.message_id)
    assert (stored.kind, stored.text) == ("text", "Chọn một:")
    assert stored.buttons() == [[("Có", "yes"), ("Không", "no")]]
    assert stored.button_data("Không") == "no"

    # The wire format: numbers as strings, markups as JSON text, both decoded here.
    (call,) = api.calls_to("sendMessage")
    assert call.params["chat_id"] == ALICE.id
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Có"

    # A text that merely looks like JSON or a number stays text.
    for text in ("[1, 2]", "12345", "true"):
        await bot.send_message(ALICE.id, text)
        assert api.last_message(ALICE.id).text == text


async def test_reply_keyboard_and_removal(api: FakeBotApi, bot: Bot) -> None:
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("Gửi số điện thoại", request_contact=True)]], resize_keyboard=True
    )
    sent = await bot.send_message(ALICE.id, "Số của bạn?", reply_markup=markup)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    assert api.last_message(ALICE.id).reply_keyboard() == [
        [{"text": "Gửi số điện thoại", "request_contact": True}]
    ]
    await bot.send_message(ALICE.id, "Cảm ơn", reply_markup=ReplyKeyboardRemove())
    assert api.last_message(ALICE.id).removes_keyboard


async def test_edit_message_text_and_not_modified(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(ALICE.id, "Bước 1", reply_markup=keyboard([("Tiếp", "next")]))
    edited = await bot.edit_message_text(
        "Bước 2",
        chat_id=ALICE.id,
        message_id=sent.message_id,
        reply_markup=keyboard([("OK", "ok")]),
    )
    assert not isinstance(edited, bool) and edited.text == "Bước 2"
    stored = api.message(ALICE.id, sent.message_id)
    assert (stored.text, stored.edited, stored.edit_count) == ("Bước 2", True, 1)
    assert stored.buttons() == [[("OK", "ok")]]

    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text(
            "Bước 2",
            chat_id=ALICE.id,
            message_id=sent.message_id,
            reply_markup=keyboard([("OK", "ok")]),
        )
    # Like Telegram, editing the text without reply_markup drops the keyboard.
    await bot.edit_message_text("Bước 2", chat_id=ALICE.id, message_id=sent.message_id)
    assert stored.buttons() == [] and stored.edit_count == 2

    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE.id, message_id=999)

    await bot.edit_message_reply_markup(
        chat_id=ALICE.id, message_id=sent.message_id, reply_markup=keyboard([("A", "a")])
    )
    assert stored.buttons() == [[("A", "a")]]
    assert await bot.delete_message(ALICE.id, sent.message_id)
    assert api.messages(ALICE.id) == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(ALICE.id, sent.message_id)


async def test_telegram_limits_are_enforced(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(ALICE.id, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ALICE.id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE.id, "hi", reply_markup=keyboard([("A", "d" * 65)]))
    # 22 Vietnamese letters of 3 bytes each are 66 bytes, over the limit though 22 characters.
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE.id, "hi", reply_markup=keyboard([("A", "ệ" * 22)]))
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ALICE.id, "1 < 2 <b>đậm", parse_mode=ParseMode.HTML)
    # HTML tags don't count towards the 4096 characters.
    await bot.send_message(ALICE.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert api.last_message(ALICE.id).plain_text == "x" * 4096
    # Rejected sends take no message_id: ids stay consecutive.
    assert [m.message_id for m in api.messages(ALICE.id)] == [1, 2]


async def test_long_poll_woken_by_inject_message(api: FakeBotApi, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until(lambda: len(api.calls_to("getUpdates")) == 1)  # the poll is waiting
    update_id = api.inject_message(ALICE, "/start u_abc")
    (update,) = await poll
    assert time.monotonic() - started < 1.0
    assert update.update_id == update_id
    message = update.message
    assert message is not None and message.text == "/start u_abc"
    assert message.chat.type == "private" and message.chat.id == ALICE.id
    assert message.from_user is not None and message.from_user.username == "lan_ng"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]

    # An empty long poll just times out with no updates.
    started = time.monotonic()
    assert await bot.get_updates(offset=update_id + 1, timeout=dtm.timedelta(seconds=0.2)) == ()
    assert 0.15 < time.monotonic() - started < 1.0


async def test_offset_acknowledges_updates(api: FakeBotApi, bot: Bot) -> None:
    ids = [api.inject_message(ALICE, f"tin {n}") for n in range(3)]
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates()] == ids  # not acknowledged yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[1:2]
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert api.pending_updates == []
    # Message ids count per chat, shared between the user and the bot.
    sent = await bot.send_message(ALICE.id, "trả lời")
    assert sent.message_id == 4


async def test_contact_message(api: FakeBotApi, bot: Bot) -> None:
    api.inject_message(ALICE, contact={"phone_number": "+84901234567"})
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.contact is not None
    contact = update.message.contact
    assert (contact.phone_number, contact.user_id, contact.first_name) == (
        "+84901234567",
        ALICE.id,
        "Lan",
    )


async def test_callback_carries_the_message(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(ALICE.id, "Tham gia?", reply_markup=keyboard([("Có", "join")]))
    update_id = api.inject_callback(ALICE, sent.message_id, "join")
    forged_id = api.inject_callback(ALICE, 77, "forged:data")
    update, forged = await bot.get_updates()

    query = update.callback_query
    assert update.update_id == update_id and query is not None
    assert query.data == "join" and query.from_user.id == ALICE.id
    assert isinstance(query.message, Message)  # not an InaccessibleMessage: date is set
    assert query.message.message_id == sent.message_id
    assert query.message.text == "Tham gia?"
    assert query.message.reply_markup is not None
    assert query.message.reply_markup.inline_keyboard[0][0].callback_data == "join"

    assert forged.update_id == forged_id and forged.callback_query is not None
    assert forged.callback_query.message is not None
    assert forged.callback_query.message.message_id == 77

    assert api.callback_answer(update_id) is None
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await query.answer("x" * 201)
    assert await query.answer("Đã ghi nhận")
    assert api.callback_answer(update_id) == {
        "callback_query_id": query.id,
        "text": "Đã ghi nhận",
    }
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await query.answer("again")


async def test_retry_after_and_forbidden(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ALICE.id, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert api.calls[-1].error is not None and api.calls[-1].error.retry_after == 7
    await bot.send_message(ALICE.id, "hi")  # count=1: the next call goes through

    api.fail_next("sendMessage", status=403, chat_id=BOB.id)
    await bot.send_message(ALICE.id, "other chats are unaffected")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(BOB.id, "hi")
    await bot.send_message(BOB.id, "hi")

    api.block(BOB.id)
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(BOB.id, "hi")
    api.unblock(BOB.id)
    await bot.send_message(BOB.id, "hi")
    assert api.stats.injected_failures == 4


async def test_rate_limiter_counts_429s(api: FakeBotApi, bot: Bot) -> None:
    api.rate_limit(3)
    outcomes = []
    for n in range(8):
        try:
            await bot.send_message(ALICE.id, f"tin {n}")
            outcomes.append("ok")
        except RetryAfter:
            outcomes.append("429")
    assert outcomes == ["ok"] * 3 + ["429"] * 5
    assert api.stats.rate_limited == 5 and api.stats.by_status[429] == 5
    await bot.send_chat_action(ALICE.id, "typing")  # other methods are not limited
    api.rate_limit(None)
    await bot.send_message(ALICE.id, "free again")


async def test_send_document_and_photo(api: FakeBotApi, bot: Bot) -> None:
    content = "họ tên,điểm\nLan,10\n".encode()
    sent = await bot.send_document(
        ALICE.id, document=content, filename="diem.csv", caption="Bảng điểm"
    )
    assert sent.document is not None and sent.document.file_name == "diem.csv"
    assert sent.caption == "Bảng điểm"
    stored = api.last_message(ALICE.id)
    assert (stored.kind, stored.file, stored.filename) == ("document", content, "diem.csv")
    assert stored.mime_type == "text/csv"

    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content

    photo = await bot.send_photo(BOB.id, photo=tiny_png(40, 30), caption="Ảnh")
    assert [(p.width, p.height) for p in photo.photo] == [(40, 30)]
    assert api.last_message(BOB.id).kind == "photo"
    # Sending again by file_id reuses the stored bytes.
    again = await bot.send_photo(BOB.id, photo=photo.photo[0].file_id)
    assert api.message(BOB.id, again.message_id).file == tiny_png(40, 30)


async def test_commands(api: FakeBotApi, bot: Bot) -> None:
    commands = [BotCommand("start", "Bắt đầu"), BotCommand("help", "Trợ giúp")]
    scope = BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands(commands, scope=scope, language_code="vi")
    assert api.commands == [
        {"command": "start", "description": "Bắt đầu"},
        {"command": "help", "description": "Trợ giúp"},
    ]
    assert api.commands_scope == {"type": "all_private_chats"}
    assert api.commands_language_code == "vi"
    assert await bot.get_my_commands(scope=scope, language_code="vi") == tuple(commands)
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start!", "x")])
    assert await bot.delete_my_commands(scope=scope, language_code="vi")
    assert api.commands == []


async def test_second_poller_gets_conflict(api: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until(lambda: len(api.calls_to("getUpdates")) == 1)
    async with Bot(TOKEN, base_url=api.api_base_url) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict):
        await first
    assert api.stats.conflicts == 1


async def test_real_application_end_to_end(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"Xin chào! args={context.args}", reply_markup=keyboard([("Đồng ý", "agree")])
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Bạn chọn: {query.data}")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(api.api_base_url)
        .base_file_url(api.file_base_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_button))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=2)
        await app.start()
        api.inject_message(ALICE, "/start u_abc")
        reply = await api.wait_for_message(ALICE.id)
        assert reply.text == "Xin chào! args=['u_abc']"
        update_id = api.inject_callback(ALICE, reply.message_id, reply.button_data("Đồng ý"))
        await api.wait_until(lambda: api.message(ALICE.id, reply.message_id).edited)
        assert api.message(ALICE.id, reply.message_id).text == "Bạn chọn: agree"
        assert api.message(ALICE.id, reply.message_id).buttons() == []
        assert api.callback_answer(update_id) is not None
        await app.updater.stop()
        await app.stop()
    assert api.pending_updates == []  # the updater acknowledged everything on stop
    assert api.stats.conflicts == 0


async def test_test_control_routes(api: FakeBotApi, bot: Bot) -> None:
    async with aiohttp.ClientSession(base_url=api.base_url) as http:
        user = {"id": BOB.id, "first_name": "Minh"}
        async with http.post("/_test/message", json={"user": user, "text": "/help"}) as response:
            body = await response.json()
        (update,) = await bot.get_updates()
        assert update.update_id == body["result"]["update_id"]
        assert update.message is not None and update.message.text == "/help"

        sent = await bot.send_message(BOB.id, "Trợ giúp", reply_markup=keyboard([("A", "a")]))
        async with http.get("/_test/messages", params={"chat_id": str(BOB.id)}) as response:
            (message,) = (await response.json())["result"]
        assert message["message_id"] == sent.message_id and message["buttons"] == [[["A", "a"]]]

        payload = {"user": user, "message_id": sent.message_id, "data": "a"}
        async with http.post("/_test/callback", json=payload) as response:
            assert response.status == 200
        (update,) = await bot.get_updates(offset=update.update_id + 1)
        assert update.callback_query is not None and update.callback_query.data == "a"


async def test_stop_ends_long_polls_and_leaves_nothing_behind() -> None:
    before = asyncio.all_tasks()
    api = FakeBotApi(TOKEN)
    await api.start()
    port = api.port
    async with Bot(TOKEN, base_url=api.api_base_url) as tg_bot:
        poll = asyncio.create_task(tg_bot.get_updates(timeout=30))
        await api.wait_until(lambda: len(api.calls_to("getUpdates")) == 1)
        started = time.monotonic()
        await api.stop()
        assert await poll == ()
        assert time.monotonic() - started < 1.0
    await api.stop()  # idempotent
    assert asyncio.all_tasks() == before
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


async def test_webhook_delivers_queued_then_new_updates_in_order_one_at_a_time(
    api: FakeBotApi, bot: Bot, receiver: Receiver
) -> None:
    sent = await bot.send_message(ALICE.id, "Tham gia?", reply_markup=keyboard([("Có", "join")]))
    queued = api.inject_message(ALICE, "trước webhook")
    receiver.gate.clear()
    assert await bot.set_webhook(receiver.url, secret_token=SECRET) is True
    assert (api.webhook_url, api.webhook_secret, api.webhook_allowed_updates) == (
        receiver.url,
        SECRET,
        None,
    )
    later = [api.inject_callback(ALICE, sent.message_id, "join"), api.inject_message(BOB, "/start")]
    await eventually(lambda: len(receiver.hits) == 1)
    await asyncio.sleep(0.3)  # the first is held: nothing else is posted meanwhile
    assert len(receiver.hits) == 1 and api.webhook_statuses == []
    receiver.gate.set()

    assert await api.wait_for_webhook(3) == [200, 200, 200]
    assert [hit.body["update_id"] for hit in receiver.hits] == [queued, *later]
    assert receiver.max_in_flight == 1
    assert {(hit.secret, hit.content_type) for hit in receiver.hits} == {
        (SECRET, "application/json")
    }
    assert api.pending_updates == []
    # The bodies are the updates getUpdates would have served, and PTB reads them.
    first, press, start = (Update.de_json(hit.body, bot) for hit in receiver.hits)
    assert first.message is not None and first.message.text == "trước webhook"
    assert press.callback_query is not None and press.callback_query.data == "join"
    assert isinstance(press.callback_query.message, Message)
    assert press.callback_query.message.message_id == sent.message_id
    assert start.message is not None and start.message.from_user is not None
    assert start.message.from_user.id == BOB.id

    api.resend(queued)  # served again, through the webhook
    assert await api.wait_for_webhook(4) == [200] * 4
    assert receiver.hits[3].body == receiver.hits[0].body


async def test_webhook_without_secret_info_and_allowed_updates(
    api: FakeBotApi, bot: Bot, receiver: Receiver
) -> None:
    sent = await bot.send_message(ALICE.id, "Chọn", reply_markup=keyboard([("A", "a")]))
    api.inject_message(ALICE, "không đăng ký loại này")
    press = api.inject_callback(ALICE, sent.message_id, "a")
    async with aiohttp.ClientSession() as http:

        async def webhook_info() -> dict[str, Any]:
            async with http.post(f"{api.api_base_url}{TOKEN}/getWebhookInfo") as response:
                assert response.status == 200
                return dict((await response.json())["result"])

        assert await webhook_info() == {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": 2,
        }
        assert await bot.set_webhook(receiver.url, allowed_updates=["callback_query"])
        assert (api.webhook_url, api.webhook_secret) == (receiver.url, None)
        assert api.webhook_allowed_updates == ["callback_query"]
        assert await api.wait_for_webhook(1) == [200]
        await asyncio.sleep(0.3)  # the message is not of an allowed kind: never posted
        assert [(hit.secret, hit.body["update_id"]) for hit in receiver.hits] == [(None, press)]
        assert await webhook_info() == {
            "url": receiver.url,
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
    info = await bot.get_webhook_info()
    assert (info.url, info.has_custom_certificate, info.pending_update_count) == (
        receiver.url,
        False,
        0,
    )


async def test_webhook_retries_until_answered_with_200(
    api: FakeBotApi, bot: Bot, receiver: Receiver
) -> None:
    first = api.inject_message(ALICE, "một")
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        started = time.monotonic()
        assert await bot.set_webhook(f"http://127.0.0.1:{dead.getsockname()[1]}/hook")
        assert await api.wait_for_webhook(2) == [0, 0]
        assert time.monotonic() - started >= 0.15  # a pause between attempts, no busy loop
    assert [update["update_id"] for update in api.pending_updates] == [first]
    assert (await bot.get_webhook_info()).pending_update_count == 1

    receiver.statuses.extend([500, 503])
    assert await bot.set_webhook(receiver.url)
    second = api.inject_message(ALICE, "hai")
    await api.wait_until(lambda: api.webhook_statuses[-4:] == [500, 503, 200, 200])
    # The first update until it got its 200, only then the second.
    assert [hit.body["update_id"] for hit in receiver.hits] == [first, first, first, second]
    assert receiver.hits[1].at - receiver.hits[0].at >= 0.15
    assert receiver.hits[2].at - receiver.hits[1].at >= 0.15
    assert api.pending_updates == []


async def test_get_updates_refused_while_webhook_set(
    api: FakeBotApi, bot: Bot, receiver: Receiver
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until(lambda: len(api.calls_to("getUpdates")) == 1)  # the poll is waiting
    assert await bot.set_webhook(receiver.url)
    with pytest.raises(Conflict, match="terminated by setWebhook request"):
        await poll
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    update_id = api.inject_message(ALICE, "tin")
    with pytest.raises(Conflict, match="use deleteWebhook to delete the webhook first"):
        await bot.get_updates(timeout=1)
    assert await api.wait_for_webhook(1) == [200]
    assert receiver.hits[0].body["update_id"] == update_id
    assert [call.error.status for call in api.calls_to("getUpdates") if call.error] == [409] * 3
    assert api.stats.conflicts == 0  # those count getUpdates racing getUpdates


async def test_delete_webhook_returns_to_polling(
    api: FakeBotApi, bot: Bot, receiver: Receiver
) -> None:
    receiver.statuses.append(500)
    receiver.gate.clear()
    assert await bot.set_webhook(receiver.url, secret_token=SECRET)
    first = api.inject_message(ALICE, "một")
    await eventually(lambda: len(receiver.hits) == 1)  # a delivery in flight
    assert await bot.delete_webhook()
    assert (api.webhook_url, api.webhook_secret, api.webhook_allowed_updates) == (None,) * 3
    receiver.gate.set()
    assert await api.wait_for_webhook(1) == [500]
    second = api.inject_message(ALICE, "hai")
    await asyncio.sleep(0.5)  # well past the retry delay: nothing more is posted
    assert len(receiver.hits) == 1 and api.webhook_statuses == [500]
    assert [update.update_id for update in await bot.get_updates()] == [first, second]
    assert (await bot.get_webhook_info()).url == ""

    # drop_pending_updates empties the queue, in setWebhook as in deleteWebhook.
    assert await bot.set_webhook(receiver.url, drop_pending_updates=True)
    assert api.pending_updates == []
    third = api.inject_message(ALICE, "ba")
    assert await api.wait_for_webhook(2) == [500, 200]
    assert receiver.hits[1].body["update_id"] == third
    api.inject_message(ALICE, "bốn")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert api.pending_updates == []
    assert await bot.get_updates(timeout=0) == ()


async def test_set_webhook_refusals(api: FakeBotApi, bot: Bot, receiver: Receiver) -> None:
    for secret in ("bad token", "a+b/c=", "bí_mật", "a.b"):
        with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
            await bot.set_webhook(receiver.url, secret_token=secret)
    with pytest.raises(BadRequest, match=r"(?i)secret token is too long"):
        await bot.set_webhook(receiver.url, secret_token="a" * 257)
    assert api.webhook_url is None

    for url, refusal in (
        ("http://example.com/hook", "HTTPS URL must be provided for webhook"),
        ("https://example.com:8080/hook", "only on ports 80, 88, 443 or 8443"),
        ("ftp://127.0.0.1/hook", "invalid webhook URL specified"),
        ("https://", "invalid webhook URL specified"),
    ):
        with pytest.raises(BadRequest, match=f"(?i){refusal}"):
            await bot.set_webhook(url)
    assert api.webhook_url is None

    longest = "Az09_-" * 42 + "abcd"
    assert await bot.set_webhook(receiver.url, secret_token=longest)
    assert api.webhook_secret == longest
    # As in Telegram, the old webhook is dropped before the new one is checked.
    with pytest.raises(BadRequest, match=r"(?i)unallowed characters"):
        await bot.set_webhook(receiver.url, secret_token="bad token")
    assert (api.webhook_url, api.webhook_secret) == (None, None)
    assert await bot.get_updates() == ()  # polling works again
    # Plain http is accepted for the local hosts, on any port.
    local = receiver.url.replace("127.0.0.1", "localhost")
    assert await bot.set_webhook(local)
    api.inject_message(ALICE, "qua localhost")
    assert await api.wait_for_webhook(1) == [200]
    # An empty url removes the webhook.
    assert await bot.set_webhook("")
    assert api.webhook_url is None and (await bot.get_webhook_info()).url == ""


async def test_post_webhook_sends_any_body_with_any_secret(
    api: FakeBotApi, bot: Bot, receiver: Receiver
) -> None:
    body: dict[str, Any] = {"update_id": 424242, "message": {"text": "giả mạo"}}
    with pytest.raises(RuntimeError, match="setWebhook"):
        await api.post_webhook(body, SECRET)
    receiver.secret = SECRET
    assert await bot.set_webhook(receiver.url, secret_token=SECRET)
    assert await api.post_webhook(body, "wrong-secret") == 403
    assert await api.post_webhook(body, None) == 403
    assert await api.post_webhook(body, SECRET) == 200
    receiver.statuses.append(500)
    assert await api.post_webhook(body, SECRET) == 500
    assert [(hit.secret, hit.body) for hit in receiver.hits] == [
        ("wrong-secret", body),
        (None, body),
        (SECRET, body),
        (SECRET, body),
    ]
    assert api.webhook_statuses == []  # not deliveries
    update_id = api.inject_message(ALICE, "thật")
    assert await api.wait_for_webhook(1) == [200]
    assert (receiver.hits[-1].secret, receiver.hits[-1].body["update_id"]) == (SECRET, update_id)


async def test_real_application_fed_by_webhook(api: FakeBotApi, receiver: Receiver) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Xin chào! args={context.args}")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(api.api_base_url)
        .base_file_url(api.file_base_url)
        .updater(None)
        .build()
    )
    app.add_handler(CommandHandler("start", start))

    async def enqueue(body: dict[str, Any]) -> None:
        await app.update_queue.put(Update.de_json(body, app.bot))

    receiver.on_update = enqueue
    receiver.secret = SECRET
    async with app:
        await app.start()
        try:
            assert await app.bot.set_webhook(receiver.url, secret_token=SECRET)
            api.inject_message(ALICE, "/start u_abc")
            reply = await api.wait_for_message(ALICE.id)
            assert reply.text == "Xin chào! args=['u_abc']"
            assert await api.wait_for_webhook(1) == [200]
            assert api.pending_updates == []
        finally:
            await app.stop()


async def test_stop_ends_webhook_delivery_and_leaves_nothing_behind(receiver: Receiver) -> None:
    before = asyncio.all_tasks()
    api = FakeBotApi(TOKEN)
    await api.start()
    async with Bot(TOKEN, base_url=api.api_base_url) as tg_bot:
        receiver.gate.clear()
        assert await tg_bot.set_webhook(receiver.url)
        api.inject_message(ALICE, "tin")
        await eventually(lambda: len(receiver.hits) == 1)  # a delivery in flight
    started = time.monotonic()
    await api.stop()
    assert time.monotonic() - started < 1.0
    await api.stop()  # idempotent
    assert api.webhook_statuses == []  # cancelled, not answered
    receiver.gate.set()
    await eventually(lambda: asyncio.all_tasks() == before)
    assert api.internal_errors == []
