"""Chỉ tiêu: the admissions a unit should reach in a year.

A target set on a unit covers the members registered directly in it; a unit without one counts
one admission per registered member (1+1). A unit's figure is its whole subtree's sum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiosqlite

from storage import counters
from storage.clock import Clock, to_db
from storage.db import Database
from storage.units import SUBTREE
from storage.validation import Org

TARGET_MAX = 1_000_000


@dataclass(frozen=True)
class Target:
    total: int
    by_org: dict[Org, int]  # explicitly set parts of the subtree, per organisation
    defaulted: int  # the part that is one-per-member because no target was set


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


async def subtree_target(conn: aiosqlite.Connection, unit_id: int, year: int) -> Target:
    sql = f"""{SUBTREE},
        own AS (
            SELECT s.id,
                   (SELECT COUNT(*) FROM members m WHERE m.unit_id = s.id) AS members,
                   (SELECT SUM(value) FROM targets t
                     WHERE t.unit_id = s.id AND t.year = ? AND t.org = 'doan') AS doan,
                   (SELECT SUM(value) FROM targets t
                     WHERE t.unit_id = s.id AND t.year = ? AND t.org = 'hoi') AS hoi
            FROM sub s)
        SELECT COALESCE(SUM(doan), 0) AS doan, COALESCE(SUM(hoi), 0) AS hoi,
               COALESCE(SUM(CASE WHEN doan IS NULL AND hoi IS NULL THEN members END), 0)
                 AS defaulted
        FROM own"""
    async with conn.execute(sql, (json.dumps([unit_id]), year, year)) as cur:
        row = await cur.fetchone()
    assert row is not None
    by_org = {Org.DOAN: int(row["doan"]), Org.HOI: int(row["hoi"])}
    defaulted = int(row["defaulted"])
    return Target(sum(by_org.values()) + defaulted, by_org, defaulted)
