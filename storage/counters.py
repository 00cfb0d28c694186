"""Per-unit counters for /stats, kept equal to a recount of the raw rows.

Every change (a member registers, a referral is logged, decided, reopened, withdrawn, a target
is set, a member is erased) adds its deltas to the unit and all its ancestors in the same
transaction. A change of the tree (a re-imported parent) recounts everything. `recount()` and
`check()` prove the maintained figures equal the raw rows.

Metrics: members, pending (bucket ''); introduced, admitted_doan, admitted_hoi, declined, met
(by period bucket of the local date); target_doan, target_hoi, members_targeted (by year).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import aiosqlite

from storage.periods import parse_period

Deltas = dict[tuple[str, str], int]  # (bucket, metric) -> change
CURRENT = ""


def buckets(day: date | str) -> list[str]:
    """The year, half and quarter a local date falls in."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return [
        str(d.year),
        f"{d.year}-H{1 if d.month <= 6 else 2}",
        f"{d.year}-Q{(d.month - 1) // 3 + 1}",
    ]


async def _ancestors(conn: aiosqlite.Connection, unit_id: int) -> list[int]:
    sql = """WITH RECURSIVE up(id) AS (
                 SELECT ? UNION ALL
                 SELECT u.parent_id FROM units u JOIN up ON u.id = up.id
                 WHERE u.parent_id IS NOT NULL)
             SELECT id FROM up"""
    async with conn.execute(sql, (unit_id,)) as cur:
        return [row[0] for row in await cur.fetchall()]


async def apply(conn: aiosqlite.Connection, unit_id: int, deltas: Deltas) -> None:
    """Add `deltas` to the unit and every ancestor (inside the caller's transaction)."""
    changes = [(b, m, v) for (b, m), v in deltas.items() if v]
    if not changes:
        return
    rows = [(a, b, m, v) for a in await _ancestors(conn, unit_id) for b, m, v in changes]
    await conn.executemany(
        """INSERT INTO unit_stats (unit_id, bucket, metric, value) VALUES (?, ?, ?, ?)
           ON CONFLICT (unit_id, bucket, metric) DO UPDATE SET value = value + excluded.value""",
        rows,
    )


def add(deltas: Deltas, bucket_list: Iterable[str], metric: str, value: int) -> None:
    for bucket in bucket_list:
        deltas[(bucket, metric)] = deltas.get((bucket, metric), 0) + value


async def member_admissions(
    conn: aiosqlite.Connection, member_id: int, bucket: str, exclude_referral: int | None = None
) -> int:
    """How many admitted referrals the member has in a bucket (for the 'met' metric)."""
    first, last = bucket_range(bucket)
    sql = """SELECT COUNT(*) FROM referrals WHERE member_id = ? AND status = 'admitted'
             AND admitted_on BETWEEN ? AND ? AND id IS NOT ?"""
    async with conn.execute(sql, (member_id, first, last, exclude_referral)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


def bucket_range(bucket: str) -> tuple[str, str]:
    """First and last local date of a period bucket ("2026", "2026-H1", "2026-Q3")."""
    period = parse_period(bucket)
    assert period is not None, bucket
    return period.first_day.isoformat(), period.last_day.isoformat()


# --- the recount: the same figures from the raw rows ----------------------------------------


async def recount(conn: aiosqlite.Connection) -> dict[tuple[int, str, str], int]:
    """Every counter computed from scratch (own unit first, then rolled up the tree)."""
    own: dict[tuple[int, str, str], int] = defaultdict(int)

    async def each(sql: str) -> list[aiosqlite.Row]:
        async with conn.execute(sql) as cur:
            return list(await cur.fetchall())

    for row in await each("SELECT unit_id, COUNT(*) FROM members GROUP BY unit_id"):
        own[(row[0], CURRENT, "members")] += row[1]
    for row in await each(
        "SELECT unit_id, COUNT(*) FROM referrals WHERE status = 'introduced' GROUP BY unit_id"
    ):
        own[(row[0], CURRENT, "pending")] += row[1]
    for row in await each(
        "SELECT unit_id, introduced_on, COUNT(*) FROM referrals GROUP BY unit_id, introduced_on"
    ):
        for b in buckets(row[1]):
            own[(row[0], b, "introduced")] += row[2]
    for row in await each(
        """SELECT unit_id, admitted_on, org, COUNT(*) FROM referrals WHERE status = 'admitted'
           GROUP BY unit_id, admitted_on, org"""
    ):
        for b in buckets(row[1]):
            own[(row[0], b, f"admitted_{row[2]}")] += row[3]
    for row in await each(
        """SELECT unit_id, decided_on, COUNT(*) FROM referrals WHERE status = 'declined'
           GROUP BY unit_id, decided_on"""
    ):
        for b in buckets(row[1]):
            own[(row[0], b, "declined")] += row[2]
    # met: members (by their unit) with at least one admission in the bucket
    met: dict[tuple[int, str], set[int]] = defaultdict(set)
    for row in await each(
        """SELECT m.unit_id, r.member_id, r.admitted_on FROM referrals r
           JOIN members m ON m.id = r.member_id WHERE r.status = 'admitted'"""
    ):
        for b in buckets(row[2]):
            met[(row[0], b)].add(row[1])
    for (unit, b), people in met.items():
        own[(unit, b, "met")] += len(people)
    for row in await each("SELECT unit_id, year, org, value FROM targets"):
        own[(row[0], str(row[1]), f"target_{row[2]}")] += row[3]
    for row in await each(
        """SELECT t.unit_id, t.year, (SELECT COUNT(*) FROM members m WHERE m.unit_id = t.unit_id)
           FROM targets t GROUP BY t.unit_id, t.year"""
    ):
        own[(row[0], str(row[1]), "members_targeted")] += row[2]
    parent = {row[0]: row[1] for row in await each("SELECT id, parent_id FROM units")}
    total: dict[tuple[int, str, str], int] = defaultdict(int)
    for (unit, b, metric), value in own.items():
        current: int | None = unit
        seen = 0
        while current is not None and seen < 10_000:
            total[(current, b, metric)] += value
            current = parent.get(current)
            seen += 1
    return {key: value for key, value in total.items() if value}


async def maintained(conn: aiosqlite.Connection) -> dict[tuple[int, str, str], int]:
    async with conn.execute("SELECT unit_id, bucket, metric, value FROM unit_stats") as cur:
        return {(r[0], r[1], r[2]): r[3] for r in await cur.fetchall() if r[3]}


async def rebuild(conn: aiosqlite.Connection) -> None:
    """Replace every counter with the recount (after the tree itself changed)."""
    fresh = await recount(conn)
    await conn.execute("DELETE FROM unit_stats")
    await conn.executemany(
        "INSERT INTO unit_stats (unit_id, bucket, metric, value) VALUES (?, ?, ?, ?)",
        [(u, b, m, v) for (u, b, m), v in fresh.items()],
    )


async def differences(conn: aiosqlite.Connection) -> list[tuple[tuple[int, str, str], int, int]]:
    """(key, maintained, recounted) wherever they differ; empty when all is well."""
    kept, fresh = await maintained(conn), await recount(conn)
    return [
        (key, kept.get(key, 0), fresh.get(key, 0))
        for key in sorted(set(kept) | set(fresh))
        if kept.get(key, 0) != fresh.get(key, 0)
    ]
