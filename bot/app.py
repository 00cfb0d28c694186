"""Builds and runs the bot: the one place where settings, storage, channels, the HTTP server
and the reminder scheduler meet. Every channel whose token is set runs, on one database."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.logs import quiet_loggers
from bot.settings import Settings
from handlers.common import Deps
from scheduler import jobs
from scheduler.fanout import FanoutPolicy, Outcome
from storage import backup, health, seen
from storage.clock import Clock, SystemClock
from storage.db import Database

log = logging.getLogger(__name__)


class Adapter(Protocol):
    name: str

    async def prepare(self) -> None: ...  # reach the platform; nothing is received yet
    def health(self) -> dict[str, Any]: ...  # {"ok": bool, …} for GET /healthz
    async def start(self) -> None: ...  # start receiving
    async def stop(self) -> None: ...  # stop receiving, finish what is in hand
    async def close(self) -> None: ...
    async def deliver(self, user_ref: str, text: str) -> tuple[Outcome, float]: ...


class ChannelTransport:
    """Reminders go out through the channel of each person."""

    def __init__(self, adapters: dict[str, Adapter]) -> None:
        self.adapters = adapters

    async def send(self, channel: str, user_ref: str, text: str) -> tuple[Outcome, float]:
        adapter = self.adapters.get(channel)
        if adapter is None:  # a person of a channel this bot no longer runs
            return Outcome.FAILED, 0.0
        return await adapter.deliver(user_ref, text)


class Runtime:
    """Everything one `motcongmot run` process holds, with an explicit start and stop."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, console: Path | None = None
    ) -> None:
        """`console`: the scratch directory of `motcongmot try`; then the terminal is the only
        channel, whatever tokens the environment holds."""
        quiet_loggers()
        self.settings = settings
        self.deps = Deps(Database(settings.database_path), settings, clock or SystemClock())
        self.adapters: dict[str, Adapter] = {}
        self.web: Any = None
        if settings.webhook_listen:
            from bot.web import WebServer

            self.web = WebServer(settings)
            if settings.public_base_url:
                self.deps.files = self.web.shelf
        if console is not None:
            from bot.channels.console import ConsoleChannel

            self.adapters["console"] = ConsoleChannel(self.deps, console)
        elif settings.telegram_bot_token is not None:
            from bot.channels.telegram import TelegramChannel

            self.adapters["telegram"] = TelegramChannel(self.deps, self.web)
        if settings.zalo_bot_token is not None and console is None:
            from bot.channels.zalo import ZaloChannel

            self.adapters["zalo"] = ZaloChannel(self.deps, self.web)
        self.deps.channels = dict(self.adapters)  # type: ignore[arg-type]
        if self.web is not None:
            self.web.add_get("/healthz", self._healthz)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.reminders: jobs.Reminders | None = None

    @property
    def telegram(self) -> Any:
        return self.adapters.get("telegram")

    @property
    def zalo(self) -> Any:
        return self.adapters.get("zalo")

    async def start(self) -> None:
        deps = self.deps
        await deps.db.open()
        try:
            for adapter in self.adapters.values():
                await adapter.prepare()
            if self.web is not None:
                await self.web.start()
            config = deps.settings.reminders
            self.reminders = jobs.Reminders(
                deps.db,
                deps.clock,
                config,
                deps.settings,
                ChannelTransport(self.adapters),
                FanoutPolicy(per_second=config.delivery.per_second),
            )
            deps.reminders = self.reminders
            jobs.install(self.scheduler, self.reminders)
            await seen.prune(deps.db, deps.clock)
            self.scheduler.add_job(
                seen.prune,
                CronTrigger(hour=3, minute=30, timezone=deps.settings.tz),
                args=[deps.db, deps.clock],
                id="prune-seen",
                name="prune-seen",
                replace_existing=True,
            )
            if deps.settings.backup_dir is not None:
                self.scheduler.add_job(
                    self.daily_backup,
                    CronTrigger(hour=deps.settings.backup_hour, timezone=deps.settings.tz),
                    id="backup",
                    name="backup",
                    replace_existing=True,
                )
            self.scheduler.start()
            for adapter in self.adapters.values():
                await adapter.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop taking work first (webhooks, polls, reminder claims), then let what is in hand
        finish, all within about 10 seconds, then close."""
        if self.reminders is not None:
            self.reminders.stopping = True  # no new claims while the channels wind down
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.web is not None:
            await self.web.stop()  # no webhook is answered 200 and then dropped
        stops = [self._stop_adapter(adapter) for adapter in self.adapters.values()]
        if self.reminders is not None:
            stops.append(self.reminders.stop())
        stops.append(self.deps.heavy.stop())
        await asyncio.gather(*stops)
        for adapter in self.adapters.values():
            try:
                await adapter.close()
            except Exception:
                log.exception("%s: could not close cleanly", adapter.name)
        await self.deps.db.close()

    @staticmethod
    async def _stop_adapter(adapter: Adapter) -> None:
        try:
            await adapter.stop()
        except Exception:
            log.exception("%s: could not stop cleanly", adapter.name)

    async def daily_backup(self) -> None:
        """BACKUP_DIR: a verified copy a day, the newest BACKUP_KEEP kept."""
        settings = self.settings
        assert settings.backup_dir is not None
        name = backup.backup_name(self.deps.clock.now())
        try:
            await asyncio.to_thread(settings.backup_dir.mkdir, parents=True, exist_ok=True)
            report = await backup.make_backup(self.deps.db, settings.backup_dir / name)
        except (backup.BackupError, OSError) as exc:
            log.error("daily backup failed: %s", getattr(exc, "code", type(exc).__name__))
            return
        removed = backup.rotate(settings.backup_dir, settings.backup_keep)
        log.info("daily backup %s: %d bytes, %d older removed", name, report.size, len(removed))

    async def health(self) -> dict[str, Any]:
        """What GET /healthz reports: the database takes a write, the scheduler runs, and each
        channel is receiving, with its last successful contact."""
        problem = await health.database_problem(self.deps.db, self.deps.clock)
        channels = {name: adapter.health() for name, adapter in self.adapters.items()}
        running = self.scheduler.running
        ok = problem is None and running and all(c["ok"] for c in channels.values())
        return {
            "ok": ok,
            "database": problem or "ok",
            "scheduler": "running" if running else "stopped",
            "channels": channels,
        }

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self.health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def run(self) -> None:
        """Until SIGINT or SIGTERM (or the end of the terminal's input, for `try`)."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await self.start()
        console = self.adapters.get("console")
        waits = [asyncio.create_task(stopping.wait())]
        if console is not None:
            waits.append(asyncio.create_task(console.done.wait()))  # type: ignore[attr-defined]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await self.stop()
