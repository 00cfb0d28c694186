"""Chỉ tiêu: the admissions a unit should reach in a year.

A target set on a unit covers the members registered directly in it; a unit without one counts
one admission per registered member (1+1). A unit's figure is its whole subtree's sum.
"""

from __future__ import annotations

from storage import counters
from storage.clock import Clock, to_db
from storage.db import Database
from storage.validation import Org

TARGET_MAX = 1_000_000


async def set_target(
    db: Database, unit_id: int, year: int, org: Org, value: int, set_by: int | None, clock: Clock
) -> None:
    if not 0 <= value <= TARGET_MAX:
        raise ValueError("target_range")
    async with db.write() as conn:
        async with conn.execute(
            "SELECT org, value FROM targets WHERE unit_id = ? AND year = ?", (unit_id, year)
        ) as cur:
            before = {row[0]: row[1] for row in await cur.fetchall()}
        deltas: counters.Deltas = {
            (str(year), f"target_{org.value}"): value - before.get(org.value, 0)
        }
        if not before:  # from now on the unit's members no longer count one each by default
            async with conn.execute(
                "SELECT COUNT(*) FROM members WHERE unit_id = ?", (unit_id,)
            ) as cur:
                row = await cur.fetchone()
            deltas[(str(year), "members_targeted")] = int(row[0]) if row else 0
        await counters.apply(conn, unit_id, deltas)
        await conn.execute(
            """INSERT INTO targets (unit_id, year, org, value, set_by, set_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (unit_id, year, org) DO UPDATE SET
                 value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at""",
            (unit_id, year, org.value, value, set_by, to_db(clock.now())),
        )


async def own_targets(db: Database, unit_id: int, year: int) -> dict[Org, int]:
    sql = "SELECT org, value FROM targets WHERE unit_id = ? AND year = ?"
    async with db.read() as conn, conn.execute(sql, (unit_id, year)) as cur:
        return {Org(row["org"]): row["value"] for row in await cur.fetchall()}
