"""The picture of a unit for its leader: members, 1+1, referrals and target, this year."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from storage import targets, units
from storage.clock import to_db
from storage.db import Database
from storage.periods import Period, expected_share_on
from storage.targets import Target
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
    target: Target
    expected_share: float
    children: list[Unit]

    @property
    def progress(self) -> float | None:
        return self.admitted / self.target.total if self.target.total else None


async def picture(db: Database, unit_id: int, today: date, tz: ZoneInfo) -> UnitPicture | None:
    year = Period(today.year)
    start, end = (to_db(moment) for moment in year.utc_bounds(tz))
    first, last = year.first_day.isoformat(), year.last_day.isoformat()
    scope = json.dumps([unit_id])
    async with db.read() as conn:
        unit = await units.get(conn, unit_id)
        if unit is None:
            return None
        sql = f"""{SUBTREE}
            SELECT m.full_name,
                   EXISTS (SELECT 1 FROM referrals r WHERE r.member_id = m.id
                           AND r.status = 'admitted' AND r.admitted_on BETWEEN ? AND ?) AS met
            FROM members m WHERE m.unit_id IN (SELECT id FROM sub) ORDER BY m.id"""
        async with conn.execute(sql, (scope, first, last)) as cur:
            rows = sorted(await cur.fetchall(), key=lambda r: person_sort_key(r["full_name"]))
        sql = f"""{SUBTREE}
            SELECT
              SUM(introduced_at >= ? AND introduced_at < ?) AS introduced,
              SUM(status = 'admitted' AND admitted_on BETWEEN ? AND ?) AS admitted,
              SUM(status = 'declined' AND decided_at >= ? AND decided_at < ?) AS declined,
              SUM(status = 'introduced') AS pending
            FROM referrals WHERE unit_id IN (SELECT id FROM sub)"""
        args = (scope, start, end, first, last, start, end)
        async with conn.execute(sql, args) as cur:
            counts = await cur.fetchone()
        target = await targets.subtree_target(conn, unit_id, year.year)
        kids = await units.children(conn, unit_id)
    assert counts is not None
    return UnitPicture(
        unit=unit,
        year=year.year,
        members=len(rows),
        met=[row["full_name"] for row in rows if row["met"]],
        not_met=[row["full_name"] for row in rows if not row["met"]],
        introduced=int(counts["introduced"] or 0),
        admitted=int(counts["admitted"] or 0),
        declined=int(counts["declined"] or 0),
        pending=int(counts["pending"] or 0),
        target=target,
        expected_share=expected_share_on(today),
        children=kids,
    )
