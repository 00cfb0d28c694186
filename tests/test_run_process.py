"""`python -m bot run` as a real process: it answers /start and survives SIGKILL mid-journey."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import texts
from storage.validation import Org
from tests.fakebotapi import FakeBotApi, TgUser
from tests.harness import TOKEN

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30.0  # a cold Python start on a loaded 2-core machine


def _env(api: FakeBotApi, db_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.api_base_url,
        TELEGRAM_FILE_BASE_URL=api.file_base_url,
        DATABASE_PATH=str(db_path),
    )
    return env


class BotProcess:
    def __init__(self, api: FakeBotApi, cwd: Path, db_path: Path) -> None:
        self.api, self.cwd, self.db_path = api, cwd, db_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        ready = len(self.api.calls_to("setMyCommands"))
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.cwd,
            env=_env(self.api, self.db_path),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        # setMyCommands is the last thing post_init does: the bot is about to poll.
        await self.api.wait_for_call("setMyCommands", ready + 1, seconds=START_SECONDS)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self) -> bytes:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)  # what Ctrl+C sends; run_polling stops cleanly
            await asyncio.wait_for(self.proc.wait(), START_SECONDS)
        assert self.proc.stderr is not None
        return await self.proc.stderr.read()


@pytest.fixture
async def process(api: FakeBotApi, tmp_path: Path) -> AsyncIterator[BotProcess]:
    db_path = tmp_path / "data" / "bot.db"
    imported = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "import-units",
        str(ROOT / "data" / "sample_units.csv"),
        cwd=tmp_path,
        env=_env(api, db_path),
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert await imported.wait() == 0
    bot = BotProcess(api, tmp_path, db_path)
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


async def _say(api: FakeBotApi, user: TgUser, text: str, expect: int = 1) -> str:
    """Send as `user`, wait for `expect` new bot messages; returns the last one's text."""
    seen = len(api.messages(user.id, include_deleted=True))
    api.inject_message(user, text)
    message = await api.wait_for_message(user.id, seen + expect, seconds=START_SECONDS)
    return message.text or ""


async def _press(api: FakeBotApi, user: TgUser, label: str, expect: int = 1) -> str:
    message = next(
        m
        for m in reversed(api.messages(user.id))
        if any(label == t for r in m.buttons() for t, _ in r)
    )
    seen = len(api.messages(user.id, include_deleted=True))
    api.inject_callback(user, message.message_id, message.button_data(label))
    reply = await api.wait_for_message(user.id, seen + expect, seconds=START_SECONDS)
    return reply.text or ""


async def test_run_answers_start_and_survives_a_kill(api: FakeBotApi, process: BotProcess):
    await process.start()
    lan = TgUser(id=501, first_name="Lan")
    text = await _say(api, lan, "/start", expect=2)
    assert texts.CHOOSE_ROOT in text
    for label in ("📂 Tỉnh đoàn Mẫu", "📂 Đoàn xã An Bình"):
        before = len(api.messages(lan.id))
        await _press(api, lan, label, expect=0)
        name = label[2:]
        await api.wait_until(lambda n=name: n in api.messages(lan.id)[-1].text, seconds=10)
        assert len(api.messages(lan.id)) == before
    assert await _press(api, lan, "Chi đoàn thôn Tân Lập") == texts.ask(texts.ASK_MEMBER_NAME)
    await _say(api, lan, "Trần Thị Lan")
    await _press(api, lan, "Đoàn viên")
    assert (await _say(api, lan, "Bỏ qua")).startswith("Đã ghi danh")

    await _say(api, lan, "/gioithieu")
    await _say(api, lan, "Quách Thị Yến")
    assert await _say(api, lan, "2004") == texts.ask(texts.ASK_YOUTH_PHONE)
    # Once Telegram has been told the update was received, kill the bot without warning.
    await api.wait_until(lambda: not api.pending_updates, seconds=10, what="acknowledged")
    await process.kill()

    await process.start()
    assert await _say(api, lan, "0399 888 777") == texts.ask(texts.ASK_ORG)
    await _press(api, lan, texts.BTN_ORG[Org.DOAN])
    saved = await _press(api, lan, texts.BTN_CONFIRM, expect=1)
    assert saved.startswith("Đã ghi nhận giới thiệu số 1: Quách Thị Yến")
    stderr = await process.terminate()
    assert process.proc is not None and process.proc.returncode == 0
    assert TOKEN.split(":")[1].encode() not in stderr
    assert "Quách".encode() not in stderr and b"0399888777" not in stderr
    assert b"Traceback" not in stderr

    with sqlite3.connect(process.db_path) as conn:
        rows = conn.execute("SELECT full_name, birth_year, phone, status FROM referrals").fetchall()
        conversations = conn.execute("SELECT COUNT(*) FROM conversations").fetchone()
    conn.close()
    assert rows == [("Quách Thị Yến", 2004, "0399888777", "introduced")]
    assert conversations == (0,)
