"""Vinh danh: who brought the most youths in, and which units are furthest ahead (/vinhdanh)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from storage.db import Database
from storage.periods import Period
from storage.stats import Figures, report
from storage.units import SUBTREE
from storage.validation import sort_key

T = TypeVar("T")


@dataclass(frozen=True)
class Honoured:
    rank: int  # competition ranking: equal scores share a rank (1, 1, 3)
    name: str
    where: str  # the member's unit
    admitted: int


def ranked(items: Sequence[T], score: Callable[[T], float], limit: int) -> list[tuple[int, T]]:
    """The best `limit`, and everyone tied with the last of them: ties are never cut."""
    ordered = sorted(items, key=lambda item: -score(item))
    shown: list[tuple[int, T]] = []
    for position, item in enumerate(ordered, start=1):
        rank = shown[-1][0] if shown and score(shown[-1][1]) == score(item) else position
        if rank > limit:
            break
        shown.append((rank, item))
    return shown


async def top_members(db: Database, unit_id: int, period: Period, limit: int) -> list[Honoured]:
    """Members of the subtree by youths admitted in the period (at least one)."""
    sql = f"""{SUBTREE}
              SELECT m.full_name AS name, u.name AS unit, COUNT(*) AS admitted
              FROM referrals r JOIN members m ON m.id = r.member_id
              JOIN units u ON u.id = m.unit_id
              WHERE r.status = 'admitted' AND r.admitted_on BETWEEN ? AND ?
                AND r.unit_id IN (SELECT id FROM sub)
              GROUP BY m.id"""
    args = (json.dumps([unit_id]), period.first_day.isoformat(), period.last_day.isoformat())
    async with db.read() as conn, conn.execute(sql, args) as cur:
        rows = [(row["name"], row["unit"], row["admitted"]) for row in await cur.fetchall()]
    rows.sort(key=lambda row: sort_key(row[0].split()[-1] + " " + row[0]))  # by given name
    return [
        Honoured(rank, name, where, admitted)
        for rank, (name, where, admitted) in ranked(rows, lambda row: row[2], limit)
    ]


async def units_ahead(
    db: Database, unit_id: int, period: Period, limit: int
) -> list[tuple[int, Figures]]:
    """Child units by how far their progress is ahead of the share expected by now."""
    found = await report(db, unit_id, period)
    if found is None:
        return []
    with_target = [f for f in found.children if f.target > 0]
    with_target.sort(key=lambda f: sort_key(f.unit.name))
    return ranked(with_target, lambda f: round(f.admitted / f.target - f.expected_share, 6), limit)
