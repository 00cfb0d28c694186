"""Figures for /stats and the inspection report, read from the maintained counters.

A unit's figures are its whole subtree's. Counts are by admission date for admissions, by
referral date for introductions, by decision date for declines (all local dates). Members and
referrals waiting are those of the period's end: a past period shows who had registered by then
and what was still waiting then (a reopened decision counts as never made).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import aiosqlite

from storage import units
from storage.counters import CURRENT, HEADCOUNT, HEADCOUNTED, TARGET_EXTRA
from storage.db import Database
from storage.periods import Period
from storage.units import Unit
from storage.validation import mask_phone, sort_key


@dataclass(frozen=True)
class Figures:
    unit: Unit
    members: int  # registered in the bot by the period's end
    met: int
    introduced: int
    admitted_doan: int
    admitted_hoi: int
    declined: int
    pending: int  # still waiting at the period's end
    target: int
    expected_share: float
    headcount: int = 0  # official members where the unit file gives them, else registered
    headcounted: int = 0  # units of the subtree with an official headcount
    own_target: int | None = None  # the year's target set on the unit itself
    assigned: int | None = None  # its children's targets, beside its own (None: not shown)

    @property
    def admitted(self) -> int:
        return self.admitted_doan + self.admitted_hoi

    @property
    def progress(self) -> float | None:
        return self.admitted / self.target if self.target else None

    @property
    def coverage(self) -> tuple[int, int] | None:
        """(registered, official members) once the unit file gives a headcount below."""
        return (self.members, self.headcount) if self.headcounted else None

    @property
    def weakness(self) -> tuple[float, int, object]:
        """Sort key, weakest first: least of the target reached, fewest admitted."""
        progress = self.progress if self.progress is not None else 0.0
        return (progress, self.admitted, sort_key(self.unit.name))


@dataclass(frozen=True)
class Report:
    period: Period
    unit: Figures
    children: list[Figures]  # weakest first


_EVENTS = (
    "introduced",
    "admitted_doan",
    "admitted_hoi",
    "declined",
    "withdrawn",
    "joined",
    "left",
)


def _later(period: Period) -> list[str]:
    """The quarters of the period's year after it ends (later years are read as a range)."""
    last = period.months[1] // 3
    return [f"{period.year}-Q{q}" for q in range(last + 1, 5)]


async def _values(
    conn: aiosqlite.Connection, ids: list[int], period: Period
) -> tuple[dict[tuple[int, str, str], int], dict[tuple[int, str], int]]:
    """The counters a period needs: its own, the current state and the year's target; and,
    summed by unit and metric, what happened after it (to go back from now to its end)."""
    year, label, later = str(period.year), period.label(), _later(period)
    values: dict[tuple[int, str, str], int] = {}
    after: dict[tuple[int, str], int] = defaultdict(int)
    read = {CURRENT, label, year}
    wanted = [CURRENT, label, year, *later]
    # Chunks keep the statements under SQLite's parameter limit on a national tree. Two
    # statements, so that each seeks its buckets in the primary key: the period's own, and
    # whatever sorts after the year's last quarter (later years, rarely any).
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"""SELECT unit_id, bucket, metric, value FROM unit_stats
                  WHERE unit_id IN ({marks}) AND bucket IN ({",".join("?" * len(wanted))})"""
        async with conn.execute(sql, [*chunk, *wanted]) as cur:
            for unit_id, bucket, metric, value in await cur.fetchall():
                if bucket in read:
                    values[(unit_id, bucket, metric)] = value
                else:
                    after[(unit_id, metric)] += value  # a later quarter of the year
        sql = f"""SELECT unit_id, metric, SUM(value) FROM unit_stats
                  WHERE unit_id IN ({marks}) AND bucket > ? AND length(bucket) = 4
                  GROUP BY unit_id, metric"""
        async with conn.execute(sql, [*chunk, f"{year}-Q4"]) as cur:
            for unit_id, metric, value in await cur.fetchall():
                after[(unit_id, metric)] += value  # later years
    return values, after


async def _own_targets(
    conn: aiosqlite.Connection, ids: list[int], year: int
) -> dict[int, tuple[int, int | None]]:
    """unit -> (its own target, its children's targets or None without children)."""
    found: dict[int, tuple[int, int | None]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"""SELECT unit_id, SUM(value) FROM targets
                  WHERE year = ? AND unit_id IN ({marks}) GROUP BY unit_id"""
        async with conn.execute(sql, [year, *chunk]) as cur:
            own = {row[0]: row[1] for row in await cur.fetchall()}
        if not own:
            continue
        marks = ",".join("?" * len(own))
        sql = f"""SELECT u.parent_id, COUNT(DISTINCT u.id), COALESCE(SUM(s.value), 0)
                  FROM units u LEFT JOIN unit_stats s ON s.unit_id = u.id
                   AND ((s.bucket = ? AND s.metric = ?) OR (s.bucket = ? AND s.metric = ?))
                  WHERE u.parent_id IN ({marks}) GROUP BY u.parent_id"""
        args = [CURRENT, HEADCOUNT, str(year), TARGET_EXTRA, *own]
        async with conn.execute(sql, args) as cur:
            kids = {row[0]: row[2] for row in await cur.fetchall() if row[1]}
        found.update({unit: (value, kids.get(unit)) for unit, value in own.items()})
    return found


async def _figures(
    conn: aiosqlite.Connection, found: list[Unit], period: Period
) -> dict[int, Figures]:
    if not found:
        return {}
    ids = [u.id for u in found]
    values, after = await _values(conn, ids, period)
    targets = await _own_targets(conn, ids, period.year)
    year, label = str(period.year), period.label()

    def get(unit_id: int, metric: str, bucket: str = label) -> int:
        return values.get((unit_id, bucket, metric), 0)

    result = {}
    for unit in found:
        moved = {metric: after.get((unit.id, metric), 0) for metric in _EVENTS}
        # Back from now to the period's end: who had registered (or moved in, and not out
        # again), what was still waiting.
        members = get(unit.id, "members", CURRENT) - moved["joined"] + moved["left"]
        pending = (
            get(unit.id, "pending", CURRENT)
            - moved["introduced"]
            + moved["admitted_doan"]
            + moved["admitted_hoi"]
            + moved["declined"]
            + moved["withdrawn"]
        )
        headcount = get(unit.id, HEADCOUNT, CURRENT)
        own, assigned = targets.get(unit.id, (None, None))
        result[unit.id] = Figures(
            unit=unit,
            members=members,
            met=get(unit.id, "met"),
            introduced=get(unit.id, "introduced"),
            admitted_doan=get(unit.id, "admitted_doan"),
            admitted_hoi=get(unit.id, "admitted_hoi"),
            declined=get(unit.id, "declined"),
            pending=pending,
            target=headcount + get(unit.id, TARGET_EXTRA, year),
            expected_share=period.expected_share,
            headcount=headcount,
            headcounted=get(unit.id, HEADCOUNTED, CURRENT),
            own_target=own,
            assigned=assigned,
        )
    return result


async def figures(db: Database, unit_id: int, period: Period) -> Figures | None:
    """One unit's figures (its whole subtree), from the maintained counters."""
    async with db.read() as conn:
        unit = await units.get(conn, unit_id)
        if unit is None:
            return None
        return (await _figures(conn, [unit], period))[unit.id]


async def report(db: Database, unit_id: int, period: Period) -> Report | None:
    """The unit and each child, weakest first: a handful of indexed reads at any scale."""
    async with db.read() as conn:
        unit = await units.get(conn, unit_id)
        if unit is None:
            return None
        kids = await units.children(conn, unit_id)
        figures = await _figures(conn, [unit, *kids], period)
    children = sorted((figures[k.id] for k in kids), key=lambda f: f.weakness)
    return Report(period, figures[unit.id], children)


async def levels(db: Database, unit_id: int, period: Period) -> list[list[tuple[Figures, str]]]:
    """Every unit of the subtree with its parent's name, level by level (the unit first)."""
    async with db.read() as conn:
        unit = await units.get(conn, unit_id)
        if unit is None:
            return []
        found: list[list[tuple[Unit, str]]] = [[(unit, "")]]
        while True:
            parents = {u.id: u.name for u, _ in found[-1]}
            ids = list(parents)
            kids: list[Unit] = []
            for start in range(0, len(ids), 500):  # under SQLite's parameter limit anywhere
                chunk = ids[start : start + 500]
                sql = f"""SELECT id, code, name, parent_id, org, invite_generation FROM units
                          WHERE parent_id IN ({",".join("?" * len(chunk))})"""
                async with conn.execute(sql, chunk) as cur:
                    kids += [Unit.from_row(row) for row in await cur.fetchall()]
            kids.sort(key=lambda u: (u.parent_id or 0, u.code))
            if not kids:
                break
            found.append([(k, parents[k.parent_id or 0]) for k in kids])
        figures = await _figures(conn, [u for level in found for u, _ in level], period)
    return [[(figures[u.id], parent) for u, parent in level] for level in found]


@dataclass(frozen=True)
class Admission:
    admitted_on: date
    youth: str
    org: str
    unit: str
    introducer: str  # the member, or the name in the unit's records; "" when unknown or gone
    phone: str | None  # masked
    introducer_gone: bool = False  # the introducing member erased their data


async def admissions(db: Database, unit_id: int, period: Period) -> list[Admission]:
    sql = """WITH RECURSIVE sub(id) AS (
                 SELECT ? UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)
             SELECT r.admitted_on, r.full_name, r.org, u.name AS unit,
                    COALESCE(m.full_name, r.introducer, '') AS member, r.phone, r.introducer_gone
             FROM referrals r JOIN units u ON u.id = r.unit_id
             LEFT JOIN members m ON m.id = r.member_id
             WHERE r.status = 'admitted' AND r.unit_id IN (SELECT id FROM sub)
               AND r.admitted_on BETWEEN ? AND ?
             ORDER BY r.admitted_on, r.id"""
    args = (unit_id, period.first_day.isoformat(), period.last_day.isoformat())
    async with db.read() as conn, conn.execute(sql, args) as cur:
        rows = await cur.fetchall()
    return [
        Admission(
            date.fromisoformat(row["admitted_on"]),
            row["full_name"],
            row["org"],
            row["unit"],
            row["member"],
            mask_phone(row["phone"]) if row["phone"] else None,
            bool(row["introducer_gone"]),
        )
        for row in rows
    ]
