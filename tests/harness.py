"""Runs the production Application against the fake Bot API, and acts as people do.

Nothing of ours is mocked: the Application comes from bot.app.build_application, talks HTTP
to tests/fakebotapi.py on 127.0.0.1, and stores into a real SQLite file.
"""

from __future__ import annotations

import asyncio
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot import texts
from bot.app import Runtime
from bot.settings import Settings
from storage.clock import Clock
from storage.validation import Org
from tests.fakebotapi import FakeBotApi, SentMessage, TgUser
from tests.fakezalo import FakeZaloApi, ZaloSent

TOKEN = "123456789:TEST-token_abcdefghijklmnopqrstuvwxyz"
ZALO_TOKEN = "1459232241454765289:ZALO-secret_abcdefghijklmn"
WAIT = 10.0  # seconds: generous for a loaded 2-core CI machine; only reached on failure


def make_settings(
    api: FakeBotApi | None, db_path: Path, zalo: FakeZaloApi | None = None, **extra: Any
) -> Settings:
    channels: dict[str, Any] = {}
    if api is not None:
        channels.update(
            telegram_bot_token=TOKEN,
            telegram_api_base_url=api.api_base_url,
            telegram_file_base_url=api.file_base_url,
        )
    if zalo is not None:
        channels.update(zalo_bot_token=ZALO_TOKEN, zalo_api_base_url=zalo.api_base_url)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=db_path,
        **channels,
        **extra,
    )


@dataclass
class RunningBot:
    """The real runtime (bot.app.Runtime), started and stopped the way `motcongmot run` does."""

    settings: Settings
    clock: Clock | None = None
    runtime: Runtime = field(init=False)
    app: Application = field(init=False)  # type: ignore[type-arg]
    errors: list[BaseException] = field(default_factory=list)
    _done: dict[int, asyncio.Event] = field(default_factory=dict)
    _zalo_handled: dict[str, int] = field(default_factory=dict)
    _zalo_changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.runtime = Runtime(self.settings, clock=self.clock)
        # Test-only observers: when an update has gone through every handler, and any
        # exception a handler raised (process_update would otherwise swallow it).
        if self.runtime.telegram is not None:
            self.app = self.runtime.telegram.app
            self.app.add_handler(TypeHandler(Update, self._mark_done), group=1_000_000)
            self.app.add_error_handler(self._record_error)
        if self.runtime.zalo is not None:
            self.runtime.zalo.observers.append(self._zalo_done)
            self.runtime.zalo.error_observers.append(self.errors.append)
        await self.runtime.start()

    @property
    def deps(self) -> Any:
        return self.runtime.deps

    async def background(self) -> None:
        """Until the exports and charts under way in the background are done."""
        running = [t for t in self.deps.heavy.running.values() if not t.done()]
        if running:
            await asyncio.wait_for(asyncio.gather(*running), WAIT)

    def _zalo_done(self, message_id: str) -> None:
        self._zalo_handled[message_id] = self._zalo_handled.get(message_id, 0) + 1
        self._zalo_changed.set()

    async def zalo_handled(self, message_id: str, times: int = 1) -> None:
        """Until the Zalo update `message_id` has been through the bot `times` times."""

        async def until() -> None:
            while self._zalo_handled.get(message_id, 0) < times:
                self._zalo_changed.clear()
                await self._zalo_changed.wait()

        await asyncio.wait_for(until(), WAIT)

    async def stop(self) -> None:
        await self.runtime.stop()

    async def _mark_done(self, update: object, context: object) -> None:
        if isinstance(update, Update):
            self._event(update.update_id).set()

    async def _record_error(self, update: object, context: Any) -> None:
        self.errors.append(context.error)

    def _event(self, update_id: int) -> asyncio.Event:
        return self._done.setdefault(update_id, asyncio.Event())

    @property
    def reminders(self) -> Any:
        return self.runtime.reminders

    async def idle(self) -> None:
        """Until the startup job and every reminder fan-out have finished."""
        await asyncio.wait_for(self.reminders.idle(), WAIT)

    def forget(self, update_id: int) -> None:
        """Wait for `update_id` afresh (it is about to be served again)."""
        self._done.pop(update_id, None)

    async def processed(self, update_id: int) -> None:
        await asyncio.wait_for(self._event(update_id).wait(), WAIT)


@dataclass
class Person:
    """A Telegram user in a private chat with the bot."""

    api: FakeBotApi
    bot: RunningBot
    user: TgUser
    last_answer: dict[str, Any] | None = None

    @property
    def chat_id(self) -> int:
        return self.user.id

    def message(self, message_id: int) -> SentMessage:
        return self.api.message(self.chat_id, message_id)

    def inbox(self) -> list[SentMessage]:
        return self.api.messages(self.chat_id)

    @property
    def last(self) -> SentMessage:
        return self.inbox()[-1]

    @property
    def last_text(self) -> str:
        return self.last.text or ""

    async def _run(self, update_id: int, seen: int) -> list[SentMessage]:
        await self.bot.processed(update_id)
        return self.inbox()[seen:]

    async def send(self, text: str) -> list[SentMessage]:
        """Type a message; returns what the bot sent back (new messages, in order)."""
        seen = len(self.inbox())
        return await self._run(self.api.inject_message(self.user, text), seen)

    async def share_contact(self, phone: str, *, own: bool = True) -> list[SentMessage]:
        contact = {
            "phone_number": phone,
            "first_name": self.user.first_name,
            "user_id": self.user.id if own else self.user.id + 1,
        }
        seen = len(self.inbox())
        return await self._run(self.api.inject_message(self.user, contact=contact), seen)

    def find_button(self, label: str) -> tuple[SentMessage, str]:
        """The newest bot message holding a button whose text contains `label`."""
        for message in reversed(self.inbox()):
            for row in message.buttons():
                for text, data in row:
                    if label in text:
                        return message, data
        raise AssertionError(f"no button {label!r} in chat {self.chat_id}")

    async def press(self, label: str) -> list[SentMessage]:
        message, data = self.find_button(label)
        return await self.press_data(message.message_id, data)

    async def press_data(self, message_id: int, data: str) -> list[SentMessage]:
        """Press a button (possibly a forged one); the bot's answer lands in last_answer."""
        seen = len(self.inbox())
        update_id = self.api.inject_callback(self.user, message_id, data)
        replies = await self._run(update_id, seen)
        self.last_answer = self.api.callback_answer(update_id)
        return replies


@dataclass
class ZaloPerson:
    """A Zalo user in a private chat with the bot: types text, reads numbered lines."""

    zalo: FakeZaloApi
    bot: RunningBot
    user_id: str
    name: str

    def inbox(self) -> list[ZaloSent]:
        return self.zalo.messages(self.user_id)

    @property
    def last_text(self) -> str:
        return self.inbox()[-1].text or ""

    async def send(self, text: str) -> list[ZaloSent]:
        """Type a message; returns what the bot sent back (new messages, in order)."""
        seen = len(self.inbox())
        message_id = self.zalo.inject_text(self.user_id, text, display_name=self.name)
        await self.bot.zalo_handled(message_id)
        return self.inbox()[seen:]

    async def choose(self, label: str) -> list[ZaloSent]:
        """Answer with the number of the choice holding `label` in the newest list."""
        for message in reversed(self.inbox()):
            for number, shown in choices_in(message.text or ""):
                if label in shown:
                    return await self.send(str(number))
        raise AssertionError(f"no numbered choice {label!r} for {self.user_id}")


def choices_in(text: str) -> list[tuple[int, str]]:
    """The choices of a message on a text channel: its last run of lines numbered 1, 2, 3…"""
    found: list[tuple[int, str]] = []
    for line in text.splitlines():
        number, dot, label = line.partition(". ")
        if dot and number.isdigit():
            if int(number) == 1:
                found = []
            assert int(number) == len(found) + 1, text
            found.append((int(number), label))
    return found


async def join(p: Person, unit_code: str, name: str, membership: str = "Đoàn viên") -> None:
    """Register `p` in a unit through its invite link, as a member would."""
    from storage import invites, units

    deps = p.bot.app.bot_data["deps"]
    async with deps.db.read() as conn:
        unit = await units.get_by_code(conn, unit_code)
    assert unit is not None, unit_code
    await p.send(f"/start {invites.unit_payload(deps.link_secret, unit)}")
    await p.send(name)
    await p.press(membership)
    replies = await p.send("Bỏ qua")
    assert replies[-1].text.startswith("Đã ghi danh"), replies[-1].text


LINK = re.compile(r"start=([A-Za-z0-9_-]+)")


CODE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")


def code_in(text: str) -> str:
    """The first ABCD-EFGH code in a message (invite and appointment codes)."""
    found = CODE.search(text)
    assert found, text
    return found[1]


def payload_in(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found[1]


async def rows(bot: RunningBot, sql: str, *args: Any) -> list[dict[str, Any]]:
    async with bot.deps.db.read() as conn, conn.execute(sql, args) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def appoint_link(admin: Person, path: list[str], kind: str = texts.BTN_LEADER_LINK) -> str:
    """The admin walks the picker down `path`, chooses the unit, makes a one-time link."""
    await admin.send("/bonhiem")
    for label in path:
        await admin.press(label)
    await admin.press(texts.BTN_CHOOSE_HERE)
    replies = await admin.press(kind)
    return payload_in(replies[-1].text)


async def appointed(
    admin: Person, who: Person, path: list[str], full_name: str, org: Org = Org.DOAN
) -> Person:
    """`who` opens a one-time leader link the admin made for the unit at `path` and registers
    there (name, membership, phone skipped): the unit's leader from now on."""
    payload = await appoint_link(admin, path)
    await who.send(f"/start {payload}")
    await who.send(full_name)
    await who.press(texts.BTN_MEMBERSHIP[org])
    await who.send(texts.BTN_SKIP)
    return who


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serving_files() -> dict[str, str]:
    """Settings for the bot's own HTTP server, so Zalo fetches charts and reports by link."""
    port = free_port()
    return {"webhook_listen": f"127.0.0.1:{port}", "public_base_url": f"http://127.0.0.1:{port}"}


async def decline(p: Person, reason: str | None = None) -> list[SentMessage]:
    """Press "không kết nạp" on the newest review card, give the reason (or skip), confirm."""
    await p.press(texts.BTN_DECLINE)
    await (p.send(reason) if reason else p.press(texts.BTN_SKIP))
    return await p.press(texts.BTN_DECLINE_YES)


async def refer(p: Person, name: str, birth: str, phone: str | None, org: Org) -> int:
    await p.send("/gioithieu")
    await p.send(name)
    await p.send(birth)
    if phone:
        await p.send(phone)
    else:
        await p.press(texts.BTN_SKIP)
    await p.press(texts.BTN_ORG[org])
    replies = await p.press(texts.BTN_CONFIRM)
    number = re.search(r"giới thiệu số (\d+)", replies[-1].text)
    assert number, replies[-1].text
    return int(number[1])


# What /help says to a member, and the Telegram menus, spelled out from the catalog's words.
MEMBER_COMMANDS = [
    "start",
    "gioithieu",
    "cuatoi",
    "sua",
    "moiban",
    "help",
    "huy",
    "xoadulieu",
    "vinhdanh",
]
LEADER_COMMANDS = [
    "duyet",
    "daduyet",
    "donvi",
    "stats",
    "xuat",
    "chitieu",
    "moi",
    "nhacnho",
    "lichnhac",
]
MEMBER_HELP = texts.help_text(
    [("member", [texts.HELP_LINES[n] for n in MEMBER_COMMANDS if n != "help"])]
)
LEADER_HELP = texts.HELP_SECTION["leader"]
ADMIN_HELP = texts.HELP_SECTION["admin"]


def menu_of(names: list[str]) -> list[tuple[str, str]]:
    return [(name, texts.MENU_WORDS[name]) for name in names]


TAN_LAP = ["Tỉnh đoàn Mẫu", "Đoàn xã An Bình", "Chi đoàn thôn Tân Lập"]
