"""What every handler shares: its dependencies, who is talking, how to reach others."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot import texts
from bot.settings import Settings
from handlers.background import HeavyWork
from handlers.chat import UNKNOWN, Channel, Turn
from storage import members, roles
from storage.clock import Clock, local_today
from storage.db import Database
from storage.members import Member, parse_address
from storage.roles import Actor
from storage.validation import AgePolicy

log = logging.getLogger(__name__)
_ID = "([0-9]{1,9})"  # ASCII digits only, and small enough for SQLite's INTEGER


@dataclass
class Allowance:
    """At most `count` tries per `seconds` for each person (unit searches, typed codes): one
    person cannot hold the database with searches, nor guess codes by the thousand."""

    count: int = 10
    seconds: float = 60.0
    tries: dict[str, deque[float]] = field(default_factory=dict)

    def allow(self, person: str) -> bool:
        now = time.monotonic()
        recent = self.tries.setdefault(person, deque())
        while recent and now - recent[0] > self.seconds:
            recent.popleft()
        if len(recent) >= self.count:
            return False
        recent.append(now)
        return True


@dataclass
class Deps:
    """The application's long-lived parts, shared by every channel."""

    db: Database
    settings: Settings
    clock: Clock
    channels: dict[str, Channel] = field(default_factory=dict)
    reminders: Any = None  # scheduler.jobs.Reminders, once started
    files: Any = None  # bot.web.FileShelf, when the HTTP server can serve files
    heavy: HeavyWork = field(default_factory=HeavyWork)  # exports and charts, in the background
    guesses: Allowance = field(default_factory=Allowance)  # searches and typed codes

    @property
    def ages(self) -> AgePolicy:
        return self.settings.ages

    def today(self) -> date:
        return local_today(self.clock, self.settings.tz)

    @property
    def link_secret(self) -> bytes:
        secret = self.settings.link_secret or self.settings.first_token
        return hashlib.sha256(b"motcongmot-links:" + secret.get_secret_value().encode()).digest()

    def start_link(self, payload: str) -> str | None:
        """The Telegram link that opens the bot with `payload`, when Telegram runs."""
        for channel in self.channels.values():
            link = channel.start_link(payload)
            if link:
                return link
        return None


async def current_member(turn: Turn) -> Member | None:
    if turn.member is UNKNOWN:
        turn.member = await members.member_of(turn.deps.db, turn.who.channel, turn.who.user_ref)
    return turn.member


async def current_actor(turn: Turn) -> Actor:
    """The user and their roles as of now: every permission check starts here."""
    deps = turn.deps
    return await roles.load_actor(
        deps.db, turn.who.channel, turn.who.user_ref, deps.settings.admin_ids
    )


async def refuse(turn: Turn) -> None:
    """A forged, replayed or outdated press: say no, change nothing, show nothing."""
    if turn.pressed:
        await turn.out.toast(texts.NO_PERMISSION)
    else:
        await turn.say(texts.NO_PERMISSION)


async def notify(deps: Deps, channel: str, user_ref: str, text: str) -> bool:
    """Tell another person something on their own channel; False if they cannot be reached."""
    found = deps.channels.get(channel)
    if found is None:
        log.warning("no running %s channel to reach a person", channel)
        return False
    return await found.send_text(user_ref, text)


async def notify_address(deps: Deps, address: str, text: str) -> bool:
    return await notify(deps, *parse_address(address), text)


async def notify_member(deps: Deps, member: Member, text: str) -> bool:
    return await notify(deps, member.channel, member.user_ref, text)


def parse_id(text: str) -> int | None:
    """A record number typed or carried by a button; None for anything else."""
    match = re.fullmatch(_ID, text.strip())
    return int(match[1]) if match else None


def parse_button(data: str, prefix: str, ops: str, count: int) -> tuple[str, list[int]] | None:
    """ "<prefix>:<op>:<id>[:<id>…]" with one of `ops` and exactly `count` ids, or None."""
    match = re.fullmatch(rf"{prefix}:([{ops}])" + f":{_ID}" * count, data)
    if not match:
        return None
    return match[1], [int(x) for x in match.groups()[1:]]
