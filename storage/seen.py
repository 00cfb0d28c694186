"""Updates already acted on, for channels that may serve one again (Telegram after a crash,
Zalo at any time): each is acted on once.

An update is recorded as handled by the first write transaction made while handling it, in
that same transaction (storage.db.HANDLING); an update that writes nothing is not recorded, and
handling it again changes nothing either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from storage.clock import Clock, to_db
from storage.db import HANDLING, Database

KEEP = timedelta(days=7)  # a redelivery comes within minutes; a week is plenty


async def already_handled(db: Database, channel: str, update_ref: str) -> bool:
    sql = "SELECT 1 FROM seen_updates WHERE channel = ? AND update_ref = ?"
    async with db.read() as conn, conn.execute(sql, (channel, update_ref)) as cur:
        return await cur.fetchone() is not None


@contextmanager
def handling(channel: str, update_ref: str) -> Iterator[None]:
    """While the block runs (in this task), every write also marks the update handled."""
    token = HANDLING.set((channel, update_ref))
    try:
        yield
    finally:
        HANDLING.reset(token)


async def prune(db: Database, clock: Clock) -> None:
    async with db.write() as conn:
        await conn.execute(
            "DELETE FROM seen_updates WHERE seen_at < ?", (to_db(clock.now() - KEEP),)
        )
