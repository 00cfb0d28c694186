"""The reminder ledger: each (occurrence, recipient) is written before it is sent.

States of a delivery: pending → sending → sent | unreachable | failed | uncertain.
"sending" is committed before the request goes out; a delivery found still "sending" after a
crash may or may not have arrived, and is marked "uncertain" rather than sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import Clock, from_db, to_db
from storage.db import Database


@dataclass(frozen=True)
class Delivery:
    channel: str
    user_ref: str
    body: str
    attempts: int


@dataclass(frozen=True)
class RunSummary:
    occurrence: str
    kind: str
    due_at: datetime
    planned_at: datetime
    finished_at: datetime | None
    late: bool
    counts: dict[str, int]


async def is_planned(db: Database, occurrence: str) -> bool:
    sql = "SELECT 1 FROM reminder_runs WHERE occurrence = ?"
    async with db.read() as conn, conn.execute(sql, (occurrence,)) as cur:
        return await cur.fetchone() is not None


async def plan(
    db: Database,
    occurrence: str,
    kind: str,
    due_at: datetime,
    recipients: list[tuple[str, str, str]],  # (channel, user_ref, body)
    clock: Clock,
    *,
    late: bool = False,
    requested_by: str | None = None,
) -> bool:
    """Record the run and all its deliveries at once; False if it was already planned."""
    async with db.write() as conn:
        cur = await conn.execute(
            """INSERT INTO reminder_runs (occurrence, kind, due_at, planned_at, late, requested_by)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (occurrence, kind, to_db(due_at), to_db(clock.now()), int(late), requested_by),
        )
        if cur.rowcount == 0:
            return False
        await conn.executemany(
            """INSERT INTO reminder_deliveries (occurrence, channel, user_ref, body)
               VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            [(occurrence, channel, ref, body) for channel, ref, body in recipients],
        )
    return True


async def settle_interrupted(db: Database) -> int:
    """After a restart: deliveries caught mid-request may have arrived; never resend them."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE reminder_deliveries SET status = 'uncertain', body = NULL "
            "WHERE status = 'sending'"
        )
        return cur.rowcount


async def pending(db: Database, occurrence: str, limit: int = 500) -> list[Delivery]:
    sql = """SELECT channel, user_ref, body, attempts FROM reminder_deliveries
             WHERE occurrence = ? AND status = 'pending' ORDER BY rowid LIMIT ?"""
    async with db.read() as conn, conn.execute(sql, (occurrence, limit)) as cur:
        return [Delivery(r[0], r[1], r[2], r[3]) for r in await cur.fetchall()]


async def start_sending(db: Database, occurrence: str, d: Delivery) -> bool:
    """Claim a delivery; False if someone else (a double firing) already did."""
    async with db.write() as conn:
        cur = await conn.execute(
            """UPDATE reminder_deliveries SET status = 'sending', attempts = attempts + 1
               WHERE occurrence = ? AND channel = ? AND user_ref = ? AND status = 'pending'""",
            (occurrence, d.channel, d.user_ref),
        )
        return cur.rowcount == 1


async def finish_delivery(
    db: Database, occurrence: str, d: Delivery, status: str, clock: Clock
) -> None:
    """sent / unreachable / failed are final; pending puts it back for a retry."""
    async with db.write() as conn:
        await conn.execute(
            """UPDATE reminder_deliveries
               SET status = ?, sent_at = ?, body = CASE WHEN ? = 'pending' THEN body END
               WHERE occurrence = ? AND channel = ? AND user_ref = ?""",
            (
                status,
                to_db(clock.now()) if status == "sent" else None,
                status,
                occurrence,
                d.channel,
                d.user_ref,
            ),
        )


async def finish_run(db: Database, occurrence: str, clock: Clock) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE reminder_runs SET finished_at = ? WHERE occurrence = ? AND finished_at IS NULL",
            (to_db(clock.now()), occurrence),
        )


async def unfinished(db: Database) -> list[str]:
    sql = "SELECT occurrence FROM reminder_runs WHERE finished_at IS NULL ORDER BY planned_at"
    async with db.read() as conn, conn.execute(sql) as cur:
        return [row[0] for row in await cur.fetchall()]


async def requested_by(db: Database, occurrence: str) -> str | None:
    sql = "SELECT requested_by FROM reminder_runs WHERE occurrence = ?"
    async with db.read() as conn, conn.execute(sql, (occurrence,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def counts(db: Database, occurrence: str) -> dict[str, int]:
    sql = """SELECT status, COUNT(*) FROM reminder_deliveries WHERE occurrence = ?
             GROUP BY status"""
    async with db.read() as conn, conn.execute(sql, (occurrence,)) as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


async def last_runs(db: Database, kinds: list[str]) -> dict[str, RunSummary]:
    """The newest run of each kind, with its delivery counts."""
    found: dict[str, RunSummary] = {}
    sql = """SELECT * FROM reminder_runs WHERE kind = ? ORDER BY due_at DESC, planned_at DESC
             LIMIT 1"""
    for kind in kinds:
        async with db.read() as conn, conn.execute(sql, (kind,)) as cur:
            row = await cur.fetchone()
        if row is None:
            continue
        found[kind] = RunSummary(
            row["occurrence"],
            row["kind"],
            from_db(row["due_at"]),
            from_db(row["planned_at"]),
            from_db(row["finished_at"]) if row["finished_at"] else None,
            bool(row["late"]),
            await counts(db, row["occurrence"]),
        )
    return found


async def mark_unreachable(db: Database, channel: str, user_ref: str, clock: Clock) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE members SET unreachable_at = ? WHERE channel = ? AND user_ref = ?",
            (to_db(clock.now()), channel, user_ref),
        )


async def mark_reachable(db: Database, channel: str, user_ref: str) -> None:
    """They wrote to us again, so they have unblocked the bot."""
    sql = "SELECT 1 FROM members WHERE channel = ? AND user_ref = ? AND unreachable_at IS NOT NULL"
    async with db.read() as conn, conn.execute(sql, (channel, user_ref)) as cur:
        if await cur.fetchone() is None:
            return  # the usual case: no write at all
    async with db.write() as conn:
        await conn.execute(
            "UPDATE members SET unreachable_at = NULL "
            "WHERE channel = ? AND user_ref = ? AND unreachable_at IS NOT NULL",
            (channel, user_ref),
        )


async def manually_nudged_on(db: Database, day_label: str) -> set[tuple[str, str]]:
    """(channel, user_ref) of everyone a leader's /nhacnho already reached out to that day."""
    sql = """SELECT DISTINCT channel, user_ref FROM reminder_deliveries
             WHERE occurrence LIKE 'manual:%:' || ?"""
    async with db.read() as conn, conn.execute(sql, (day_label,)) as cur:
        return {(row["channel"], row["user_ref"]) for row in await cur.fetchall()}
