"""Rows of the inspection report that grow with the country, read a chunk at a time.

A national export lists a million admissions: they are read in chunks of a few thousand, each
in its own short read (the bot keeps answering between two), and handed on before the next
chunk is read, so memory holds one chunk whatever the size of the subtree.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date

import aiosqlite

from storage import units
from storage.db import Database
from storage.periods import Period
from storage.units import Unit
from storage.validation import Org, mask_phone

CHUNK = 5_000
# Above this many admissions, walking the period's admissions in date order (and skipping
# other subtrees) beats sorting the subtree's admissions again for every chunk: measured on
# 80,000 units and 2 M referrals, 26,000 rows sort in 0.5 s, 1.1 M rows walk in 20 s.
DATE_WALK_FROM = 150_000


@dataclass(frozen=True)
class AdmissionRow:
    """One admitted youth as the inspector checks them."""

    referral: int
    admitted_on: date
    youth: str
    birth_date: date | None  # None when only the year is known
    birth_year: int
    org: Org
    unit: str
    introducer: str  # the member, or the name the unit's records give; "" when unknown
    introduced_on: date
    decided_by: str | None  # the leader who admitted them, while still a member
    phone: str | None  # masked
    introducer_gone: bool = False  # the introducing member erased their data

    @property
    def age(self) -> int:
        """Age on the admission day; by years alone when only the birth year is known."""
        if self.birth_date is None:
            return self.admitted_on.year - self.birth_year
        born, on = self.birth_date, self.admitted_on
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


_SELECT = """
    SELECT r.id, r.admitted_on, r.full_name, r.birth_date, r.birth_year, r.org,
           u.name AS unit, COALESCE(m.full_name, r.introducer, '') AS introducer,
           r.introducer_gone,
           COALESCE(r.introduced_on, substr(r.introduced_at, 1, 10)) AS introduced_on,
           d.full_name AS decider, r.phone
    FROM referrals r {hint}
    JOIN units u ON u.id = r.unit_id
    LEFT JOIN members m ON m.id = r.member_id
    LEFT JOIN members d ON d.id = r.decided_by
    WHERE r.status = 'admitted' {within}
      AND r.admitted_on BETWEEN ? AND ? AND (r.admitted_on, r.id) > (?, ?)
    ORDER BY r.admitted_on, r.id
    LIMIT ?"""


def _row(row: aiosqlite.Row) -> AdmissionRow:
    return AdmissionRow(
        referral=row["id"],
        admitted_on=date.fromisoformat(row["admitted_on"]),
        youth=row["full_name"],
        birth_date=date.fromisoformat(row["birth_date"]) if row["birth_date"] else None,
        birth_year=row["birth_year"],
        org=Org(row["org"]),
        unit=row["unit"],
        introducer=row["introducer"],
        introduced_on=date.fromisoformat(row["introduced_on"]),
        decided_by=row["decider"],
        phone=mask_phone(row["phone"]) if row["phone"] else None,
        introducer_gone=bool(row["introducer_gone"]),
    )


async def _subtrees(conn: aiosqlite.Connection, unit_ids: Sequence[int]) -> tuple[list[int], bool]:
    """Every unit under the given ones, and whether that is the whole tree (no filter needed)."""
    marks = ",".join("?" * len(unit_ids))
    sql = f"""WITH RECURSIVE sub(id) AS (
                  SELECT id FROM units WHERE id IN ({marks})
                  UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)
              SELECT id FROM sub"""
    async with conn.execute(sql, list(unit_ids)) as cur:
        found = [row[0] for row in await cur.fetchall()]
    async with conn.execute("SELECT count(*) FROM units") as cur:
        row = await cur.fetchone()
    return found, row is not None and row[0] == len(found)


async def admission_rows(
    db: Database,
    unit_ids: Sequence[int],
    period: Period,
    expected: int = 0,
    chunk: int = CHUNK,
) -> AsyncIterator[list[AdmissionRow]]:
    """The period's admissions in the units' subtrees, by admission date, `chunk` at a time.

    `expected` is how many there should be (the counters know): it chooses the query plan.
    Chunks follow each other by (admission date, number), so a decision taken during a long
    export neither repeats nor skips a row that was there before it.
    """
    if not unit_ids:
        return
    async with db.read() as conn:
        subtree, whole = await _subtrees(conn, unit_ids)
    # The ids go in as one JSON parameter: no limit on their number, parsed once per chunk.
    within, first = "", []
    if not whole:
        within = "AND r.unit_id IN (SELECT value FROM json_each(?))"
        first = [json.dumps(subtree)]
    walk = whole or expected > DATE_WALK_FROM
    sql = _SELECT.format(hint="INDEXED BY referrals_admitted" if walk else "", within=within)
    bounds = [period.first_day.isoformat(), period.last_day.isoformat()]
    after: tuple[str, int] = ("", 0)
    while True:
        async with db.read() as conn, conn.execute(sql, [*first, *bounds, *after, chunk]) as cur:
            rows = await cur.fetchall()
        if rows:
            yield [_row(row) for row in rows]
        if len(rows) < chunk:
            return
        after = (rows[-1]["admitted_on"], rows[-1]["id"])


async def lineage(db: Database, unit_id: int) -> list[Unit]:
    """The unit and its parents, root last: names the report's levels and its heading."""
    async with db.read() as conn:
        return await units.ancestors(conn, unit_id)


async def roots(db: Database) -> list[Unit]:
    """The top units of every tree (a Đoàn tree, a Hội tree…)."""
    async with db.read() as conn:
        return await units.children(conn, None)


@dataclass(frozen=True)
class MoveRow:
    """A member who moved from one unit to another (member_moves), as the audit lists it."""

    move: int
    moved_on: date  # the local day of the move
    member: str
    from_unit: str
    to_unit: str


_MOVES = """
    SELECT mv.id, mv.at, mv.moved_on, m.full_name, f.name AS from_unit, t.name AS to_unit
    FROM member_moves mv
    JOIN members m ON m.id = mv.member_id
    JOIN units f ON f.id = mv.from_unit_id
    JOIN units t ON t.id = mv.to_unit_id
    WHERE mv.moved_on BETWEEN ? AND ? {within} AND (mv.at, mv.id) > (?, ?)
    ORDER BY mv.at, mv.id
    LIMIT ?"""


async def move_rows(
    db: Database, unit_ids: Sequence[int], period: Period, chunk: int = CHUNK
) -> AsyncIterator[list[MoveRow]]:
    """The moves of the period (by their local day) whose old or new unit lies in the units'
    subtrees, oldest first, `chunk` at a time."""
    if not unit_ids:
        return
    async with db.read() as conn:
        subtree, whole = await _subtrees(conn, unit_ids)
    within, first = "", []
    if not whole:
        within = """AND (mv.from_unit_id IN (SELECT value FROM json_each(?))
                      OR mv.to_unit_id IN (SELECT value FROM json_each(?)))"""
        first = [json.dumps(subtree)] * 2
    sql = _MOVES.format(within=within)
    bounds = [period.first_day.isoformat(), period.last_day.isoformat()]
    after: tuple[str, int] = ("", 0)
    while True:
        async with db.read() as conn, conn.execute(sql, [*bounds, *first, *after, chunk]) as cur:
            rows = await cur.fetchall()
        if rows:
            yield [
                MoveRow(
                    move=row["id"],
                    moved_on=date.fromisoformat(row["moved_on"]),
                    member=row["full_name"],
                    from_unit=row["from_unit"],
                    to_unit=row["to_unit"],
                )
                for row in rows
            ]
        if len(rows) < chunk:
            return
        after = (rows[-1]["at"], rows[-1]["id"])
