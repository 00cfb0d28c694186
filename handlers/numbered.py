"""Choices as numbered lines, for channels without buttons (Zalo, the terminal).

A reply's choices are shown as "1. …", "2. …" and remembered for that person; the answer is the
number, or the label typed without diacritics or case ("vao doan"). Commands work typed with or
without "/" and with or without diacritics ("gioithieu", "giới thiệu").
"""

from __future__ import annotations

from bot import texts
from handlers import commands
from handlers.chat import Choice, Command, Incoming, Reply, Text, Who, fold
from storage import choices, conversations
from storage.clock import Clock
from storage.db import Database

MAX_COMMAND_WORDS = 2  # "xóa dữ liệu" folds to "xoadulieu" only as one word: tried as 2, then 1


def offered(reply: Reply) -> choices.Shown:
    if reply.ask_phone:
        return [(texts.BTN_SKIP, None)]  # "Bỏ qua" is the text the phone step takes
    return [(button.label, button.data) for row in reply.choices for button in row]


def render(reply: Reply) -> str:
    shown = offered(reply)
    if not shown:
        return reply.text
    lines = [f"{number}. {label}" for number, (label, _) in enumerate(shown, start=1)]
    # A blank line apart: the text above may hold numbered lines of its own (a ranking).
    return "\n".join([reply.text, "", *lines, texts.NUMBER_HINT] if reply.text else lines)


async def remember(db: Database, who: Who, reply: Reply, clock: Clock) -> None:
    """A new question replaces the numbers; a picture or a file leaves them as they were."""
    if reply.picture is None and reply.file is None:
        await choices.remember(db, who.key, offered(reply), clock)


async def resolve(db: Database, who: Who, text: str) -> Incoming:
    """What a typed line means: a choice shown last, a command, or plain text.

    While a question is open, a command without "/" must be the whole line ("hủy", "menu"):
    "Hủy vì nhập nhầm ngày" is an answer (a reason, a name, a search), not /huy."""
    stripped = text.strip()
    # "/xuat" is always the command, even when a choice "Xuất Excel" is on screen.
    shown = [] if stripped.startswith("/") else await choices.shown(db, who.key)
    picked = pick(shown, stripped)
    if picked is not None:
        label, data = picked
        return Choice(data) if data is not None else Text(label)
    command = parse_command(stripped)
    if command is None:
        return Text(text)
    answering = await conversations.current(db, who.key) is not None
    if answering and command.args and not stripped.startswith("/"):
        return Text(text)
    return command


def pick(shown: choices.Shown, text: str, *, numbers: bool = True) -> tuple[str, str | None] | None:
    """The choice a typed answer means: its number, its label typed without diacritics or
    case ("vao doan"), or one word that names only one of them ("doan", "hom nay" as a word
    of one label)."""
    if not shown or not text:
        return None
    if numbers and text.isascii() and text.isdigit():
        number = int(text)
        return shown[number - 1] if 1 <= number <= len(shown) else None
    folded = fold(text)
    if not folded:
        return None
    exact = next((entry for entry in shown if fold(entry[0]) == folded), None)
    if exact is not None or len(text.split()) != 1:
        return exact
    hits = [entry for entry in shown if folded in {fold(word) for word in entry[0].split()}]
    return hits[0] if len(hits) == 1 else None


def parse_command(text: str) -> Command | None:
    words = text.split()
    if not words:
        return None
    if words[0].startswith("/") and len(words[0]) > 1:
        entry = commands.find(words[0][1:])
        name = entry.name if entry else fold(words[0][1:])
        return Command(name, tuple(words[1:]))
    for count in range(min(MAX_COMMAND_WORDS, len(words)), 0, -1):
        entry = commands.find("".join(words[:count]))
        if entry is not None:
            return Command(entry.name, tuple(words[count:]))
    return None
