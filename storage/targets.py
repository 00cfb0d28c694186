"""Chỉ tiêu: the admissions a unit should reach in a year.

The Union assigns a number to each level: a target set on a unit is the figure for its whole
subtree. A unit without one counts its children's targets plus one admission per member not
under any of them (1+1), a member being an official headcount from the unit file where known,
else a member registered in the bot (see storage/counters.py, `tree_figures`).
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
        await conn.execute(
            """INSERT INTO targets (unit_id, year, org, value, set_by, set_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (unit_id, year, org) DO UPDATE SET
                 value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at""",
            (unit_id, year, org.value, value, set_by, to_db(clock.now())),
        )
        # The unit's own figure now overrides its subtree's, and its ancestors follow.
        await counters.follow_tree(conn, unit_id, [year])


async def own_targets(db: Database, unit_id: int, year: int) -> dict[Org, int]:
    sql = "SELECT org, value FROM targets WHERE unit_id = ? AND year = ?"
    async with db.read() as conn, conn.execute(sql, (unit_id, year)) as cur:
        return {Org(row["org"]): row["value"] for row in await cur.fetchall()}
