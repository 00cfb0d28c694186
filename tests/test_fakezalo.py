"""The fake Zalo Bot API, driven over real HTTP with httpx the way a Zalo client would."""

from __future__ import annotations

import asyncio
import re
import socket
import time
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.fakezalo import (
    CANNOT_FETCH_PHOTO,
    IMAGE_EVENT,
    SECRET_HEADER,
    TEXT_EVENT,
    UNSUPPORTED_EVENT,
    UNSUPPORTED_PARAMETER,
    FakeZaloApi,
    ZaloSent,
)

TOKEN = "1459232241454765289:fake-secret-for-the-tests"
USER = "6ede9afa66b88fe6d6a9"
OTHER = "7fffaaaa11112222cccc"
SECRET = "mykey-abcxyz"
HEX20 = re.compile(r"[0-9a-f]{20}")
BAD_REQUEST = {"ok": False, "error_code": 400, "description": "Bad request"}
TIMEOUT_408 = {"ok": False, "error_code": 408, "description": "Request timeout"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloApi]:
    fake = FakeZaloApi(TOKEN)
    fake.poll_cap = 0.3
    async with fake:
        yield fake
    assert fake.internal_errors == []


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


async def call(
    client: httpx.AsyncClient,
    zalo: FakeZaloApi,
    method: str,
    body: dict[str, Any] | None = None,
    *,
    token: str = TOKEN,
) -> httpx.Response:
    url = f"{zalo.api_base_url}{token}/{method}"
    if body is None:
        return await client.post(url)  # no body at all
    return await client.post(url, json=body)


@dataclass
class Site:
    """A tiny aiohttp server of the test's own: a webhook receiver or a photo host."""

    base_url: str
    seen: list[tuple[str, str | None, Any]] = field(default_factory=list)  # path, secret, body


@asynccontextmanager
async def serve(
    routes: dict[str, bytes] | None = None, secret: str | None = None
) -> AsyncIterator[Site]:
    """POST /zalo/webhook records (secret header, JSON) and answers 403 on a wrong secret;
    GET <path> answers routes[path] as bytes, 404 for any other path."""
    site_seen: list[tuple[str, str | None, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        got = request.headers.get(SECRET_HEADER)
        site_seen.append((request.path, got, await request.json()))
        return web.Response(status=200 if got == secret else 403)

    async def files(request: web.Request) -> web.Response:
        site_seen.append((request.path, None, None))
        data = (routes or {}).get(request.path)
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/png")

    app = web.Application()
    app.router.add_post("/zalo/webhook", webhook)
    app.router.add_get("/{path:.*}", files)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        site = Site(f"http://127.0.0.1:{runner.addresses[0][1]}", site_seen)
        yield site
    finally:
        await runner.cleanup()


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------- basics


async def test_wrong_token_is_401_and_not_recorded(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    for method in ("getMe", "sendMessage", "noSuchMethod"):
        response = await call(client, zalo, method, {}, token="1459232241454765289:wrong")
        assert response.status_code == 401
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert zalo.calls == []
    assert TOKEN not in repr(zalo)


async def test_get_me_with_and_without_a_body(zalo: FakeZaloApi, client: httpx.AsyncClient) -> None:
    expected = {
        "id": "1459232241454765289",
        "account_name": "bot.FakeZalo",
        "account_type": "BASIC",
        "can_join_groups": False,
    }
    for body in (None, {}):
        response = await call(client, zalo, "getMe", body)
        assert response.status_code == 200
        assert response.json() == {"ok": True, "result": expected}
    assert [(c.method, c.json, c.status) for c in zalo.calls] == [("getMe", {}, 200)] * 2
    assert zalo.api_base_url == f"http://127.0.0.1:{zalo.port}/bot"


async def test_unknown_method_bad_json_and_get(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    response = await call(client, zalo, "editMessageText", {"chat_id": USER})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert [(c.method, c.status) for c in zalo.calls_to("editMessageText")] == [
        ("editMessageText", 404)
    ]

    url = f"{zalo.api_base_url}{TOKEN}/getMe"
    response = await client.post(url, content=b"chat_id=1", headers={"Content-Type": "x"})
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert response.json()["error_code"] == 400

    response = await client.get(url)
    assert response.status_code == 405
    assert response.json()["error_code"] == 405


# ---------------------------------------------------------------------- getUpdates


async def test_get_updates_serves_one_object_then_408(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    before = int(time.time() * 1000)
    message_id = zalo.inject_text(USER, "Xin chào")
    assert HEX20.fullmatch(message_id)

    response = await call(client, zalo, "getUpdates", {"timeout": "30"})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    update = body["result"]
    assert isinstance(update, dict)  # one object, not a list
    assert update == {
        "event_name": TEXT_EVENT,
        "message": {
            "message_id": message_id,
            "date": update["message"]["date"],
            "from": {"id": USER, "display_name": "Ted", "is_bot": False},
            "chat": {"id": USER, "chat_type": "PRIVATE"},
            "text": "Xin chào",
        },
    }
    date = update["message"]["date"]
    assert isinstance(date, int)
    assert before <= date <= int(time.time() * 1000)  # milliseconds, not seconds

    started = time.monotonic()
    response = await call(client, zalo, "getUpdates", {"timeout": 30})
    elapsed = time.monotonic() - started
    assert response.status_code == 408
    assert response.json() == TIMEOUT_408
    assert 0.25 <= elapsed < 2.0  # waited for poll_cap (0.3 s), not for 30 s
    assert zalo.polls == 2
    assert [c.status for c in zalo.calls_to("getUpdates")] == [200, 408]


async def test_get_updates_oldest_first_and_bad_timeout(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    first = zalo.inject_text(USER, "một")
    second = zalo.inject_text(OTHER, "hai", display_name="Minh")
    assert first != second
    got = [(await call(client, zalo, "getUpdates", {"timeout": "1"})).json() for _ in range(2)]
    assert [g["result"]["message"]["message_id"] for g in got] == [first, second]
    assert got[1]["result"]["message"]["from"]["display_name"] == "Minh"
    assert got[1]["result"]["message"]["chat"]["id"] == OTHER

    response = await call(client, zalo, "getUpdates", {"timeout": "soon"})
    assert response.status_code == 400
    assert zalo.polls == 3


async def test_long_poll_answers_as_soon_as_an_update_arrives(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    zalo.poll_cap = 5.0
    started = time.monotonic()
    poll = asyncio.create_task(call(client, zalo, "getUpdates", {"timeout": "30"}))
    await asyncio.sleep(0.2)
    assert zalo.polls == 1
    assert not poll.done()  # really waiting
    message_id = zalo.inject_text(USER, "1")
    response = await poll
    assert time.monotonic() - started < 2.0
    assert response.status_code == 200
    assert response.json()["result"]["message"]["message_id"] == message_id


async def test_redeliver_serves_the_same_update_again(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    message_id = zalo.inject_text(USER, "2")
    first = (await call(client, zalo, "getUpdates", {"timeout": "1"})).json()["result"]
    assert zalo.pending == 0
    zalo.redeliver(message_id)
    again = (await call(client, zalo, "getUpdates", {"timeout": "1"})).json()["result"]
    assert again == first
    assert again["message"]["message_id"] == message_id
    with pytest.raises(KeyError):
        zalo.redeliver("00000000000000000000")


async def test_other_events_have_the_fixture_shapes(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    image = zalo.inject_event(
        IMAGE_EVENT, USER, photo_url="https://example.invalid/photo.jpg", caption="ảnh thẻ"
    )
    hidden = zalo.inject_event(UNSUPPORTED_EVENT, OTHER, display_name="Minh")
    got = [(await call(client, zalo, "getUpdates", {"timeout": "1"})).json() for _ in range(2)]
    photo, unsupported = (g["result"] for g in got)
    assert photo["event_name"] == IMAGE_EVENT
    assert photo["message"]["message_id"] == image
    assert photo["message"]["photo_url"] == "https://example.invalid/photo.jpg"
    assert photo["message"]["caption"] == "ảnh thẻ"
    assert "text" not in photo["message"]
    assert unsupported["event_name"] == UNSUPPORTED_EVENT
    assert set(unsupported["message"]) == {"message_id", "date", "from", "chat"}
    assert unsupported["message"]["message_id"] == hidden
    assert unsupported["message"]["from"] == {"id": OTHER, "display_name": "Minh", "is_bot": False}


# ---------------------------------------------------------------------- sending


async def test_send_message_records_and_answers_ids(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    text = "Chào bạn! Chọn một mục:\n1. Đăng ký sự kiện\n2. Tra cứu đoàn phí"
    response = await call(client, zalo, "sendMessage", {"chat_id": USER, "text": text})
    assert response.status_code == 200
    result = response.json()["result"]
    assert set(result) == {"message_id", "date"}
    assert HEX20.fullmatch(result["message_id"])
    assert isinstance(result["date"], int)
    assert result["date"] > 10**12  # milliseconds
    assert zalo.messages(USER) == [
        ZaloSent("text", USER, text, result["message_id"], result["date"])
    ]
    assert zalo.texts(USER) == [text]
    assert zalo.texts(OTHER) == []


async def test_send_message_length_counts_after_nfc(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    decomposed = unicodedata.normalize("NFD", "ệ")
    assert len(decomposed) == 3
    ok_text = decomposed * 2000  # 6000 code points, 2000 characters after NFC
    response = await call(client, zalo, "sendMessage", {"chat_id": USER, "text": ok_text})
    assert response.status_code == 200
    response = await call(client, zalo, "sendMessage", {"chat_id": USER, "text": "a" * 2000})
    assert response.status_code == 200

    for text in ("a" * 2001, decomposed * 2001, ""):
        response = await call(client, zalo, "sendMessage", {"chat_id": USER, "text": text})
        assert response.status_code == 400
        assert response.json() == BAD_REQUEST
    assert zalo.texts(USER) == [ok_text, "a" * 2000]


async def test_send_message_refuses_keyboards_and_integer_ids(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "1", "callback_data": "1"}]]}
    for extra in ({"reply_markup": keyboard}, {"parse_mode": "HTML"}):
        response = await call(
            client, zalo, "sendMessage", {"chat_id": USER, "text": "chọn", **extra}
        )
        assert response.status_code == 400
        assert response.json() == {
            "ok": False,
            "error_code": 400,
            "description": UNSUPPORTED_PARAMETER,
        }
    for chat_id in (6700, "", None):
        response = await call(client, zalo, "sendMessage", {"chat_id": chat_id, "text": "hi"})
        assert response.status_code == 400
        assert response.json()["error_code"] == 400
    assert zalo.sent == []
    assert [c.status for c in zalo.calls_to("sendMessage")] == [400] * 5


async def test_send_photo_fetches_the_url(zalo: FakeZaloApi, client: httpx.AsyncClient) -> None:
    async with serve({"/poster.png": PNG}) as host:
        url = f"{host.base_url}/poster.png"
        body = {"chat_id": USER, "photo": url, "caption": "Lịch sinh hoạt tháng 9"}
        response = await call(client, zalo, "sendPhoto", body)
        assert response.status_code == 200
        result = response.json()["result"]
        assert HEX20.fullmatch(result["message_id"])
        assert host.seen == [("/poster.png", None, None)]  # the fake really fetched it
        [sent] = zalo.messages(USER)
        assert (sent.kind, sent.text, sent.photo_url, sent.caption) == (
            "photo",
            None,
            url,
            "Lịch sinh hoạt tháng 9",
        )
        assert sent.photo_bytes == PNG
        assert sent.message_id == result["message_id"]

        response = await call(
            client, zalo, "sendPhoto", {"chat_id": USER, "photo": f"{host.base_url}/gone.png"}
        )
        assert response.status_code == 400
        assert response.json()["description"] == CANNOT_FETCH_PHOTO

        response = await call(
            client, zalo, "sendPhoto", {"chat_id": USER, "photo": url, "reply_markup": {}}
        )
        assert response.json()["description"] == UNSUPPORTED_PARAMETER
    assert len(zalo.messages(USER)) == 1


async def test_send_photo_fails_on_unreachable_or_non_url(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    dead = f"http://127.0.0.1:{unused_port()}/poster.png"
    response = await call(client, zalo, "sendPhoto", {"chat_id": USER, "photo": dead})
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": CANNOT_FETCH_PHOTO}
    for photo in ("attach://poster", "/tmp/poster.png", 7):
        response = await call(client, zalo, "sendPhoto", {"chat_id": USER, "photo": photo})
        assert response.status_code == 400
    assert zalo.sent == []


async def test_chat_action_and_sticker(zalo: FakeZaloApi, client: httpx.AsyncClient) -> None:
    response = await call(client, zalo, "sendChatAction", {"chat_id": USER, "action": "typing"})
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    response = await call(client, zalo, "sendSticker", {"chat_id": USER, "sticker": "0e078a2f"})
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert [(s.kind, s.sticker) for s in zalo.messages(USER)] == [("sticker", "0e078a2f")]
    assert zalo.texts(USER) == []


# ---------------------------------------------------------------------- misbehaviour


async def test_fail_next_by_chat_and_times(zalo: FakeZaloApi, client: httpx.AsyncClient) -> None:
    zalo.fail_next("sendMessage", 403, chat_id=USER)
    response = await call(client, zalo, "sendMessage", {"chat_id": OTHER, "text": "to Minh"})
    assert response.status_code == 200
    response = await call(client, zalo, "sendMessage", {"chat_id": USER, "text": "lost"})
    assert response.status_code == 403
    assert response.json() == {"ok": False, "error_code": 403, "description": "Forbidden"}
    response = await call(client, zalo, "sendMessage", {"chat_id": USER, "text": "kept"})
    assert response.status_code == 200

    zalo.fail_next("sendMessage", 500, "boom", times=2)
    statuses = []
    for text in ("x", "y", "z"):
        response = await call(client, zalo, "sendMessage", {"chat_id": USER, "text": text})
        statuses.append(response.status_code)
    assert statuses == [500, 500, 200]
    assert response.json()["ok"] is True
    assert zalo.texts(USER) == ["kept", "z"]
    assert zalo.texts(OTHER) == ["to Minh"]


async def test_fail_next_on_get_updates_keeps_the_update(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    message_id = zalo.inject_text(USER, "hello")
    zalo.fail_next("getUpdates", 429)
    response = await call(client, zalo, "getUpdates", {"timeout": "1"})
    assert response.status_code == 429
    assert response.json() == {"ok": False, "error_code": 429, "description": "Quota exceeded"}
    response = await call(client, zalo, "getUpdates", {"timeout": "1"})
    assert response.json()["result"]["message"]["message_id"] == message_id
    assert zalo.polls == 2


async def test_quota_counts_every_successful_send(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    async def send(text: str) -> httpx.Response:
        return await call(client, zalo, "sendMessage", {"chat_id": USER, "text": text})

    assert (await send("1")).status_code == 200
    zalo.quota(2)  # one already sent: one more allowed
    assert (await send("2")).status_code == 200
    response = await send("3")
    assert response.status_code == 429
    assert response.json() == {"ok": False, "error_code": 429, "description": "Quota exceeded"}
    action = await call(client, zalo, "sendChatAction", {"chat_id": USER, "action": "typing"})
    assert action.status_code == 200  # only sends count
    zalo.quota(None)
    assert (await send("4")).status_code == 200
    assert zalo.texts(USER) == ["1", "2", "4"]


async def test_wait_helpers(zalo: FakeZaloApi, client: httpx.AsyncClient) -> None:
    async def later() -> None:
        await asyncio.sleep(0.1)
        await call(client, zalo, "sendMessage", {"chat_id": USER, "text": "một"})
        await call(client, zalo, "sendMessage", {"chat_id": USER, "text": "hai"})

    task = asyncio.create_task(later())
    sent = await zalo.wait_for_messages(USER, 2, seconds=5)
    await task
    assert [s.text for s in sent] == ["một", "hai"]
    calls = await zalo.wait_for_call("sendMessage", 2, seconds=1)
    assert [c.json["text"] for c in calls] == ["một", "hai"]

    with pytest.raises(AssertionError, match="saw 2: \\['một', 'hai'\\]"):
        await zalo.wait_for_messages(USER, 3, seconds=0.1)
    with pytest.raises(AssertionError, match="getWebhookInfo"):
        await zalo.wait_for_call("getWebhookInfo", seconds=0.1)


# ---------------------------------------------------------------------- webhook


async def test_get_webhook_info_is_404_when_none(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    response = await call(client, zalo, "getWebhookInfo", {})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "description": "Not Found"}


async def test_set_webhook_validates_the_secret(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    url = "https://bot.example.invalid/zalo/webhook"
    for secret in ("short", "x" * 257, None):
        response = await call(client, zalo, "setWebhook", {"url": url, "secret_token": secret})
        assert response.status_code == 400
        assert response.json()["error_code"] == 400
    assert zalo.webhook_url is None
    response = await call(client, zalo, "setWebhook", {"url": url, "secret_token": "x" * 256})
    assert response.status_code == 200
    assert response.json()["result"]["url"] == url


async def test_webhook_delivers_flat_with_the_secret(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    async with serve(secret=SECRET) as receiver:
        hook = f"{receiver.base_url}/zalo/webhook"
        response = await call(client, zalo, "setWebhook", {"url": hook, "secret_token": SECRET})
        assert response.status_code == 200
        result = response.json()["result"]
        assert result["url"] == hook
        assert isinstance(result["updated_at"], int)
        assert result["updated_at"] > 10**12
        info = await call(client, zalo, "getWebhookInfo", {})
        assert info.json()["result"] == result

        message_id = zalo.inject_text(USER, "1")
        assert await zalo.wait_for_webhook(1, seconds=5) == [200]
        [(path, secret, body)] = receiver.seen
        assert (path, secret) == ("/zalo/webhook", SECRET)
        assert body == zalo.injected[0]
        assert set(body) == {"event_name", "message"}
        assert body["message"]["message_id"] == message_id
        assert zalo.pending == 0  # not queued for polling too

        response = await call(client, zalo, "getUpdates", {"timeout": "1"})
        assert response.status_code == 400
        assert response.json() == {"ok": False, "error_code": 400, "description": "webhook is set"}

        zalo.redeliver(message_id)
        assert await zalo.wait_for_webhook(2, seconds=5) == [200, 200]
        assert receiver.seen[1][2] == body

        assert await zalo.post_webhook(body, "wrong-secret") == 403
        assert await zalo.post_webhook(body, None) == 403
        assert [secret for _, secret, _ in receiver.seen[2:]] == ["wrong-secret", None]
        assert zalo.webhook_statuses == [200, 200]


async def test_webhook_wrapped_and_then_deleted(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    async with serve(secret=SECRET) as receiver:
        hook = f"{receiver.base_url}/zalo/webhook"
        await call(client, zalo, "setWebhook", {"url": hook, "secret_token": SECRET})
        zalo.wrap_webhook = True
        zalo.inject_text(USER, "wrapped")
        assert await zalo.wait_for_webhook(1, seconds=5) == [200]
        [(_, secret, body)] = receiver.seen
        assert secret == SECRET
        assert body == {"ok": True, "result": zalo.injected[0]}
        assert body["result"]["message"]["text"] == "wrapped"

        response = await call(client, zalo, "deleteWebhook", {})
        assert response.status_code == 200
        assert response.json()["result"]["url"] == ""
        assert (await call(client, zalo, "getWebhookInfo", {})).status_code == 404

        message_id = zalo.inject_text(USER, "polled")
        response = await call(client, zalo, "getUpdates", {"timeout": "1"})
        assert response.status_code == 200
        assert response.json()["result"]["message"]["message_id"] == message_id
        assert len(receiver.seen) == 1


async def test_webhook_delivery_to_a_dead_receiver_records_zero(
    zalo: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    hook = f"http://127.0.0.1:{unused_port()}/zalo/webhook"
    await call(client, zalo, "setWebhook", {"url": hook, "secret_token": SECRET})
    zalo.inject_text(USER, "nobody home")
    assert await zalo.wait_for_webhook(1, seconds=5) == [0]
    assert len(zalo.webhook_errors) == 1
    assert TOKEN not in zalo.webhook_errors[0]
