"""The channel-neutral model every handler speaks: who is talking, what came in, what goes out.

Adapters (bot/channels/…) translate a Telegram update, a Zalo event or a terminal line into a
`Turn`, and a `Reply` back into their own calls. Nothing here knows a chat library.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from storage.conversations import ConversationKey
from storage.members import address

if TYPE_CHECKING:
    from handlers.common import Deps


@dataclass(frozen=True)
class Who:
    """A person in a chat: ids are strings whatever the channel."""

    channel: str
    chat_ref: str
    user_ref: str

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(self.channel, self.chat_ref, self.user_ref)

    @property
    def address(self) -> str:
        return address(self.channel, self.user_ref)


# --- what comes in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str  # the canonical name from the registry, whatever alias was typed
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Choice:
    """A button pressed (Telegram), or a numbered line chosen (Zalo, terminal)."""

    data: str


@dataclass(frozen=True)
class Phone:
    number: str
    own: bool  # the person's own contact, not someone else's card


@dataclass(frozen=True)
class Other:
    """Anything else a person sent: a photo, a sticker, a voice message…"""

    kind: str


Incoming = Command | Text | Choice | Phone | Other


# --- what goes out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    label: str
    data: str


Rows = list[list[Button]]


@dataclass(frozen=True)
class File:
    name: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    text: str = ""
    choices: Rows = field(default_factory=list)
    ask_phone: bool = False  # offer "share my number" and "skip" (typed on text channels)
    phone_done: bool = False  # the phone question is over: take its keyboard away
    picture: File | None = None
    file: File | None = None


class Outbox(Protocol):
    """How one turn answers; each adapter implements it for its channel."""

    buttons: bool  # can the channel show buttons (else choices are numbered lines)

    async def send(self, reply: Reply) -> None: ...

    async def replace(self, reply: Reply) -> None:
        """Show `reply` in place of the message the pressed button was on, where the channel
        can edit; else send it."""

    async def settle(self, note: str | None = None) -> None:
        """The question a button was on is answered: freeze it (drop its buttons, show the
        choice, or `note`). Text channels only say `note`, if any."""

    async def drop_choices(self) -> None:
        """Take the buttons off the message a button was on."""

    async def toast(self, text: str | None = None, *, alert: bool = False) -> None:
        """The short answer to a press (Telegram's callback answer); a message elsewhere."""


class Channel(Protocol):
    """What the core needs from a running channel to reach people other than the speaker."""

    name: str

    async def send_text(self, user_ref: str, text: str) -> bool:
        """Tell someone something; False if they cannot be reached."""

    async def show_role_menu(self, user_ref: str, entries: list[tuple[str, str]] | None) -> None:
        """The person's own command menu (None: back to the default), where the channel has one."""

    def start_link(self, payload: str) -> str | None:
        """A link that opens the bot with `payload`, where the channel has deep links."""


UNKNOWN: Any = object()  # not read yet


@dataclass
class Turn:
    """One thing a person did, and everything a handler needs to answer it."""

    who: Who
    incoming: Incoming
    deps: Deps
    out: Outbox
    # What the router read about the sender in one query, before any handler ran: the member
    # (kept current by the journeys that change it) and the journey open at the start.
    member: Any = UNKNOWN
    opening_conversation: Any = UNKNOWN

    @property
    def args(self) -> tuple[str, ...]:
        return self.incoming.args if isinstance(self.incoming, Command) else ()

    @property
    def pressed(self) -> bool:
        return isinstance(self.incoming, Choice)

    async def say(
        self, text: str, choices: Rows | None = None, *, phone_done: bool = False
    ) -> None:
        await self.out.send(Reply(text, choices or [], phone_done=phone_done))


def fold(text: str) -> str:
    """Lower case, no diacritics, no spaces: "Giới thiệu" → "gioithieu" (typed answers)."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def rows(pairs: list[list[tuple[str, str]]]) -> Rows:
    return [[Button(label, data) for label, data in row] for row in pairs]
