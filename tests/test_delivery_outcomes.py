"""A reminder cut off after it was sent may have arrived: it is never sent twice.

A raw server on 127.0.0.1 reads each request whole, records it, then closes the connection
without an answer (what a proxy or a flaky network does). The adapters must call that
`uncertain`; only a request that never left (connection refused) may be retried.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels import telegram as telegram_channel
from bot.channels import zalo
from scheduler.fanout import Outcome

TOKEN = "123456:TEST-token"


class DroppingServer:
    """Answers getMe; reads any other request in full, records it and hangs up."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        await reader.readexactly(length)
        path = head.split(b" ", 2)[1].decode()
        if path.endswith("/getMe"):
            me = {"id": 123456, "is_bot": True, "first_name": "Bot", "username": "bot"}
            body = json.dumps({"ok": True, "result": me}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        else:
            self.received.append(path.rsplit("/", 1)[-1])
        writer.close()

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def dropping() -> AsyncIterator[DroppingServer]:
    fake = DroppingServer()
    fake.server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    try:
        yield fake
    finally:
        fake.server.close()
        await fake.server.wait_closed()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bot(base: str) -> Bot:
    request = HTTPXRequest(connect_timeout=2, read_timeout=2)
    return Bot(TOKEN, base_url=f"{base}/bot", request=request, get_updates_request=request)


async def test_telegram_dropped_after_sending_is_uncertain(dropping: DroppingServer):
    async with _bot(dropping.base) as bot:
        outcome = await telegram_channel.deliver(bot, "42", "Nhắc việc")
    assert dropping.received == ["sendMessage"]  # it did reach the API
    assert outcome == (Outcome.UNCERTAIN, 0.0)


async def test_telegram_never_connected_is_retried():
    bot = _bot(f"http://127.0.0.1:{_closed_port()}")  # nobody listens there
    await bot.request.initialize()
    try:
        outcome = await telegram_channel.deliver(bot, "42", "Nhắc việc")
    finally:
        await bot.request.shutdown()
    assert outcome == (Outcome.RETRY, 0.0)


async def _zalo_send_error(base_url: str) -> httpx.HTTPError:
    async with httpx.AsyncClient(timeout=2) as client:
        api = zalo.ZaloApi(f"{base_url}/bot", "1:secret", client)
        with pytest.raises(httpx.HTTPError) as caught:
            await api.call("sendMessage", {"chat_id": "u1", "text": "Nhắc việc"})
    return caught.value


async def test_zalo_dropped_after_sending_is_uncertain(dropping: DroppingServer):
    error = await _zalo_send_error(dropping.base)
    assert dropping.received == ["sendMessage"]
    assert zalo.transport_outcome(error) is Outcome.UNCERTAIN


async def test_zalo_never_connected_is_retried():
    error = await _zalo_send_error(f"http://127.0.0.1:{_closed_port()}")
    assert isinstance(error, httpx.ConnectError)
    assert zalo.transport_outcome(error) is Outcome.RETRY
