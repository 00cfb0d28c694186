"""Is the database reachable and writable right now? (for GET /healthz)"""

from __future__ import annotations

import sqlite3

from storage.clock import Clock, to_db
from storage.db import Database


async def database_problem(db: Database, clock: Clock) -> str | None:
    """None when a real write commits; else a short reason (no path, no data)."""
    if not db.is_open:
        return "closed"
    try:
        async with db.write() as conn:
            await conn.execute(
                """INSERT INTO health (id, checked_at) VALUES (1, ?)
                   ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at""",
                (to_db(clock.now()),),
            )
    except sqlite3.Error as exc:
        return type(exc).__name__
    return None
