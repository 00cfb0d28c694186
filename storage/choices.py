"""What a person on a channel without buttons was last offered: "2" means what they saw."""

from __future__ import annotations

import json

from storage.clock import Clock, to_db
from storage.conversations import ConversationKey
from storage.db import Database

Shown = list[tuple[str, str | None]]  # (label, choice data; None: the label is typed as text)


async def remember(db: Database, key: ConversationKey, shown: Shown, clock: Clock) -> None:
    """Replace the person's list (an empty list forgets it: the newest question has none)."""
    async with db.write() as conn:
        if not shown:
            await conn.execute(
                "DELETE FROM shown_choices WHERE channel = ? AND chat_ref = ? AND user_ref = ?",
                (key.channel, key.chat_ref, key.user_ref),
            )
            return
        await conn.execute(
            """INSERT INTO shown_choices (channel, chat_ref, user_ref, choices, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (channel, chat_ref, user_ref) DO UPDATE SET
                 choices = excluded.choices, updated_at = excluded.updated_at""",
            (
                key.channel,
                key.chat_ref,
                key.user_ref,
                json.dumps(shown, ensure_ascii=False),
                to_db(clock.now()),
            ),
        )


async def shown(db: Database, key: ConversationKey) -> Shown:
    sql = "SELECT choices FROM shown_choices WHERE channel = ? AND chat_ref = ? AND user_ref = ?"
    async with db.read() as conn, conn.execute(sql, (key.channel, key.chat_ref, key.user_ref)) as c:
        row = await c.fetchone()
    return [(label, data) for label, data in json.loads(row["choices"])] if row else []
