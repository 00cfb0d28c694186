"""Turns the reminder calendar into JobQueue jobs, and runs each occurrence exactly once.

At startup: deliveries caught mid-request by a crash are settled (never resent), unfinished
fan-outs resume, reminders missed while the bot was down go out late (if still relevant), and
the next occurrences are scheduled with explicit job ids. The ledger in SQLite, not the job
store (APScheduler keeps jobs in memory), decides what was already done.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import texts
from scheduler.calendar import (
    Occurrence,
    ReminderConfig,
    due_or_missed,
    occurrences,
    upcoming,
)
from scheduler.compose import compose
from scheduler.fanout import FanoutPolicy, Pacer, deliver
from storage import audience, reminders
from storage.clock import Clock
from storage.db import Database
from storage.members import address, parse_address

log = logging.getLogger(__name__)

SCHEDULE_AHEAD = 40  # occurrences; about two and a half years
LATE_AFTER = timedelta(minutes=5)
RESUME_AFTER = 5.0  # seconds before a fan-out stopped by an error starts again
STOP_GRACE = 5.0  # seconds a stopping bot waits for fan-outs before cancelling their waits


@dataclass
class Reminders:
    """The reminder machinery of one Application (kept in bot_data["reminders"])."""

    db: Database
    clock: Clock
    config: ReminderConfig
    settings: Any  # bot.settings.Settings
    transport: Any  # a scheduler.fanout.Transport
    policy: FanoutPolicy = field(default_factory=FanoutPolicy)
    running: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: bool = False
    resume_after: float = RESUME_AFTER
    pacer: Pacer = field(init=False)

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.policy, self.config.delivery.rates())

    def occurrence(self, occurrence_id: str) -> Occurrence | None:
        tz = self.settings.tz
        year = self.clock.now().astimezone(tz).year
        for candidate_year in (year - 1, year, year + 1, year + 2):
            for found in occurrences(self.config, candidate_year, tz):
                if found.id == occurrence_id:
                    return found
        return None

    async def run(self, occurrence: Occurrence, *, late: bool = False) -> None:
        """Plan the occurrence (once, whoever calls) and make sure its fan-out runs."""
        if not await reminders.is_planned(self.db, occurrence.id):
            messages = await compose(
                self.db,
                occurrence,
                self.config,
                self.settings.tz,
                self.settings.admin_ids,
                today=self.clock.now().astimezone(self.settings.tz).date(),
            )
            planned = await reminders.plan(
                self.db,
                occurrence.id,
                occurrence.kind.value,
                occurrence.due,
                messages,
                self.clock,
                late=late,
            )
            if planned and late:
                log.warning(
                    "reminder %s is late: due %s, sent from %s",
                    occurrence.id,
                    occurrence.due.isoformat(),
                    self.clock.now().isoformat(),
                )
            elif planned:
                log.info("reminder %s: %d recipients", occurrence.id, len(messages))
        self.spawn(occurrence.id)

    def spawn(self, occurrence_id: str) -> None:
        task = self.running.get(occurrence_id)
        if task is not None and not task.done():
            return  # a double firing: the running fan-out already covers it
        # A context of its own: a fan-out started while an update is handled must not mark
        # that update handled with its writes (storage.db.HANDLING).
        self.running[occurrence_id] = asyncio.create_task(
            self._fan_out(occurrence_id),
            name=f"fanout:{occurrence_id}",
            context=contextvars.Context(),
        )

    async def _fan_out(self, occurrence_id: str) -> None:
        wait = self.resume_after
        while True:
            try:
                counts = await deliver(
                    self.db,
                    occurrence_id,
                    self.transport,
                    self.clock,
                    self.policy,
                    should_stop=lambda: self.stopping,
                    pacer=self.pacer,
                )
                break
            except Exception as exc:  # a locked database, an unexpected API error…
                # The ledger keeps every pending delivery: try again later, never give up.
                log.warning(
                    "reminder %s interrupted (%s); resuming in %.0f s",
                    occurrence_id,
                    type(exc).__name__,
                    wait,
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, 600.0)
                if self.stopping:
                    return
        if self.stopping:
            return
        log.info("reminder %s done: %s", occurrence_id, counts)
        requester = await reminders.requested_by(self.db, occurrence_id)
        if requester is not None:
            other = counts.get("uncertain", 0) + counts.get("failed", 0)
            text = texts.nudged(counts.get("sent", 0), counts.get("unreachable", 0), other)
            await self.transport.send(*parse_address(requester), text)

    async def catch_up(self) -> None:
        """Settle, resume and send what is due: the startup job."""
        uncertain = await reminders.settle_interrupted(self.db)
        if uncertain:
            log.warning("%d reminder deliveries were interrupted and are not resent", uncertain)
        for occurrence_id in await reminders.unfinished(self.db):
            log.info("resuming reminder %s", occurrence_id)
            self.spawn(occurrence_id)
        now = self.clock.now()
        for occurrence in due_or_missed(self.config, now, self.settings.tz):
            if not await reminders.is_planned(self.db, occurrence.id):
                await self.run(occurrence, late=now - occurrence.due > LATE_AFTER)
        self.started.set()

    async def idle(self) -> None:
        """Wait until startup work and every fan-out have finished (for tests and the CLI)."""
        await self.started.wait()
        while tasks := [t for t in self.running.values() if not t.done()]:
            await asyncio.gather(*tasks)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let each fan-out finish the message in flight, then stop; the rest resumes later.

        A fan-out waiting for its turn or for a 429's retry_after is cancelled after `grace`
        seconds: its rows are still pending, so nothing is lost; one cancelled mid-request is
        left `sending` and settled as uncertain at the next start (it may have arrived)."""
        self.stopping = True
        tasks = [t for t in self.running.values() if not t.done()]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def nudge_now(
        self, unit_id: int, requester: str, today_label: str, year: int
    ) -> tuple[int, int] | None:
        """A leader's /nhacnho: at most once a day per unit, and at most one manual nudge a
        day per member whoever asks (branch, commune and province leaders alike). Returns
        (nudged, skipped as already nudged today), or None if the unit was nudged today."""
        occurrence_id = f"manual:{unit_id}:{today_label}"
        if await reminders.is_planned(self.db, occurrence_id):
            return None
        already = await reminders.manually_nudged_on(self.db, today_label)
        wanted = [
            p
            for p in await audience.members_not_met(self.db, year, scope=[unit_id])
            if address(p.channel, p.user_ref) != requester
        ]
        people = [p for p in wanted if (p.channel, p.user_ref) not in already]
        skipped = len(wanted) - len(people)
        if not people:
            return 0, skipped
        messages = [(p.channel, p.user_ref, texts.MANUAL_NUDGE) for p in people]
        planned = await reminders.plan(
            self.db,
            occurrence_id,
            "manual",
            self.clock.now(),
            messages,
            self.clock,
            requested_by=requester,
        )
        if not planned:
            return None
        self.spawn(occurrence_id)
        return len(messages), skipped

    async def fire(self, occurrence_id: str) -> None:
        occurrence = self.occurrence(occurrence_id)
        # The machinery's clock decides what is due, so a test clock and the job store agree.
        if occurrence is None or self.clock.now() < occurrence.due:
            return
        await self.run(occurrence)

    async def startup(self, scheduler: AsyncIOScheduler) -> None:
        await self.catch_up()
        schedule(scheduler, self)


def schedule(scheduler: AsyncIOScheduler, machinery: Reminders) -> None:
    """(Re-)register the next occurrences; ids make this idempotent."""
    grace = int(timedelta(days=machinery.config.delivery.grace_days).total_seconds()) or None
    now = machinery.clock.now()
    for occurrence in upcoming(machinery.config, now, machinery.settings.tz, SCHEDULE_AHEAD):
        scheduler.add_job(
            machinery.fire,
            "date",
            run_date=occurrence.due,
            args=[occurrence.id],
            id=occurrence.id,
            name=occurrence.id,
            replace_existing=True,
            misfire_grace_time=grace,
        )


def install(scheduler: AsyncIOScheduler, machinery: Reminders) -> None:
    """Startup work at once, then the calendar; re-read every night after midnight."""
    scheduler.add_job(
        machinery.startup, args=[scheduler], id="startup", name="startup", replace_existing=True
    )
    scheduler.add_job(
        schedule,
        CronTrigger(hour=0, minute=5, timezone=machinery.settings.tz),
        args=[scheduler, machinery],
        id="reschedule",
        name="reschedule",
        replace_existing=True,
    )
