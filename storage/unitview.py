"""The picture of a unit for its leader: members, 1+1, referrals and target, this year."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from storage import stats, units
from storage.db import Database
from storage.periods import Period, expected_share_on
from storage.units import SUBTREE, Unit
from storage.validation import person_sort_key


@dataclass(frozen=True)
class UnitPicture:
    unit: Unit
    year: int
    members: int
    met: list[str]  # names of members who met 1+1 this year
    not_met: list[str]
    introduced: int
    admitted: int
    declined: int
    pending: int
    target: int
    expected_share: float
    children: list[Unit]
    coverage: tuple[int, int] | None = None  # (registered, official members), when known
    assigned: int | None = None  # children's targets, beside the unit's own target

    @property
    def progress(self) -> float | None:
        return self.admitted / self.target if self.target else None


async def picture(db: Database, unit_id: int, today: date, tz: ZoneInfo) -> UnitPicture | None:
    """The year's figures come from the maintained counters (storage/stats.py); only the
    names of who met 1+1 and who has not are read from the rows."""
    year = Period(today.year)
    found = await stats.figures(db, unit_id, year)
    if found is None:
        return None
    first, last = year.first_day.isoformat(), year.last_day.isoformat()
    async with db.read() as conn:
        sql = f"""{SUBTREE}
            SELECT m.full_name,
                   EXISTS (SELECT 1 FROM referrals r WHERE r.member_id = m.id
                           AND r.status = 'admitted' AND r.admitted_on BETWEEN ? AND ?) AS met
            FROM members m WHERE m.unit_id IN (SELECT id FROM sub) ORDER BY m.id"""
        async with conn.execute(sql, (json.dumps([unit_id]), first, last)) as cur:
            rows = sorted(await cur.fetchall(), key=lambda r: person_sort_key(r["full_name"]))
        kids = await units.children(conn, unit_id)
    return UnitPicture(
        unit=found.unit,
        year=year.year,
        members=len(rows),
        met=[row["full_name"] for row in rows if row["met"]],
        not_met=[row["full_name"] for row in rows if not row["met"]],
        introduced=found.introduced,
        admitted=found.admitted,
        declined=found.declined,
        pending=found.pending,
        target=found.target,
        expected_share=expected_share_on(today),
        children=kids,
        coverage=found.coverage,
        assigned=found.assigned,
    )
