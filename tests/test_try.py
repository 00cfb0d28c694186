"""`motcongmot try` in a pseudo-terminal, as an IT officer types it on a fresh machine: the whole
bot on a scratch database, no token, numbered choices, switching roles."""

from __future__ import annotations

import asyncio
import os
import pty
import sys
import time

from bot import texts
from tests.test_run_process import ROOT

WAIT = 30.0  # a cold start on a loaded 2-core machine


class Terminal:
    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
        env["PYTHONPATH"] = str(ROOT)
        self.proc = asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "try", stdin=slave, stdout=slave, stderr=slave, env=env
        )
        self.slave = slave
        self.seen = ""

    async def start(self) -> asyncio.subprocess.Process:
        process = await self.proc
        os.close(self.slave)
        return process

    async def expect(self, wanted: str) -> str:
        """Read until `wanted` shows up; returns everything read since the last expect."""
        start, deadline = len(self.seen), time.monotonic() + WAIT
        os.set_blocking(self.master, False)
        while wanted not in self.seen[start:]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{wanted!r} not seen; got {self.seen[start:]!r}")
            try:
                chunk = os.read(self.master, 65536)
            except BlockingIOError:
                await asyncio.sleep(0.05)
                continue
            except OSError:  # the other end closed
                break
            self.seen += chunk.decode("utf-8", errors="replace")
        return self.seen[start:]

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())


async def test_try_plays_every_role_in_a_terminal_without_a_token():
    term = Terminal()
    process = await term.start()
    try:
        await term.expect("[khach] > ")
        term.type("start")
        shown = await term.expect("[khach] > ")
        assert texts.WELCOME in shown and "1. 📂 Hội LHTN Việt Nam tỉnh Mẫu" in shown
        term.type("/huy")
        await term.expect(texts.CANCELLED)
        term.type("/as leader")
        await term.expect(texts.console_now("Nguyễn Văn Hùng"))
        term.type("duyet")
        card = await term.expect("[leader] > ")
        assert "Đỗ Văn Nam" in card and f"1. {texts.BTN_ADMIT}" in card
        term.type("1")
        await term.expect(f"1. {texts.BTN_TODAY}")
        term.type("1")
        told = await term.expect("[leader] > ")
        assert "📨 Gửi cho tu: Tin vui! Đỗ Văn Nam" in told
        term.type("/as admin")
        await term.expect(texts.console_now("Quản trị tỉnh"))
        term.type("thong ke TD-MAU")
        figures = await term.expect("Đã lưu tệp:")
        assert "Tỉnh đoàn Mẫu" in figures
        term.type("/thoat")
        await asyncio.wait_for(process.wait(), WAIT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(term.master)
    assert process.returncode == 0
    assert "Traceback" not in term.seen
