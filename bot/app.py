"""Builds and runs the bot: the one place where settings, storage, channels, the HTTP server
and the reminder scheduler meet. Every channel whose token is set runs, on one database."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.logs import quiet_loggers
from bot.settings import Settings
from handlers.common import Deps
from scheduler import jobs
from scheduler.fanout import FanoutPolicy, Outcome
from storage.clock import Clock, SystemClock
from storage.db import Database

log = logging.getLogger(__name__)


class Adapter(Protocol):
    name: str

    async def prepare(self) -> None: ...  # reach the platform; nothing is received yet
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

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
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
        if settings.telegram_bot_token is not None:
            from bot.channels.telegram import TelegramChannel

            self.adapters["telegram"] = TelegramChannel(self.deps)
        if settings.zalo_bot_token is not None:
            from bot.channels.zalo import ZaloChannel

            self.adapters["zalo"] = ZaloChannel(self.deps, self.web)
        self.deps.channels = dict(self.adapters)  # type: ignore[arg-type]
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
            self.scheduler.start()
            for adapter in self.adapters.values():
                await adapter.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        for adapter in self.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                log.exception("%s: could not stop cleanly", adapter.name)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.reminders is not None:
            await self.reminders.stop()
        if self.web is not None:
            await self.web.stop()
        for adapter in self.adapters.values():
            try:
                await adapter.close()
            except Exception:
                log.exception("%s: could not close cleanly", adapter.name)
        await self.deps.db.close()

    async def run(self) -> None:
        """Until SIGINT or SIGTERM."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await self.start()
        try:
            await stopping.wait()
        finally:
            await self.stop()
