"""Fan-out that respects each channel: its own rate overall (Telegram about 25 a second),
1 a second per chat.

A 429 waits `retry_after` and goes on; a 403 marks the person unreachable so nobody waits on them
again; a network error is retried with backoff. Channels are behind `Transport`, which sends
each delivery through the channel of its person.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from aiolimiter import AsyncLimiter

from storage import reminders
from storage.clock import Clock
from storage.db import Database
from storage.reminders import Delivery

log = logging.getLogger(__name__)


class Outcome(Enum):
    SENT = "sent"
    UNREACHABLE = "unreachable"  # blocked the bot, or never started it
    RETRY = "retry"  # surely not delivered (network error, 5xx, 429): try again
    UNCERTAIN = "uncertain"  # timed out: it may have arrived, so it is never resent
    FAILED = "failed"  # refused for good (a malformed message)


class Transport(Protocol):
    async def send(self, channel: str, user_ref: str, text: str) -> tuple[Outcome, float]:
        """Send one message; the float is how long to wait before a retry (retry_after)."""
        ...


@dataclass
class FanoutPolicy:
    per_second: float = 25.0
    per_chat_interval: float = 1.0
    concurrency: int = 8
    max_attempts: int = 5
    backoff: float = 0.5  # first wait after a network error; doubles each time
    backoff_max: float = 30.0


@dataclass
class Pacer:
    """Each channel's rate and the per-chat spacing, shared by every fan-out of one bot."""

    policy: FanoutPolicy
    rates: dict[str, float] = field(default_factory=dict)  # per channel; else policy's
    limiters: dict[str, AsyncLimiter] = field(default_factory=dict)
    last_by_chat: dict[tuple[str, str], float] = field(default_factory=dict)

    def _limiter(self, channel: str) -> AsyncLimiter:
        if channel not in self.limiters:
            # One message per 1/rate seconds, no bursts: a bucket of `rate` would let a full
            # second's worth out at once and break Telegram's sliding 30-a-second window.
            rate = self.rates.get(channel, self.policy.per_second)
            self.limiters[channel] = AsyncLimiter(1, 1 / rate)
        return self.limiters[channel]

    async def wait_turn(self, user_ref: str, channel: str = "telegram") -> None:
        loop = asyncio.get_running_loop()
        last = self.last_by_chat.get((channel, user_ref))
        if last is not None:
            gap = self.policy.per_chat_interval - (loop.time() - last)
            if gap > 0:
                await asyncio.sleep(gap)
        await self._limiter(channel).acquire()
        self.last_by_chat[(channel, user_ref)] = loop.time()


async def deliver(
    db: Database,
    occurrence: str,
    transport: Transport,
    clock: Clock,
    policy: FanoutPolicy | None = None,
    on_unreachable: Callable[[Delivery], Awaitable[None]] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    pacer: Pacer | None = None,
) -> dict[str, int]:
    """Send every pending delivery of one occurrence; returns the counts by status.

    `should_stop` is checked before each message: a stopping bot finishes what is in flight
    and leaves the rest pending for the next start.
    """
    policy = policy or FanoutPolicy()
    pacer = pacer or Pacer(policy)
    gate = asyncio.Semaphore(policy.concurrency)

    async def one(delivery: Delivery) -> None:
        async with gate:
            if not should_stop():
                await _deliver_one(
                    db, occurrence, delivery, transport, clock, pacer, on_unreachable, should_stop
                )

    while not should_stop() and (batch := await reminders.pending(db, occurrence)):
        # Let every delivery of the batch settle before an error goes up: none is left
        # half-done ("sending") behind the caller's back.
        results = await asyncio.gather(*(one(d) for d in batch), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
    if not should_stop():
        await reminders.finish_run(db, occurrence, clock)
    return await reminders.counts(db, occurrence)


async def _deliver_one(
    db: Database,
    occurrence: str,
    delivery: Delivery,
    transport: Transport,
    clock: Clock,
    pacer: Pacer,
    on_unreachable: Callable[[Delivery], Awaitable[None]] | None,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    policy = pacer.policy
    wait = policy.backoff
    for attempt in range(1, policy.max_attempts + 1):
        # Waiting for one's turn (the pacer, a 429) leaves the row pending: a crash while
        # waiting loses nothing and sends nothing twice. It is claimed only right before its
        # request goes out, so `uncertain` after a crash means "reached the API, or was reaching".
        await pacer.wait_turn(delivery.user_ref, delivery.channel)
        if should_stop() or not await reminders.start_sending(db, occurrence, delivery):
            return  # stopping, or another fan-out of the same occurrence has it
        try:
            outcome, retry_after = await transport.send(
                delivery.channel, delivery.user_ref, delivery.body
            )
        except Exception:
            # No telling whether it arrived: close it as uncertain (never twice), then let
            # the caller decide what to do with the error.
            await reminders.finish_delivery(db, occurrence, delivery, "uncertain", clock)
            raise
        if outcome is Outcome.RETRY and attempt < policy.max_attempts:
            # Not delivered: put it back, so a crash while waiting loses nothing.
            await reminders.finish_delivery(db, occurrence, delivery, "pending", clock)
            await asyncio.sleep(max(retry_after, wait))
            wait = min(wait * 2, policy.backoff_max)
            continue
        status = "failed" if outcome is Outcome.RETRY else outcome.value
        await reminders.finish_delivery(db, occurrence, delivery, status, clock)
        if outcome is Outcome.UNREACHABLE:
            await reminders.mark_unreachable(db, delivery.channel, delivery.user_ref, clock)
            if on_unreachable is not None:
                await on_unreachable(delivery)
        if status == "failed":
            log.warning("reminder %s: a delivery failed after %d attempts", occurrence, attempt)
        return
