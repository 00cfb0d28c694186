"""The terminal as a channel (`motcongmot try`): the whole bot without any token.

Choices are numbered, as on Zalo. `/as admin`, `/as leader`, `/as <name>` switch who is typing;
pictures and files are written next to the scratch database and their path is shown.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from bot import demo, texts
from handlers import numbered, router
from handlers.chat import File, Reply, Turn, Who, fold
from handlers.common import Deps
from scheduler.fanout import Outcome

log = logging.getLogger(__name__)
NAME = demo.CHANNEL
QUIT = {"/thoat", "/quit", "/exit"}


class Outbox:
    buttons = False

    def __init__(self, channel: ConsoleChannel, who: Who) -> None:
        self.channel, self.who = channel, who

    async def send(self, reply: Reply) -> None:
        if reply.picture is not None or reply.file is not None:
            shown = reply.picture or reply.file
            assert shown is not None
            self.channel.show(
                texts.console_file(shown.caption or shown.name, self.channel.keep(shown))
            )
            return
        deps = self.channel.deps
        await numbered.remember(deps.db, self.who, reply, deps.clock)
        self.channel.show(numbered.render(reply))

    async def replace(self, reply: Reply) -> None:
        await self.send(reply)

    async def settle(self, note: str | None = None) -> None:
        if note:
            self.channel.show(note)

    async def drop_choices(self) -> None:
        pass

    async def toast(self, text: str | None = None, *, alert: bool = False) -> None:
        if text:
            self.channel.show(text)


class ConsoleChannel:
    name = NAME

    def __init__(self, deps: Deps, workdir: Path, out: TextIO | None = None) -> None:
        self.deps, self.workdir = deps, workdir
        self.out = out or sys.stdout
        self.person = "khach"  # a newcomer until /as says otherwise
        self.done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._files = 0

    async def prepare(self) -> None:
        await demo.seed(self.deps.db, self.deps.clock, self.deps.ages, self.deps.settings.tz)

    async def start(self) -> None:
        self.show(texts.console_banner(str(self.workdir)))
        self._task = asyncio.create_task(self._read_lines(), name="console")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        pass

    def health(self) -> dict[str, Any]:
        return {"ok": not self.done.is_set(), "mode": "terminal", "last_contact": None}

    # --- in ----------------------------------------------------------------------------------

    async def _read_lines(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        try:
            while True:
                self._prompt()
                raw = await reader.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", errors="replace").strip()
                if line in QUIT:
                    break
                if line:
                    await self._take(line)
        finally:
            self.done.set()

    async def _take(self, line: str) -> None:
        if line.split()[0] == "/as":
            self._switch(line[3:].strip())
            return
        who = demo.who(self.person)
        try:
            incoming = await numbered.resolve(self.deps.db, who, line)
            await router.handle(Turn(who, incoming, self.deps, Outbox(self, who)))
        except Exception as exc:  # show it and go on: the terminal is for trying things
            log.error("console: error while handling a line: %s", type(exc).__name__, exc_info=exc)
            self.show(texts.ERROR)

    def _switch(self, wanted: str) -> None:
        key = fold(wanted)
        found = next(
            (p for p in [demo.ADMIN, *demo.PEOPLE] if key and key in (p.ref, fold(p.name))),
            None,
        ) or next((p for p in demo.PEOPLE if key and key in fold(p.name)), None)
        if found is None and not key:
            self.show(texts.CONSOLE_AS_USAGE)
            return
        self.person = found.ref if found else key
        self.show(texts.console_now(found.name if found else wanted))

    # --- out ---------------------------------------------------------------------------------

    def show(self, text: str) -> None:
        self.out.write(f"\n🤖 {text}\n")
        self.out.flush()

    def _prompt(self) -> None:
        self.out.write(f"\n[{self.person}] > ")
        self.out.flush()

    def keep(self, file: File) -> Path:
        self._files += 1
        path = self.workdir / f"{self._files:02d}-{file.name}"
        path.write_bytes(file.data)
        return path

    def start_link(self, payload: str) -> str | None:
        return None

    async def show_role_menu(self, user_ref: str, entries: list[tuple[str, str]] | None) -> None:
        pass

    async def send_text(self, user_ref: str, text: str) -> bool:
        self.show(texts.console_to(user_ref, text))
        return True

    async def deliver(self, user_ref: str, text: str) -> tuple[Outcome, float]:
        await self.send_text(user_ref, text)
        return Outcome.SENT, 0.0
