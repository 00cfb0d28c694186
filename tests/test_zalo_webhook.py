"""Zalo by webhook: the bot registers its URL and secret, its own HTTP server takes deliveries,
checks the secret, answers at once, and acts on each message once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import texts
from bot.channels.zalo import WEBHOOK_PATH
from storage.clock import ManualClock
from tests.fakezalo import FakeZaloApi
from tests.harness import RunningBot, ZaloPerson, free_port, make_settings, rows

SECRET = "webhook-secret-0123456789"


@pytest.fixture
async def hooked(
    zalo: FakeZaloApi, db_path: Path, sample_units: None, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    port = free_port()
    settings = make_settings(
        None,
        db_path,
        zalo,
        zalo_mode="webhook",
        zalo_webhook_secret=SECRET,
        webhook_listen=f"127.0.0.1:{port}",
        public_base_url=f"http://127.0.0.1:{port}",
    )
    running = RunningBot(settings, clock)
    await running.start()
    yield running
    await running.stop()
    assert running.errors == []


def _update(user: str, text: str, message_id: str) -> dict[str, object]:
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": message_id,
            "date": 1795740000000,
            "from": {"id": user, "display_name": "X", "is_bot": False},
            "chat": {"id": user, "chat_type": "PRIVATE"},
            "text": text,
        },
    }


async def test_the_webhook_is_registered_with_its_secret_and_no_polling(
    hooked: RunningBot, zalo: FakeZaloApi
):
    base = hooked.settings.public_base_url
    assert zalo.webhook_url == f"{base}{WEBHOOK_PATH}"
    assert zalo.webhook_secret == SECRET
    assert zalo.calls_to("getUpdates") == []
    assert zalo.calls_to("deleteWebhook") == []


async def test_flat_and_wrapped_deliveries_are_answered(hooked: RunningBot, zalo: FakeZaloApi):
    ted = ZaloPerson(zalo, hooked, "c0c0c0c0c0c0c0c0c0c0", "Ted")
    replies = await ted.send("start")
    assert replies[0].text == texts.WELCOME
    zalo.wrap_webhook = True
    replies = await ted.send("tan lap")  # a search, as the answer to the unit question
    assert replies[-1].text.startswith(texts.SEARCH_RESULTS)
    assert await zalo.wait_for_webhook(2) == [200, 200]
    assert zalo.webhook_bodies[0].keys() == {"event_name", "message"}
    assert zalo.webhook_bodies[1].keys() == {"ok", "result"}


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_handled(
    hooked: RunningBot, zalo: FakeZaloApi
):
    user = "d0d0d0d0d0d0d0d0d0d0"
    for n, secret in enumerate(("wrong-secret-000", None, SECRET[:-1], SECRET + "x")):
        status = await zalo.post_webhook(_update(user, "start", f"{n:020x}"), secret)
        assert status == 403, secret
    assert zalo.messages(user) == []
    assert await rows(hooked, "SELECT * FROM seen_updates") == []
    assert await rows(hooked, "SELECT * FROM conversations") == []
    # The right secret, the same body: handled.
    status = await zalo.post_webhook(_update(user, "start", "f" * 20), SECRET)
    assert status == 200
    await hooked.zalo_handled("f" * 20)
    assert zalo.texts(user)[0] == texts.WELCOME


async def test_a_redelivered_update_is_handled_once(hooked: RunningBot, zalo: FakeZaloApi):
    ted = ZaloPerson(zalo, hooked, "e0e0e0e0e0e0e0e0e0e0", "Ted")
    await ted.send("start")
    count = len(ted.inbox())
    first = zalo.injected[-1]["message"]["message_id"]  # type: ignore[index]
    zalo.redeliver(first)
    await hooked.zalo_handled(first, times=2)
    assert await zalo.wait_for_webhook(2) == [200, 200]
    assert len(ted.inbox()) == count
