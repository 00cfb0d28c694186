"""Updates already acted on, for channels that may deliver one twice (Zalo re-serves them)."""

from __future__ import annotations

from datetime import timedelta

from storage.clock import Clock, to_db
from storage.db import Database

KEEP = timedelta(days=7)  # a redelivery comes within minutes; a week is plenty


async def first_time(db: Database, channel: str, update_ref: str, clock: Clock) -> bool:
    """Record the update; False if it was already recorded (then do nothing with it)."""
    now = clock.now()
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT OR IGNORE INTO seen_updates (channel, update_ref, seen_at) VALUES (?, ?, ?)",
            (channel, update_ref, to_db(now)),
        )
        fresh = cur.rowcount == 1
        await conn.execute("DELETE FROM seen_updates WHERE seen_at < ?", (to_db(now - KEEP),))
    return fresh
