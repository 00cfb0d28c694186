"""Per-unit counters for /stats, kept equal to a recount of the raw rows.

Every change (a member registers, a referral is logged, decided, reopened, withdrawn, a target
is set, a member is erased) updates the unit and all its ancestors in the same transaction. A
change of the tree (a re-imported parent) recounts everything. `recount()` and `check()` prove
the maintained figures equal the raw rows.

Additive metrics, summed up the tree: members, pending (bucket ''); introduced, admitted_doan,
admitted_hoi, declined, withdrawn, met, joined, left (by period bucket of the local date).
joined: registrations, and arrivals by a move; left: departures by a move (an erasure takes the
member's events out instead, as if they had never been there).

Tree metrics, where a unit's own figure overrides what is below it (`tree_figures`):
headcount (bucket ''): the official number of members of the subtree where the unit file gives
one (never fewer than are registered below), else the registered members plus the children's;
headcounted (''): how many units of the subtree have an official figure; target_extra (by
year): the year's target minus the headcount. The target of a unit is headcount + target_extra:
its own target where it has one (the figure for its whole subtree), else its children's
targets plus one admission per member not under any of them (1+1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import aiosqlite

from storage.periods import parse_period

Deltas = dict[tuple[str, str], int]  # (bucket, metric) -> change
CURRENT = ""
HEADCOUNT, HEADCOUNTED, TARGET_EXTRA = "headcount", "headcounted", "target_extra"
Figure = tuple[int, str, str]  # (unit id, bucket, metric)


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
    conn: aiosqlite.Connection, member_id: int, unit_id: int, bucket: str
) -> int:
    """How many admitted referrals the member has in a bucket in one unit (for 'met', which
    counts a member in the unit of the referral they brought, not in the one they are in now)."""
    first, last = bucket_range(bucket)
    sql = """SELECT COUNT(*) FROM referrals WHERE member_id = ? AND unit_id = ?
             AND status = 'admitted' AND admitted_on BETWEEN ? AND ?"""
    async with conn.execute(sql, (member_id, unit_id, first, last)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


def bucket_range(bucket: str) -> tuple[str, str]:
    """First and last local date of a period bucket ("2026", "2026-H1", "2026-Q3")."""
    period = parse_period(bucket)
    assert period is not None, bucket
    return period.first_day.isoformat(), period.last_day.isoformat()


# --- tree metrics: a unit's own figure overrides its subtree's ------------------------------


def tree_figures(
    parent: dict[int, int | None],
    official: dict[int, int],
    direct: dict[int, int],
    own: dict[tuple[int, int], int],
) -> dict[Figure, int]:
    """headcount, headcounted and target_extra of every unit, children before parents.

    official: unit -> headcount from the unit file; direct: unit -> members registered in it;
    own: (unit, year) -> the unit's own target (Đoàn + Hội).
    """
    kids: dict[int, list[int]] = defaultdict(list)
    for unit, up in parent.items():
        if up is not None:
            kids[up].append(unit)
    order: list[int] = []
    stack = [unit for unit, up in parent.items() if up is None or up not in parent]
    while stack:  # pre-order; reversed, every unit comes after all of its descendants
        unit = stack.pop()
        order.append(unit)
        stack.extend(kids[unit])
    order.reverse()
    years = sorted({year for _, year in own})
    heads: dict[int, int] = {}
    counted: dict[int, int] = {}
    extra: dict[int, dict[int, int]] = {year: {} for year in years}
    out: dict[Figure, int] = {}
    for unit in order:
        below = direct.get(unit, 0) + sum(heads[k] for k in kids[unit])
        heads[unit] = max(official[unit], below) if unit in official else below
        counted[unit] = (unit in official) + sum(counted[k] for k in kids[unit])
        out[(unit, CURRENT, HEADCOUNT)] = heads[unit]
        out[(unit, CURRENT, HEADCOUNTED)] = counted[unit]
        for year in years:
            mine = own.get((unit, year))
            value = (
                mine - heads[unit] if mine is not None else sum(extra[year][k] for k in kids[unit])
            )
            extra[year][unit] = value
            out[(unit, str(year), TARGET_EXTRA)] = value
    return {key: value for key, value in out.items() if value}


async def _rows(conn: aiosqlite.Connection, sql: str, args: Iterable[object] = ()) -> list:
    async with conn.execute(sql, tuple(args)) as cur:
        return list(await cur.fetchall())


async def _tree_inputs(
    conn: aiosqlite.Connection,
) -> tuple[dict[int, int | None], dict[int, int], dict[int, int], dict[tuple[int, int], int]]:
    parent: dict[int, int | None] = {}
    official: dict[int, int] = {}
    for row in await _rows(conn, "SELECT id, parent_id, headcount FROM units"):
        parent[row[0]] = row[1]
        if row[2] is not None:
            official[row[0]] = row[2]
    direct = {
        row[0]: row[1]
        for row in await _rows(conn, "SELECT unit_id, COUNT(*) FROM members GROUP BY unit_id")
    }
    own = {
        (row[0], row[1]): row[2]
        for row in await _rows(
            conn, "SELECT unit_id, year, SUM(value) FROM targets GROUP BY unit_id, year"
        )
    }
    return parent, official, direct, own


async def refresh_tree(conn: aiosqlite.Connection) -> None:
    """Recompute the tree metrics of every unit (after the unit file changed headcounts)."""
    fresh = tree_figures(*await _tree_inputs(conn))
    await conn.execute(
        "DELETE FROM unit_stats WHERE metric IN (?, ?, ?)", (HEADCOUNT, HEADCOUNTED, TARGET_EXTRA)
    )
    await conn.executemany(
        "INSERT INTO unit_stats (unit_id, bucket, metric, value) VALUES (?, ?, ?, ?)",
        [(u, b, m, v) for (u, b, m), v in fresh.items()],
    )


async def _one(conn: aiosqlite.Connection, sql: str, args: Iterable[object]) -> int | None:
    rows = await _rows(conn, sql, args)
    return rows[0][0] if rows else None


async def _set(
    conn: aiosqlite.Connection, unit_id: int, bucket: str, metric: str, value: int
) -> None:
    if value:
        await conn.execute(
            """INSERT INTO unit_stats (unit_id, bucket, metric, value) VALUES (?, ?, ?, ?)
               ON CONFLICT (unit_id, bucket, metric) DO UPDATE SET value = excluded.value""",
            (unit_id, bucket, metric, value),
        )
    else:
        await conn.execute(
            "DELETE FROM unit_stats WHERE unit_id = ? AND bucket = ? AND metric = ?",
            (unit_id, bucket, metric),
        )


_KIDS_SUM = """SELECT COALESCE(SUM(s.value), 0) FROM units u
               JOIN unit_stats s ON s.unit_id = u.id AND s.bucket = ? AND s.metric = ?
               WHERE u.parent_id = ?"""


async def follow_tree(
    conn: aiosqlite.Connection, unit_id: int, years: Iterable[int] | None = None
) -> None:
    """Recompute headcount and target_extra of the unit and its ancestors, bottom up, from their
    children's stored figures (after a member joined or left it, or its target changed).

    Only the chain can change: every other unit's figures depend on rows that did not."""
    chain = await _ancestors(conn, unit_id)
    if years is None:  # the years in which some unit of the chain has a target of its own
        marks = ",".join("?" * len(chain))
        sql = f"SELECT DISTINCT year FROM targets WHERE unit_id IN ({marks})"
        years = [row[0] for row in await _rows(conn, sql, chain)]
    years = sorted(set(years))
    for unit in chain:
        direct = await _one(conn, "SELECT COUNT(*) FROM members WHERE unit_id = ?", (unit,))
        below = (direct or 0) + (await _one(conn, _KIDS_SUM, (CURRENT, HEADCOUNT, unit)) or 0)
        official = await _one(conn, "SELECT headcount FROM units WHERE id = ?", (unit,))
        heads = max(official, below) if official is not None else below
        await _set(conn, unit, CURRENT, HEADCOUNT, heads)
        for year in years:
            sql = "SELECT SUM(value) FROM targets WHERE unit_id = ? AND year = ?"
            mine = await _one(conn, sql, (unit, year))
            if mine is not None:
                extra = mine - heads
            else:
                extra = await _one(conn, _KIDS_SUM, (str(year), TARGET_EXTRA, unit)) or 0
            await _set(conn, unit, str(year), TARGET_EXTRA, extra)


# --- the recount: the same figures from the raw rows ----------------------------------------


async def recount(conn: aiosqlite.Connection) -> dict[Figure, int]:
    """Every counter computed from scratch (own unit first, then rolled up the tree)."""
    own: dict[Figure, int] = defaultdict(int)

    async def each(sql: str) -> list[aiosqlite.Row]:
        return await _rows(conn, sql)

    for row in await each("SELECT unit_id, COUNT(*) FROM members GROUP BY unit_id"):
        own[(row[0], CURRENT, "members")] += row[1]
    # joined: each member where they first were (the old unit of their earliest move, else
    # their unit) on the day they registered; a member without a registration date (rows
    # written by other tools) counts as always there. A move: left the one, joined the other.
    # (A database before migration 11, e.g. a backup being verified, has no moves.)
    moves = bool(
        await each("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'member_moves'")
    )
    first_unit = (
        """COALESCE((SELECT mv.from_unit_id FROM member_moves mv
                     WHERE mv.member_id = m.id ORDER BY mv.id LIMIT 1), m.unit_id)"""
        if moves
        else "m.unit_id"
    )
    for row in await each(
        f"""SELECT {first_unit}, m.registered_on, COUNT(*)
            FROM members m WHERE m.registered_on IS NOT NULL GROUP BY 1, 2"""
    ):
        for b in buckets(row[1]):
            own[(row[0], b, "joined")] += row[2]
    moved = """SELECT from_unit_id, to_unit_id, moved_on, COUNT(*) FROM member_moves
               GROUP BY from_unit_id, to_unit_id, moved_on"""
    for row in await each(moved) if moves else []:
        for b in buckets(row[2]):
            own[(row[0], b, "left")] += row[3]
            own[(row[1], b, "joined")] += row[3]
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
    for row in await each(
        """SELECT unit_id, withdrawn_on, COUNT(*) FROM referrals
           WHERE status = 'withdrawn' AND withdrawn_on IS NOT NULL
           GROUP BY unit_id, withdrawn_on"""
    ):
        for b in buckets(row[1]):
            own[(row[0], b, "withdrawn")] += row[2]
    # met: members with at least one admission in the bucket, in the unit of the admitted
    # referral (where the member was when they brought the youth, not where they are now). A
    # member with admissions in two units in one period (a move mid-period) counts once in
    # each, and so twice in a unit above both: rare, and each unit's own figure is right.
    met: dict[tuple[int, str], set[int]] = defaultdict(set)
    for row in await each(
        """SELECT unit_id, member_id, admitted_on FROM referrals
           WHERE status = 'admitted' AND member_id IS NOT NULL"""
    ):
        for b in buckets(row[2]):
            met[(row[0], b)].add(row[1])
    for (unit, b), people in met.items():
        own[(unit, b, "met")] += len(people)
    parent = {row[0]: row[1] for row in await each("SELECT id, parent_id FROM units")}
    total: dict[Figure, int] = defaultdict(int)
    for (unit, b, metric), value in own.items():
        current: int | None = unit
        seen = 0
        while current is not None and seen < 10_000:
            total[(current, b, metric)] += value
            current = parent.get(current)
            seen += 1
    total.update(tree_figures(*await _tree_inputs(conn)))  # already whole subtrees' figures
    return {key: value for key, value in total.items() if value}


async def maintained(conn: aiosqlite.Connection) -> dict[Figure, int]:
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


async def differences(conn: aiosqlite.Connection) -> list[tuple[Figure, int, int]]:
    """(key, maintained, recounted) wherever they differ; empty when all is well."""
    kept, fresh = await maintained(conn), await recount(conn)
    return [
        (key, kept.get(key, 0), fresh.get(key, 0))
        for key in sorted(set(kept) | set(fresh))
        if kept.get(key, 0) != fresh.get(key, 0)
    ]
