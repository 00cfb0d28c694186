"""Figures for /stats and the inspection report, read from the maintained counters.

A unit's figures are its whole subtree's. Counts are by admission date for admissions, by
referral date for introductions, by decision date for declines (all local dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import aiosqlite

from storage import units
from storage.counters import CURRENT
from storage.db import Database
from storage.periods import Period
from storage.units import Unit
from storage.validation import mask_phone, sort_key


@dataclass(frozen=True)
class Figures:
    unit: Unit
    members: int
    met: int
    introduced: int
    admitted_doan: int
    admitted_hoi: int
    declined: int
    pending: int
    target: int
    expected_share: float
    defaulted: int = 0  # members counting one each because their unit has no target set

    @property
    def admitted(self) -> int:
        return self.admitted_doan + self.admitted_hoi

    @property
    def progress(self) -> float | None:
        return self.admitted / self.target if self.target else None

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


async def _figures(
    conn: aiosqlite.Connection, found: list[Unit], period: Period
) -> dict[int, Figures]:
    if not found:
        return {}
    year, label = str(period.year), period.label()
    values: dict[tuple[int, str], int] = {}
    # Chunks keep the statement under SQLite's parameter limit on a national tree.
    for start in range(0, len(found), 500):
        chunk = found[start : start + 500]
        marks = ",".join("?" * len(chunk))
        # The period's events, the current state, and the year's targets: nothing else.
        sql = f"""SELECT unit_id, metric, value FROM unit_stats
                  WHERE unit_id IN ({marks}) AND (bucket IN (?, ?) OR (bucket = ? AND metric IN
                        ('target_doan', 'target_hoi', 'members_targeted')))"""
        args = [u.id for u in chunk] + [CURRENT, label, year]
        async with conn.execute(sql, args) as cur:
            for unit_id, metric, value in await cur.fetchall():
                values[(unit_id, metric)] = value

    def get(unit_id: int, metric: str) -> int:
        return values.get((unit_id, metric), 0)

    result = {}
    for unit in found:
        members = get(unit.id, "members")
        target = (
            get(unit.id, "target_doan")
            + get(unit.id, "target_hoi")
            + members
            - get(unit.id, "members_targeted")
        )
        result[unit.id] = Figures(
            unit=unit,
            members=members,
            met=get(unit.id, "met"),
            introduced=get(unit.id, "introduced"),
            admitted_doan=get(unit.id, "admitted_doan"),
            admitted_hoi=get(unit.id, "admitted_hoi"),
            declined=get(unit.id, "declined"),
            pending=get(unit.id, "pending"),
            target=target,
            expected_share=period.expected_share,
            defaulted=members - get(unit.id, "members_targeted"),
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
    introducer: str
    phone: str | None  # masked


async def admissions(db: Database, unit_id: int, period: Period) -> list[Admission]:
    sql = """WITH RECURSIVE sub(id) AS (
                 SELECT ? UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)
             SELECT r.admitted_on, r.full_name, r.org, u.name AS unit, m.full_name AS member,
                    r.phone
             FROM referrals r JOIN units u ON u.id = r.unit_id
             JOIN members m ON m.id = r.member_id
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
        )
        for row in rows
    ]
