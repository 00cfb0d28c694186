"""What a line typed on a text channel means, against the list a person saw last (real SQLite)."""

from __future__ import annotations

from pathlib import Path

from handlers import numbered
from handlers.chat import Button, Choice, Command, Reply, Text, Who
from storage.clock import ManualClock
from storage.db import Database
from tests.conftest import NOW

SHOWN = Reply("Báo cáo", [[Button("📄 Xuất Excel", "st:x:1")], [Button("Hội", "org:hoi")]])


async def test_a_slash_is_always_a_command_a_bare_label_a_choice(db_path: Path):
    who = Who("zalo", "u1", "u1")
    async with Database(db_path) as db:
        await numbered.remember(db, who, SHOWN, ManualClock(NOW))
        assert await numbered.resolve(db, who, "1") == Choice("st:x:1")
        assert await numbered.resolve(db, who, "xuat excel") == Choice("st:x:1")
        assert await numbered.resolve(db, who, "hoi") == Choice("org:hoi")
        # With a slash it is the command, though a shown label holds the same word.
        assert await numbered.resolve(db, who, "/xuat") == Command("xuat", ())
        assert await numbered.resolve(db, who, "/xuat 2026") == Command("xuat", ("2026",))
        assert await numbered.resolve(db, who, "lời chào") == Text("lời chào")
