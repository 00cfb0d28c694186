"""Telegram by webhook on the bot's own HTTP server: setWebhook with a secret, the header
checked in constant time, a wrong or missing one refused with 403 and nothing handled."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from bot.channels.telegram import WEBHOOK_PATH
from bot.settings import Settings
from tests.fakebotapi import FakeBotApi
from tests.harness import Person, RunningBot, free_port, make_settings, rows

SECRET = "tg-secret_0123456789"


@pytest.fixture
def settings(api: FakeBotApi, db_path: Path) -> Settings:
    port = free_port()
    return make_settings(
        api,
        db_path,
        telegram_mode="webhook",
        telegram_webhook_secret=SECRET,
        webhook_listen=f"127.0.0.1:{port}",
        public_base_url=f"http://127.0.0.1:{port}",
    )


async def test_updates_arrive_by_webhook_and_are_answered(api: FakeBotApi, bot: RunningBot, person):
    assert api.webhook_url == f"{bot.settings.public_base_url}{WEBHOOK_PATH}"
    assert api.webhook_secret == SECRET
    lan: Person = person("Lan")
    replies = await lan.send("/start")
    assert replies[0].text == texts.WELCOME
    await lan.press("Tỉnh đoàn Mẫu")
    assert (await api.wait_for_webhook(2)) == [200, 200]
    assert not [c for c in api.calls_to("getUpdates") if c.ok]


async def test_a_wrong_or_missing_secret_gets_403_and_nothing_is_handled(
    api: FakeBotApi, bot: RunningBot
):
    body = {
        "update_id": 990001,
        "message": {
            "message_id": 1,
            "date": 1795740000,
            "chat": {"id": 4242, "type": "private", "first_name": "X"},
            "from": {"id": 4242, "is_bot": False, "first_name": "X"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    for secret in ("wrong-secret", None, SECRET[:-1], SECRET + "x"):
        assert await api.post_webhook(body, secret) == 403, secret
    assert await rows(bot, "SELECT * FROM seen_updates WHERE update_ref = '990001'") == []
    assert api.messages(4242) == []
    assert await api.post_webhook(body, SECRET) == 200
    await bot.processed(990001)
    assert api.messages(4242)[0].text == texts.WELCOME
