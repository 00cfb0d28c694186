"""Heavy work (exports, charts) off everybody else's path.

Each runs as a background task: at most one per person at a time (a second request is told one
is being prepared), a bounded number at once overall; the person is told it has started, hears
how far it got when it takes long, and gets the result (or a short apology) when it is ready.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot import texts
from handlers.chat import Reply, Turn

log = logging.getLogger(__name__)

Progress = Callable[[float], Awaitable[None]]  # the share done, 0..1
Work = Callable[[Progress], Awaitable[Reply]]
AT_ONCE = 2  # a 2-core machine: more would only slow every one of them down
TELL_EVERY = 15.0  # seconds between two progress messages


@dataclass
class HeavyWork:
    limit: int = AT_ONCE
    running: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _gate: asyncio.Semaphore | None = None
    _turns: dict[str, tuple[asyncio.Task[None], Turn]] = field(default_factory=dict)

    def busy(self, turn: Turn) -> bool:
        task = self.running.get(turn.who.address)
        return task is not None and not task.done()

    async def start(self, turn: Turn, work: Work) -> None:
        """Run `work` in the background for this person, or say one is already running."""
        if self.busy(turn):
            await turn.say(texts.HEAVY_ALREADY)
            return
        await turn.say(texts.HEAVY_STARTED)
        task = asyncio.create_task(
            self._run(turn, work), name=f"heavy:{turn.who.address}", context=contextvars.Context()
        )
        self.running[turn.who.address] = task
        self._turns[turn.who.address] = (task, turn)

    async def _run(self, turn: Turn, work: Work) -> None:
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.limit)
        told = time.monotonic()

        async def progress(share: float) -> None:
            nonlocal told
            if time.monotonic() - told >= TELL_EVERY and share < 1:
                told = time.monotonic()
                await turn.say(texts.heavy_progress(round(share * 100)))

        try:
            async with self._gate:
                reply = await work(progress)
            await turn.out.send(reply)
        except Exception as exc:  # tell the person; the error type only in the log
            log.error("heavy work failed: %s", type(exc).__name__, exc_info=exc)
            try:
                await turn.say(texts.ERROR)
            except Exception:
                log.warning("could not tell the person their work failed")
        finally:
            self.running.pop(turn.who.address, None)
            self._turns.pop(turn.who.address, None)

    async def stop(self) -> None:
        """The bot is stopping: what is under way is dropped, and its people are told so
        rather than left waiting in silence."""
        under_way = [(t, turn) for t, turn in self._turns.values() if not t.done()]
        for task, _ in under_way:
            task.cancel()
        await asyncio.gather(*(t for t, _ in under_way), return_exceptions=True)
        for _, turn in under_way:
            try:
                await asyncio.wait_for(turn.say(texts.HEAVY_INTERRUPTED), 2.0)
            except Exception:
                log.warning("could not tell a person their work was interrupted")
