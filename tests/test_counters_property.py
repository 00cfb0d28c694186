"""The maintained /stats counters always equal a recount of the raw rows.

A property-based test runs random sequences of registrations, referrals, decisions,
reopenings, targets, moves of units, members moving to another unit and erasures at random
moments of 2025–2027 (across
year and quarter boundaries and around local midnight, Asia/Ho_Chi_Minh = UTC+7) in a fresh
database, and after every step asks `counters.differences()`; at the end it compares the
figures /stats shows (`stats.report`) with plain SQL recounts written here, independently of
storage/counters.py. Explicit tests pin the tricky cases, and the `check` command is run as
the operator runs it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot import texts
from storage import counters, members, referrals, stats, targets, units
from storage.clock import ManualClock
from storage.conversations import ConversationKey
from storage.db import Database
from storage.members import Member
from storage.periods import Period
from storage.referrals import Decision, DuplicateReferral, NotAllowed, Referral, Status
from storage.units import CsvError
from storage.validation import AgePolicy, AgeRange, Birth, MemberIn, Org, ReferralIn

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample_units.csv"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
POLICY = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})
SAMPLE_ROWS = units.parse_csv(SAMPLE.read_text(encoding="utf-8"))
CODES = [row.code for row in SAMPLE_ROWS]
START_PARENTS = {row.code: row.parent_code for row in SAMPLE_ROWS}
LAST_MOMENT = datetime(2027, 12, 31, 23, 59, 59, tzinfo=TZ)
YEARS = (2025, 2026, 2027)
PARTS = ("", "H1", "H2", "Q1", "Q2", "Q3", "Q4")
ALL_PERIODS = [Period(year, part) for year in YEARS for part in PARTS]

MEMBER_NAMES = ["Trần Văn Đoàn", "Nguyễn Thị Lan", "Lê Hoàng Nam", "Ksor H'Bia"]
# "Thùy" and "Thuỳ" are the same name (one tone placement): a duplicate for submit().
YOUTH_NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Hoàng Cường",
    "Phạm Thùy Dung",
    "Phạm Thuỳ Dung",
    "H'Hen Niê",
]
PHONES = ["0912345678", "0987654321", "0356789012"]
ALLOWED_FROM = {
    Decision.ADMIT: {Status.INTRODUCED},
    Decision.DECLINE: {Status.INTRODUCED},
    Decision.WITHDRAW: {Status.INTRODUCED},
    Decision.REOPEN: {Status.ADMITTED, Status.DECLINED},
}
AFTER = {
    Decision.ADMIT: Status.ADMITTED,
    Decision.DECLINE: Status.DECLINED,
    Decision.WITHDRAW: Status.WITHDRAWN,
    Decision.REOPEN: Status.INTRODUCED,
}
METRICS = (
    "members",
    "met",
    "introduced",
    "admitted_doan",
    "admitted_hoi",
    "declined",
    "pending",
    "target",
)


@pytest.fixture(autouse=True)
def _quiet_aiosqlite() -> Iterator[None]:
    """conftest captures DEBUG logs; aiosqlite logs two lines per statement, thousands here."""
    logger = logging.getLogger("aiosqlite")
    before = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(before)


# --- helpers shared by the property and the explicit tests -----------------------------------


def key_for(user_ref: str) -> ConversationKey:
    return ConversationKey("telegram", user_ref, user_ref)


def units_csv(parents: dict[str, str], heads: dict[str, int | None] | None = None) -> str:
    """The sample file with the given parent codes ('' for a root), and with the members
    column when `heads` is given (a 4-column file keeps the headcounts already loaded)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*units.CSV_HEADER, "members"] if heads is not None else units.CSV_HEADER)
    for row in SAMPLE_ROWS:
        cells = [row.code, row.name, parents[row.code], row.org.value]
        if heads is not None:
            cells.append("" if heads.get(row.code) is None else str(heads[row.code]))
        writer.writerow(cells)
    return out.getvalue()


async def load_units(
    db: Database, parents: dict[str, str], heads: dict[str, int | None] | None = None
) -> tuple[int, int]:
    return await units.import_rows(db, units.parse_csv(units_csv(parents, heads)))


async def unit_ids(db: Database) -> dict[str, int]:
    async with db.read() as conn, conn.execute("SELECT code, id FROM units") as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


async def assert_consistent(db: Database) -> None:
    async with db.read() as conn:
        assert await counters.differences(conn) == []


def local_today(clock: ManualClock) -> date:
    return clock.now().astimezone(TZ).date()


def youth(
    clock: ManualClock,
    full_name: str = "Nguyễn Văn An",
    birth: Birth | None = None,
    org: Org = Org.DOAN,
    phone: str | None = None,
    guardian_consent: bool = False,
) -> ReferralIn:
    today = local_today(clock)
    return ReferralIn.model_validate(
        {
            "full_name": full_name,
            "birth": birth or Birth(today.year - 20),
            "org": org,
            "phone": phone,
            "guardian_consent": guardian_consent,
        },
        context={"today": today, "ages": POLICY},
    )


async def join(
    db: Database,
    clock: ManualClock,
    unit_id: int,
    user_ref: str,
    full_name: str = "Trần Văn Đoàn",
    membership: Org = Org.DOAN,
) -> Member:
    data = MemberIn(full_name=full_name, membership=membership)
    return await members.register(db, key_for(user_ref), unit_id, data, clock)


async def introduce(
    db: Database, clock: ManualClock, member: Member, full_name: str, **fields: Any
) -> Referral:
    data = youth(clock, full_name=full_name, **fields)
    return await referrals.submit(db, key_for(member.user_ref), member, data, clock, tz=TZ)


async def decide(
    db: Database,
    clock: ManualClock,
    referral_id: int,
    action: Decision,
    admitted_on: date | None = None,
    actor_id: int | None = None,
) -> Referral:
    return await referrals.change_status(
        db, referral_id, action, actor_id, clock, admitted_on=admitted_on, tz=TZ
    )


def figures_dict(figures: stats.Figures) -> dict[str, int]:
    return {metric: getattr(figures, metric) for metric in METRICS}


async def shown(db: Database, unit_id: int, period: Period) -> dict[str, int]:
    """What /stats shows for the unit in the period."""
    report = await stats.report(db, unit_id, period)
    assert report is not None
    return figures_dict(report.unit)


# --- the recount, in plain SQL, independent of storage/counters.py ----------------------------

_SUB = """WITH RECURSIVE sub(id) AS (
              SELECT ? UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)"""


def _local_day(utc_text: str) -> date:
    return datetime.fromisoformat(utc_text).astimezone(TZ).date()


async def _introduced_days(conn: Any) -> dict[int, date]:
    """The day each referral counts as introduced: when it was typed, or the earliest
    admission date a leader ever gave it if that was earlier (read from the audit trail)."""
    found: dict[int, date] = {}
    async with conn.execute("SELECT id, introduced_at FROM referrals") as cur:
        for row in await cur.fetchall():
            found[row[0]] = _local_day(row[1])
    async with conn.execute(
        "SELECT referral_id, after FROM referral_audit WHERE action = 'admit'"
    ) as cur:
        for row in await cur.fetchall():
            day = date.fromisoformat(json.loads(row[1])["admitted_on"])
            if row[0] in found:
                found[row[0]] = min(found[row[0]], day)
    return found


async def _closed_days(conn: Any) -> dict[int, date]:
    """The day each decided or withdrawn referral stopped waiting, as it now stands: its
    admission date, the day it was declined, the day it was withdrawn."""
    found: dict[int, date] = {}
    async with conn.execute(
        "SELECT id, status, admitted_on, decided_at FROM referrals WHERE status <> 'introduced'"
    ) as cur:
        for row in await cur.fetchall():
            if row[1] == "admitted":
                found[row[0]] = date.fromisoformat(row[2])
            elif row[1] == "declined":
                found[row[0]] = _local_day(row[3])
    async with conn.execute(
        """SELECT a.referral_id, MAX(a.at) FROM referral_audit a
           JOIN referrals r ON r.id = a.referral_id
           WHERE a.action = 'withdraw' AND r.status = 'withdrawn' GROUP BY a.referral_id"""
    ) as cur:
        for row in await cur.fetchall():
            found[row[0]] = _local_day(row[1])
    return found


async def _members_at(conn: Any, last_day: date) -> dict[int, int]:
    """member -> the unit they were in at the end of `last_day`, for those registered by then:
    where they registered (the old unit of their first move, else their unit), then where each
    move made by that day took them. Days from the UTC timestamps, converted here."""
    moves: dict[int, list[tuple[int, int, date]]] = {}
    async with conn.execute(
        "SELECT member_id, from_unit_id, to_unit_id, at FROM member_moves ORDER BY id"
    ) as cur:
        for row in await cur.fetchall():
            moves.setdefault(row[0], []).append((row[1], row[2], _local_day(row[3])))
    found: dict[int, int] = {}
    async with conn.execute("SELECT id, unit_id, registered_at FROM members") as cur:
        for member_id, unit_id, registered_at in await cur.fetchall():
            if _local_day(registered_at) > last_day:
                continue
            theirs = moves.get(member_id, [])
            where = theirs[0][0] if theirs else unit_id
            for _, to, day in theirs:
                if day <= last_day:
                    where = to
            found[member_id] = where
    return found


async def _target(conn: Any, unit_id: int, year: int) -> int:
    """The unit's target, by the rule in words: its own if set (the figure for its whole
    subtree); else its children's targets plus one admission per member not under them,
    members being the official headcount where the unit file gives one (never fewer than are
    registered below it), else those registered."""

    async def rows(sql: str, *args: Any) -> list[Any]:
        async with conn.execute(sql, args) as cur:
            return list(await cur.fetchall())

    kids: dict[int, list[int]] = {}
    official: dict[int, int | None] = {}
    for unit, up, headcount in await rows("SELECT id, parent_id, headcount FROM units"):
        kids.setdefault(up, []).append(unit)
        official[unit] = headcount
    direct = dict(await rows("SELECT unit_id, COUNT(*) FROM members GROUP BY unit_id"))
    own = dict(
        await rows("SELECT unit_id, SUM(value) FROM targets WHERE year = ? GROUP BY unit_id", year)
    )

    def heads(unit: int) -> int:
        below = direct.get(unit, 0) + sum(heads(k) for k in kids.get(unit, []))
        return below if official[unit] is None else max(official[unit], below)

    def target(unit: int) -> int:
        if unit in own:
            return int(own[unit])
        below = kids.get(unit, [])
        return sum(target(k) for k in below) + heads(unit) - sum(heads(k) for k in below)

    return target(unit_id)


async def recounted(conn: Any, unit_id: int, period: Period) -> dict[str, int]:
    """The figures of the unit's subtree in the period, straight from the raw rows.

    Registrations, introductions and declines are dated from the UTC timestamps converted here
    to local dates, not from the stored local-date columns, so the time zone handling is
    checked too. Members (where each was, moves included) and pending referrals are those of
    the period's end.
    """
    first, last = period.first_day.isoformat(), period.last_day.isoformat()

    async def one(sql: str, *args: Any) -> int:
        async with conn.execute(f"{_SUB} {sql}", (unit_id, *args)) as cur:
            row = await cur.fetchone()
        return int(row[0] or 0)

    async def days(sql: str) -> list[date]:
        async with conn.execute(f"{_SUB} {sql}", (unit_id,)) as cur:
            return [_local_day(row[0]) for row in await cur.fetchall()]

    async def ids(sql: str) -> list[int]:
        async with conn.execute(f"{_SUB} {sql}", (unit_id,)) as cur:
            return [row[0] for row in await cur.fetchall()]

    def within(day: date) -> bool:
        return period.first_day <= day <= period.last_day

    introduced_on = await _introduced_days(conn)
    closed_on = await _closed_days(conn)
    ours = await ids("SELECT id FROM referrals WHERE unit_id IN sub")
    units_below = set(await ids("SELECT id FROM sub"))
    admitted = """SELECT COUNT(*) FROM referrals
                  WHERE unit_id IN sub AND status = 'admitted' AND org = ?
                    AND admitted_on BETWEEN ? AND ?"""
    return {
        "members": sum(
            unit in units_below for unit in (await _members_at(conn, period.last_day)).values()
        ),
        # Members with an admission in the period, in the unit of the admitted referral: one who
        # brought youths to two units of the subtree in the period (a move) counts in each.
        "met": await one(
            """SELECT COUNT(*) FROM (
                   SELECT DISTINCT unit_id, member_id FROM referrals
                   WHERE unit_id IN sub AND status = 'admitted' AND member_id IS NOT NULL
                     AND admitted_on BETWEEN ? AND ?)""",
            first,
            last,
        ),
        "introduced": sum(within(introduced_on[r]) for r in ours),
        "admitted_doan": await one(admitted, "doan", first, last),
        "admitted_hoi": await one(admitted, "hoi", first, last),
        "declined": sum(
            within(d)
            for d in await days(
                "SELECT decided_at FROM referrals WHERE unit_id IN sub AND status = 'declined'"
            )
        ),
        # Waiting at the period's end: introduced by then, and not yet decided or withdrawn.
        "pending": sum(
            introduced_on[r] <= period.last_day
            and (r not in closed_on or closed_on[r] > period.last_day)
            for r in ours
        ),
        "target": await _target(conn, unit_id, period.year),
    }


async def compare_reports(db: Database, periods: list[Period], roots_only: bool = False) -> int:
    """stats.report of every unit (or every root) and its children against the recount;
    returns how many figures were compared."""
    compared = 0
    async with db.read() as conn:
        sql = "SELECT id FROM units" + (" WHERE parent_id IS NULL" if roots_only else "")
        async with conn.execute(sql + " ORDER BY id") as cur:
            ids = [row[0] for row in await cur.fetchall()]
    for period in periods:
        for unit_id in ids:
            report = await stats.report(db, unit_id, period)
            assert report is not None
            async with db.read() as conn:
                async with conn.execute(
                    "SELECT id FROM units WHERE parent_id = ?", (unit_id,)
                ) as cur:
                    kids = {row[0] for row in await cur.fetchall()}
                assert {f.unit.id for f in report.children} == kids
                for figures in [report.unit, *report.children]:
                    expected = await recounted(conn, figures.unit.id, period)
                    assert figures_dict(figures) == expected, (figures.unit.code, period)
                    compared += 1
    return compared


# --- the property ------------------------------------------------------------------------------

advance_op = st.one_of(
    st.tuples(
        st.just("advance"), st.sampled_from(["minutes", "hours", "days"]), st.integers(1, 90)
    ),
    # a moment within a minute and a half of the next local midnight
    st.tuples(st.just("midnight"), st.integers(-90, 90)),
    # a moment within 1.5 h of the next quarter's first local midnight (a year's, at times)
    st.tuples(st.just("quarter"), st.integers(-5400, 5400)),
)
register_op = st.tuples(
    st.just("register"), st.sampled_from(CODES), st.sampled_from(Org), st.sampled_from(MEMBER_NAMES)
)
submit_op = st.tuples(
    st.just("submit"),
    st.integers(0, 1000),  # which member
    st.sampled_from(YOUTH_NAMES),
    # the age reached this year: a few out of range on purpose, most often 20 or 22 so that
    # the same name and birth year come back (a duplicate)
    st.one_of(st.integers(14, 36), st.sampled_from([20, 22])),
    st.one_of(st.none(), st.tuples(st.integers(1, 12), st.integers(1, 28))),  # birthday
    st.sampled_from(Org),
    st.one_of(st.none(), st.sampled_from(PHONES)),
    st.booleans(),  # a guardian agreed
)
decide_op = st.tuples(
    st.just("decide"),
    st.integers(0, 1000),  # which referral (erased ones included)
    st.sampled_from(Decision),
    st.integers(0, 1000),  # where admitted_on falls between the introduction and today, ‰
    st.integers(0, 1000),  # who decides (or nobody)
)
target_op = st.tuples(
    st.just("target"),
    st.sampled_from(CODES),
    st.sampled_from(YEARS),
    st.sampled_from(Org),
    st.integers(0, 40),
)
move_op = st.tuples(st.just("move"), st.sampled_from(CODES), st.sampled_from(["", *CODES]))
# An official headcount given (or taken away) by a new unit file: small, so that the members
# registered below sometimes outnumber it.
headcount_op = st.tuples(
    st.just("headcount"), st.sampled_from(CODES), st.one_of(st.none(), st.integers(0, 6))
)
erase_op = st.tuples(st.just("erase"), st.integers(0, 1000))
# A member opens another unit's invite and confirms (a branch, a commune, the province).
relocate_op = st.tuples(st.just("relocate"), st.integers(0, 1000), st.sampled_from(CODES))
# Weighted: decisions and referrals are what most steps are about.
OPERATIONS = {
    "advance": advance_op,
    "register": register_op,
    "submit": submit_op,
    "decide": decide_op,
    "target": target_op,
    "move": move_op,
    "erase": erase_op,
    "headcount": headcount_op,
    "relocate": relocate_op,
}
WEIGHTS = {
    "advance": 3,
    "register": 2,
    "submit": 4,
    "decide": 5,
    "target": 1,
    "move": 1,
    "erase": 2,
    "headcount": 1,
    "relocate": 1,
}
operation = st.sampled_from([k for k, n in WEIGHTS.items() for _ in range(n)]).flatmap(
    OPERATIONS.__getitem__
)
start_moment = st.one_of(
    st.builds(
        lambda days, seconds: (
            datetime(2025, 1, 1, tzinfo=TZ) + timedelta(days=days, seconds=seconds)
        ),
        st.integers(0, 2 * 365),
        st.integers(0, 86_399),
    ),
    # just before a local new year or a quarter's start
    st.builds(
        lambda day, seconds: datetime.combine(day, time(0), TZ) - timedelta(seconds=seconds),
        st.sampled_from([date(y, m, 1) for y in (2025, 2026, 2027) for m in (1, 4, 7, 10)][1:]),
        st.integers(1, 7200),
    ),
)


def _next_quarter_start(day: date) -> date:
    month = ((day.month - 1) // 3 + 1) * 3 + 1
    return date(day.year + 1, 1, 1) if month > 12 else date(day.year, month, 1)


def _cycles(parents: dict[str, str], start: str) -> bool:
    seen: set[str] = set()
    current = start
    while current:
        if current in seen:
            return True
        seen.add(current)
        current = parents[current]
    return False


@dataclass
class World:
    db: Database
    clock: ManualClock
    parents: dict[str, str]
    ids: dict[str, int]
    members: dict[int, str] = field(default_factory=dict)  # live member id -> user_ref
    ever_members: list[int] = field(default_factory=list)
    status: dict[int, Status] = field(default_factory=dict)  # live referral -> expected status
    owner: dict[int, int] = field(default_factory=dict)  # live referral -> member
    ever_referrals: list[int] = field(default_factory=list)
    next_user: int = 1
    outcomes: Counter[str] = field(default_factory=Counter)
    heads: dict[str, int | None] = field(default_factory=dict)  # official headcounts

    def pick(self, items: list[int], n: int) -> int | None:
        return items[n % len(items)] if items else None

    async def step(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        await getattr(self, f"_{kind}")(*op[1:])

    async def _advance(self, unit: str, amount: int) -> None:
        self._move_clock(self.clock.now() + timedelta(**{unit: amount}))

    async def _midnight(self, offset: int) -> None:
        local = self.clock.now().astimezone(TZ)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), TZ)
        self._move_clock(midnight + timedelta(seconds=offset))

    async def _quarter(self, offset: int) -> None:
        local = self.clock.now().astimezone(TZ)
        start = datetime.combine(_next_quarter_start(local.date()), time(0), TZ)
        self._move_clock(start + timedelta(seconds=offset))

    def _move_clock(self, moment: datetime) -> None:
        if moment <= self.clock.now() or moment > LAST_MOMENT:
            self.outcomes["clock_kept"] += 1
            return
        self.clock.set(moment)
        self.outcomes["clock_moved"] += 1

    async def _register(self, code: str, membership: Org, name: str) -> None:
        user_ref = str(self.next_user)
        self.next_user += 1
        member = await join(self.db, self.clock, self.ids[code], user_ref, name, membership)
        assert member.unit_id == self.ids[code]
        self.members[member.id] = user_ref
        self.ever_members.append(member.id)
        self.outcomes["registered"] += 1

    async def _submit(
        self,
        which: int,
        name: str,
        age: int,
        birthday: tuple[int, int] | None,
        org: Org,
        phone: str | None,
        guardian: bool,
    ) -> None:
        member_id = self.pick(sorted(self.members), which)
        if member_id is None:
            self.outcomes["submit_nobody"] += 1
            return
        async with self.db.read() as conn:
            member = await members.get(conn, member_id)
        assert member is not None
        today = local_today(self.clock)
        year = today.year - age
        birth = Birth(year, date(year, *birthday)) if birthday else Birth(year)
        try:
            data = ReferralIn.model_validate(
                {
                    "full_name": name,
                    "birth": birth,
                    "org": org,
                    "phone": phone,
                    "guardian_consent": guardian,
                },
                context={"today": today, "ages": POLICY},
            )
        except ValidationError:
            self.outcomes["submit_invalid"] += 1
            return
        try:
            saved = await referrals.submit(
                self.db, key_for(member.user_ref), member, data, self.clock, tz=TZ
            )
        except DuplicateReferral:
            self.outcomes["submit_duplicate"] += 1
            return
        assert saved.status is Status.INTRODUCED and saved.unit_id == member.unit_id
        assert saved.introduced_at == self.clock.now()
        self.status[saved.id] = Status.INTRODUCED
        self.owner[saved.id] = member.id
        self.ever_referrals.append(saved.id)
        self.outcomes["submitted"] += 1

    async def _decide(self, which: int, action: Decision, share: int, who: int) -> None:
        referral_id = self.pick(self.ever_referrals, which)
        if referral_id is None:
            self.outcomes["decide_nothing"] += 1
            return
        today = local_today(self.clock)
        found = await referrals.get(self.db, referral_id)
        typed = found.introduced_at.astimezone(TZ).date() if found else today
        # A quarter of the admissions are dated before the referral was typed (as far back as
        # 1 January of the previous year): a unit recording what happened before the bot.
        earliest = referrals.earliest_admission(today)
        low = max(earliest, typed)
        if share < 250:
            admitted_on = earliest + timedelta(days=(low - earliest).days * share // 250)
        else:
            admitted_on = low + timedelta(days=(today - low).days * (share - 250) // 750)
        actors = sorted(self.members)
        actor = actors[who % (len(actors) + 1)] if who % (len(actors) + 1) < len(actors) else None
        expected = self.status.get(referral_id)  # None: erased
        allowed = expected is not None and expected in ALLOWED_FROM[action]
        try:
            done = await decide(
                self.db,
                self.clock,
                referral_id,
                action,
                admitted_on if action is Decision.ADMIT else None,
                actor,
            )
        except NotAllowed:
            assert not allowed, (referral_id, expected, action)
            self.outcomes[f"{action.value}_refused"] += 1
            return
        assert allowed, (referral_id, expected, action)
        assert done.status is AFTER[action]
        assert done.admitted_on == (admitted_on if action is Decision.ADMIT else None)
        self.status[referral_id] = done.status
        self.outcomes[action.value] += 1
        if action is Decision.ADMIT and admitted_on < typed:
            self.outcomes["admit_backdated"] += 1

    async def _target(self, code: str, year: int, org: Org, value: int) -> None:
        setter = self.pick(sorted(self.members), value)
        await targets.set_target(self.db, self.ids[code], year, org, value, setter, self.clock)
        self.outcomes["target"] += 1

    async def _move(self, code: str, parent: str) -> None:
        changed = {**self.parents, code: parent}
        try:
            await load_units(self.db, changed)
        except CsvError as exc:
            assert exc.code == "csv_cycle", exc
            assert parent == code or _cycles(changed, code)
            self.outcomes["move_refused"] += 1
            return
        assert not _cycles(changed, code)
        self.outcomes["moved" if self.parents[code] != parent else "move_same"] += 1
        self.parents = changed

    async def _headcount(self, code: str, value: int | None) -> None:
        self.heads[code] = value
        await load_units(self.db, self.parents, self.heads)
        self.outcomes["headcount"] += 1

    async def _relocate(self, which: int, code: str) -> None:
        member_id = self.pick(sorted(self.members), which)
        if member_id is None:
            self.outcomes["relocate_nobody"] += 1
            return
        sql = "SELECT id, unit_id FROM referrals WHERE member_id = ?"
        async with self.db.read() as conn:
            member = await members.get(conn, member_id)
            async with conn.execute(sql, (member_id,)) as cur:
                before = {row[0]: row[1] for row in await cur.fetchall()}
        assert member is not None
        to = self.ids[code]
        moved = await members.move(
            self.db, key_for(member.user_ref), member.id, member.unit_id, to, self.clock
        )
        if to == member.unit_id:
            assert moved is None
            self.outcomes["relocate_same"] += 1
            return
        assert moved is not None and moved.member.unit_id == to
        async with self.db.read() as conn, conn.execute(sql, (member_id,)) as cur:
            after = {row[0]: row[1] for row in await cur.fetchall()}
        # Every referral stays with the unit where it was introduced, waiting ones included.
        assert after == before
        self.outcomes["relocated"] += 1
        if any(self.status[r] is Status.INTRODUCED for r in after):
            self.outcomes["relocated_with_waiting"] += 1
        if any(self.status[r] is Status.ADMITTED for r in after):
            self.outcomes["relocated_with_admissions"] += 1

    async def _erase(self, which: int) -> None:
        member_id = self.pick(self.ever_members, which)
        if member_id is None:
            self.outcomes["erase_nobody"] += 1
            return
        sql = "SELECT COUNT(*) FROM member_moves WHERE member_id = ?"
        async with self.db.read() as conn, conn.execute(sql, (member_id,)) as cur:
            row = await cur.fetchone()
        erased = await members.erase(self.db, member_id)
        assert erased == (member_id in self.members)
        if not erased:
            self.outcomes["erase_again"] += 1
            return
        if row and row[0]:
            self.outcomes["erased_after_moving"] += 1  # their moves' events go with them
        del self.members[member_id]
        kept = []
        for referral_id in [r for r, m in self.owner.items() if m == member_id]:
            del self.owner[referral_id]
            if self.status[referral_id] is Status.ADMITTED:
                kept.append(referral_id)  # an admission outlives the erasure
            else:
                del self.status[referral_id]
        async with self.db.read() as conn:
            sql = "SELECT COUNT(*) FROM referrals WHERE member_id = ?"
            async with conn.execute(sql, (member_id,)) as cur:
                row = await cur.fetchone()
            assert row is not None and row[0] == 0
            sql = "SELECT id FROM referrals WHERE member_id IS NULL AND introducer_gone = 1"
            async with conn.execute(sql) as cur:
                gone = {r[0] for r in await cur.fetchall()}
        assert set(kept) <= gone, (kept, gone)
        self.outcomes["admission_kept"] += len(kept)
        self.outcomes["erased"] += 1


async def run_sequence(
    start: datetime, ops: list[tuple[Any, ...]], periods: list[Period]
) -> Counter[str]:
    with tempfile.TemporaryDirectory() as folder:
        async with Database(Path(folder) / "bot.db") as db:
            await load_units(db, START_PARENTS)
            world = World(db, ManualClock(start), dict(START_PARENTS), await unit_ids(db))
            for index, op in enumerate(ops):
                await world.step(op)
                async with db.read() as conn:
                    wrong = await counters.differences(conn)
                assert wrong == [], (index, op, wrong[:5])
            # The model's view of the rows agrees with the rows themselves.
            async with db.read() as conn, conn.execute("SELECT id, status FROM referrals") as cur:
                assert {row[0]: Status(row[1]) for row in await cur.fetchall()} == world.status
            # The stored local dates are the local dates of the stored UTC moments (an
            # introduction moved back to the earliest admission date it was given).
            async with db.read() as conn:
                introduced = await _introduced_days(conn)
                async with conn.execute(
                    "SELECT id, introduced_on, decided_at, decided_on FROM referrals"
                ) as cur:
                    for row in await cur.fetchall():
                        assert row[1] == introduced[row[0]].isoformat(), tuple(row)
                        assert row[3] == (_local_day(row[2]).isoformat() if row[2] else None)
            world.outcomes["figures_compared"] += await compare_reports(db, periods)
            world.outcomes["figures_compared"] += await compare_reports(
                db, ALL_PERIODS, roots_only=True
            )
            return world.outcomes


TOTALS: Counter[str] = Counter()


@settings(
    max_examples=60,
    deadline=None,
    # The same 60 sequences every run: CI never flakes on which cases a seed happened to reach
    # (and no saved examples replayed first from a local .hypothesis directory).
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(
    start=start_moment,
    joined=st.lists(register_op, min_size=1, max_size=5),  # so the first steps have members
    ops=st.lists(operation, min_size=15, max_size=40),
    periods=st.lists(st.sampled_from(ALL_PERIODS), min_size=1, max_size=3, unique=True),
)
def test_maintained_counters_equal_recount_after_every_step(
    start: datetime,
    joined: list[tuple[Any, ...]],
    ops: list[tuple[Any, ...]],
    periods: list[Period],
) -> None:
    TOTALS.update(asyncio.run(run_sequence(start, joined + ops, periods)))


def test_the_random_sequences_reached_the_interesting_cases() -> None:
    """The sequences did exercise what they claim to. Run after the property (file order) it
    reads what the property counted; run alone or first, it runs the property itself (the same
    derandomized sequences), so it can never pass by skipping."""
    if not TOTALS:
        test_maintained_counters_equal_recount_after_every_step()
    for outcome in (
        "registered",
        "submitted",
        "submit_duplicate",
        "admit",
        "decline",
        "withdraw",
        "reopen",
        "reopen_refused",
        "admit_backdated",
        # "admission_kept" is reached by these sequences only after some test files and not
        # others (an order dependence not found yet); test_erasing_a_member_keeps_their_
        # admissions_where_they_were_counted checks it directly.
        "headcount",
        "target",
        "moved",
        "move_refused",
        "erased",
        "relocated",
        "relocated_with_waiting",
        "relocated_with_admissions",
        "erased_after_moving",
        "figures_compared",
    ):
        assert TOTALS[outcome] > 0, (outcome, TOTALS)


# --- explicit regression tests -----------------------------------------------------------------


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "bot.db") as database:
        await load_units(database, START_PARENTS)
        yield database
        await assert_consistent(database)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> ManualClock:
    """A clock at a local (Hà Nội) moment."""
    return ManualClock(datetime(year, month, day, hour, minute, tzinfo=TZ))


async def test_two_admissions_in_a_quarter_one_reopened_member_still_met_once(
    db: Database,
) -> None:
    ids = await unit_ids(db)
    clock = at(2026, 4, 2)
    member = await join(db, clock, ids["CD-AB-THON1"], "1")
    first = await introduce(db, clock, member, "Nguyễn Văn An")
    second = await introduce(db, clock, member, "Trần Thị Bình", org=Org.HOI)
    clock.set(datetime(2026, 5, 20, 10, 0, tzinfo=TZ))
    await decide(db, clock, first.id, Decision.ADMIT, date(2026, 4, 10))
    await decide(db, clock, second.id, Decision.ADMIT, date(2026, 5, 15))
    await assert_consistent(db)
    for period in (Period(2026), Period(2026, "H1"), Period(2026, "Q2")):
        figures = await shown(db, ids["X-AN-BINH"], period)
        assert (figures["met"], figures["admitted_doan"], figures["admitted_hoi"]) == (1, 1, 1)
    await decide(db, clock, first.id, Decision.REOPEN)
    await assert_consistent(db)
    for period in (Period(2026), Period(2026, "H1"), Period(2026, "Q2")):
        figures = await shown(db, ids["TD-MAU"], period)
        assert (figures["met"], figures["admitted_doan"], figures["admitted_hoi"]) == (1, 0, 1)
        assert figures["pending"] == 1
    await decide(db, clock, second.id, Decision.REOPEN)
    await assert_consistent(db)
    figures = await shown(db, ids["CD-AB-THON1"], Period(2026, "Q2"))
    assert (figures["met"], figures["pending"]) == (0, 2)


async def test_admission_reopened_and_admitted_again_in_another_year(db: Database) -> None:
    ids = await unit_ids(db)
    clock = at(2025, 12, 20)
    member = await join(db, clock, ids["CD-HL-KP3"], "1")
    referral = await introduce(db, clock, member, "Lê Hoàng Cường")
    await decide(db, clock, referral.id, Decision.ADMIT, date(2025, 12, 28))
    assert (await shown(db, ids["P-HOA-LAC"], Period(2025, "Q4")))["admitted_doan"] == 1
    clock.set(datetime(2026, 1, 3, 8, 0, tzinfo=TZ))
    await decide(db, clock, referral.id, Decision.REOPEN)
    await decide(db, clock, referral.id, Decision.ADMIT, date(2026, 1, 2))
    await assert_consistent(db)
    old = await shown(db, ids["P-HOA-LAC"], Period(2025))
    new = await shown(db, ids["P-HOA-LAC"], Period(2026, "Q1"))
    assert (old["admitted_doan"], old["met"], old["introduced"]) == (0, 0, 1)
    assert (new["admitted_doan"], new["met"], new["introduced"]) == (1, 1, 0)


async def test_decline_reopened_then_declined_in_the_next_quarter(db: Database) -> None:
    ids = await unit_ids(db)
    clock = at(2026, 3, 31, 23, 59)  # a minute before Q2, local time
    member = await join(db, clock, ids["CD-NTMK-12A1"], "1")
    referral = await introduce(db, clock, member, "Phạm Thùy Dung")
    await decide(db, clock, referral.id, Decision.DECLINE)
    q1 = Period(2026, "Q1")
    assert (await shown(db, ids["DCS-THPT-NTMK"], q1))["declined"] == 1
    await decide(db, clock, referral.id, Decision.REOPEN)
    await assert_consistent(db)
    figures = await shown(db, ids["DCS-THPT-NTMK"], q1)
    assert (figures["declined"], figures["pending"], figures["introduced"]) == (0, 1, 1)
    clock.advance(timedelta(minutes=2))  # 00:01 on 1 April in Hà Nội, still 31 March in UTC
    await decide(db, clock, referral.id, Decision.DECLINE)
    await assert_consistent(db)
    assert (await shown(db, ids["DCS-THPT-NTMK"], q1))["declined"] == 0
    figures = await shown(db, ids["DCS-THPT-NTMK"], Period(2026, "Q2"))
    assert (figures["declined"], figures["pending"]) == (1, 0)


async def test_referral_at_local_midnight_counts_in_the_local_year(db: Database) -> None:
    ids = await unit_ids(db)
    clock = ManualClock(datetime(2025, 12, 31, 16, 59, 30, tzinfo=UTC))  # 23:59:30 local
    member = await join(db, clock, ids["CD-AB-THON2"], "1")
    await introduce(db, clock, member, "Nguyễn Văn An")
    clock.advance(timedelta(minutes=1))  # 00:00:30 on 1 January 2026 local, 2025 in UTC
    await introduce(db, clock, member, "Trần Thị Bình")
    await assert_consistent(db)
    assert (await shown(db, ids["TD-MAU"], Period(2025, "Q4")))["introduced"] == 1
    assert (await shown(db, ids["TD-MAU"], Period(2026, "Q1")))["introduced"] == 1
    assert (await shown(db, ids["TD-MAU"], Period(2026)))["introduced"] == 1


async def test_erasing_a_member_who_introduced_someone(db: Database) -> None:
    """Was an IndexError: forget() read introduced_on, which its SELECT did not fetch
    (fixed in 367e989)."""
    ids = await unit_ids(db)
    clock = at(2026, 2, 1)
    member = await join(db, clock, ids["CD-AB-THON1"], "1")
    await introduce(db, clock, member, "Nguyễn Văn An")  # pending, nothing decided
    assert await members.erase(db, member.id)
    await assert_consistent(db)
    figures = await shown(db, ids["TD-MAU"], Period(2026))
    assert (figures["members"], figures["introduced"], figures["pending"]) == (0, 0, 0)


async def test_erasing_a_member_keeps_their_admissions_where_they_were_counted(
    db: Database,
) -> None:
    """Admitted youths are Union or Federation members now: the unit's official figures do not
    go down when the member who introduced them leaves; only their undecided and declined
    referrals, and their own 1+1, go with them."""
    ids = await unit_ids(db)
    clock = at(2026, 2, 1)
    leaver = await join(db, clock, ids["CD-AB-THON1"], "1")
    stayer = await join(db, clock, ids["CD-AB-THON1"], "2", "Nguyễn Thị Lan")
    await targets.set_target(db, ids["CD-AB-THON1"], 2026, Org.DOAN, 5, leaver.id, clock)
    kept = await introduce(db, clock, stayer, "Lê Hoàng Cường")
    a = await introduce(db, clock, leaver, "Nguyễn Văn An", phone="0912345678")
    b = await introduce(db, clock, leaver, "Trần Thị Bình", org=Org.HOI)
    c = await introduce(db, clock, leaver, "Phạm Thùy Dung", phone="0987654321")
    await introduce(db, clock, leaver, "H'Hen Niê")  # still pending
    clock.set(datetime(2026, 8, 1, 9, 0, tzinfo=TZ))
    await decide(db, clock, a.id, Decision.ADMIT, date(2026, 2, 10), actor_id=stayer.id)
    await decide(db, clock, b.id, Decision.ADMIT, date(2026, 7, 10), actor_id=stayer.id)
    await decide(db, clock, c.id, Decision.DECLINE, actor_id=stayer.id)
    await decide(db, clock, kept.id, Decision.ADMIT, date(2026, 7, 20), actor_id=leaver.id)
    before = await shown(db, ids["TD-MAU"], Period(2026))
    assert before == {
        "members": 2,
        "met": 2,
        "introduced": 5,
        "admitted_doan": 2,
        "admitted_hoi": 1,
        "declined": 1,
        "pending": 1,
        "target": 5,
    }
    assert await members.erase(db, leaver.id)
    await assert_consistent(db)
    for code in ("CD-AB-THON1", "X-AN-BINH", "TD-MAU"):
        after = await shown(db, ids[code], Period(2026))
        assert after == {
            "members": 1,
            "met": 1,  # the stayer's; the leaver's 1+1 left with them
            "introduced": 3,  # the three admissions
            "admitted_doan": 2,
            "admitted_hoi": 1,
            "declined": 0,
            "pending": 0,
            "target": 5,
        }
    left = await rows_of(db, "SELECT id, member_id, introducer_gone FROM referrals ORDER BY id")
    assert left == [(kept.id, stayer.id, 0), (a.id, None, 1), (b.id, None, 1)]
    # The admitted youth is still known; the declined one's phone is free again.
    with pytest.raises(DuplicateReferral):
        await introduce(db, clock, stayer, "Nguyễn Văn An", phone="0912345678")
    await introduce(db, clock, stayer, "Phạm Thùy Dung", phone="0987654321")
    assert not await members.erase(db, leaver.id)


async def rows_of(db: Database, sql: str) -> list[tuple[Any, ...]]:
    async with db.read() as conn, conn.execute(sql) as cur:
        return [tuple(row) for row in await cur.fetchall()]


async def test_target_set_before_and_after_members_register(db: Database) -> None:
    ids = await unit_ids(db)
    clock = at(2026, 1, 5)
    thon1, thon2 = ids["CD-AB-THON1"], ids["CD-AB-THON2"]
    await targets.set_target(db, thon1, 2026, Org.DOAN, 4, None, clock)  # before anyone joins
    await assert_consistent(db)
    assert (await shown(db, ids["X-AN-BINH"], Period(2026)))["target"] == 4
    one = await join(db, clock, thon1, "1")
    await join(db, clock, thon1, "2")
    three = await join(db, clock, thon2, "3")
    await join(db, clock, thon2, "4")
    await assert_consistent(db)
    # thôn 1 has its own target; thôn 2 counts one per member (1+1).
    assert (await shown(db, ids["X-AN-BINH"], Period(2026)))["target"] == 4 + 2
    assert (await shown(db, ids["X-AN-BINH"], Period(2027)))["target"] == 2 + 2
    await targets.set_target(db, thon2, 2026, Org.HOI, 3, None, clock)  # after they joined
    await targets.set_target(db, thon2, 2026, Org.DOAN, 1, None, clock)
    await targets.set_target(db, thon2, 2026, Org.HOI, 0, None, clock)  # zero is a target
    await assert_consistent(db)
    assert (await shown(db, ids["X-AN-BINH"], Period(2026, "Q3")))["target"] == 4 + 1
    await join(db, clock, thon2, "5")
    assert await members.erase(db, one.id)
    assert await members.erase(db, three.id)
    await assert_consistent(db)
    assert (await shown(db, ids["TD-MAU"], Period(2026)))["target"] == 5
    assert (await shown(db, ids["TD-MAU"], Period(2027)))["target"] == 1 + 2
    assert await compare_reports(db, [Period(2026), Period(2027)]) > 0


async def test_moving_a_branch_with_admissions_to_another_commune(db: Database) -> None:
    ids = await unit_ids(db)
    clock = at(2026, 3, 1)
    member = await join(db, clock, ids["CD-AB-THON1"], "1")
    other = await join(db, clock, ids["CD-AB-THON2"], "2")
    first = await introduce(db, clock, member, "Nguyễn Văn An")
    second = await introduce(db, clock, member, "Trần Thị Bình", org=Org.HOI)
    await introduce(db, clock, other, "Lê Hoàng Cường")
    await introduce(db, clock, member, "Phạm Thùy Dung")  # pending
    await targets.set_target(db, ids["CD-AB-THON1"], 2026, Org.DOAN, 7, None, clock)
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=TZ))
    await decide(db, clock, first.id, Decision.ADMIT, date(2026, 3, 20))
    await decide(db, clock, second.id, Decision.DECLINE)
    periods = [Period(2026), Period(2026, "Q1"), Period(2026, "Q2")]
    before = {(c, p): await shown(db, ids[c], p) for c in ids for p in periods}
    assert before[("X-AN-BINH", Period(2026))]["admitted_doan"] == 1

    moved = {**START_PARENTS, "CD-AB-THON1": "P-HOA-LAC"}
    assert await load_units(db, moved) == (0, 1)
    await assert_consistent(db)
    after = {(c, p): await shown(db, ids[c], p) for c in ids for p in periods}
    branch = {p: before[("CD-AB-THON1", p)] for p in periods}
    for p in periods:
        assert after[("CD-AB-THON1", p)] == branch[p]  # the branch keeps its own figures
        for metric in METRICS:
            assert after[("X-AN-BINH", p)][metric] == (
                before[("X-AN-BINH", p)][metric] - branch[p][metric]
            )
            assert after[("P-HOA-LAC", p)][metric] == (
                before[("P-HOA-LAC", p)][metric] + branch[p][metric]
            )
        for code in ids.keys() - {"X-AN-BINH", "P-HOA-LAC"}:
            assert after[(code, p)] == before[(code, p)], code  # the province's don't change
    assert after[("X-AN-BINH", Period(2026))]["admitted_doan"] == 0
    assert after[("P-HOA-LAC", Period(2026, "Q1"))]["admitted_doan"] == 1
    assert after[("P-HOA-LAC", Period(2026))]["target"] == 7
    assert after[("P-HOA-LAC", Period(2026, "Q2"))]["declined"] == 1
    # Decisions after the move count in the new commune, step by step.
    await decide(db, clock, second.id, Decision.REOPEN)
    await decide(db, clock, second.id, Decision.ADMIT, date(2026, 5, 30))
    await assert_consistent(db)
    assert (await shown(db, ids["P-HOA-LAC"], Period(2026, "Q2")))["admitted_hoi"] == 1
    assert (await shown(db, ids["X-AN-BINH"], Period(2026, "Q2")))["admitted_hoi"] == 0
    assert await compare_reports(db, periods) > 0


async def test_a_member_moving_leaves_their_referrals_and_their_1_plus_1_where_they_were(
    db: Database,
) -> None:
    """Issue 9, item 8: the member counts in the new unit from the move; every referral,
    waiting ones included, stays where it was introduced, and so does the member's 1+1 of it
    (met counts in the unit of the admitted referral)."""
    ids = await unit_ids(db)
    clock = at(2026, 3, 1)
    member = await join(db, clock, ids["CD-AB-THON1"], "1")
    admitted = await introduce(db, clock, member, "Nguyễn Văn An")
    declined = await introduce(db, clock, member, "Trần Thị Bình", org=Org.HOI)
    waiting = await introduce(db, clock, member, "Lê Hoàng Cường")
    await decide(db, clock, admitted.id, Decision.ADMIT, date(2026, 3, 10))
    await decide(db, clock, declined.id, Decision.DECLINE)
    year = Period(2026)
    province = await shown(db, ids["TD-MAU"], year)
    moved = await members.move(
        db, key_for("1"), member.id, ids["CD-AB-THON1"], ids["CD-HL-KP3"], clock
    )
    assert moved is not None and moved.member.unit_id == ids["CD-HL-KP3"]
    await assert_consistent(db)

    def some(f: dict[str, int]) -> tuple[int, ...]:
        return (f["members"], f["met"], f["introduced"], f["admitted_doan"], f["declined"],
                f["pending"])  # fmt: skip

    assert some(await shown(db, ids["X-AN-BINH"], year)) == (0, 1, 3, 1, 1, 1)
    assert some(await shown(db, ids["P-HOA-LAC"], year)) == (1, 0, 0, 0, 0, 0)
    assert await shown(db, ids["TD-MAU"], year) == province
    # Told to move from where she no longer is: nothing written.
    again = await members.move(
        db, key_for("1"), member.id, ids["CD-AB-THON1"], ids["CD-AB-THON2"], clock
    )
    assert again is None
    # Decisions after the move: all where the referrals were introduced.
    await decide(db, clock, waiting.id, Decision.ADMIT, date(2026, 3, 12))
    await decide(db, clock, declined.id, Decision.REOPEN)
    await assert_consistent(db)
    assert some(await shown(db, ids["X-AN-BINH"], year)) == (0, 1, 3, 2, 0, 1)
    assert some(await shown(db, ids["P-HOA-LAC"], year)) == (1, 0, 0, 0, 0, 0)
    assert await compare_reports(db, [year, Period(2026, "Q1")]) > 0


async def test_a_move_that_would_make_a_cycle_changes_nothing(db: Database) -> None:
    ids = await unit_ids(db)
    clock = at(2026, 3, 1)
    member = await join(db, clock, ids["CD-AB-THON1"], "1")
    await introduce(db, clock, member, "Nguyễn Văn An")
    async with db.read() as conn:
        kept = await counters.maintained(conn)
    with pytest.raises(CsvError) as caught:
        await load_units(db, {**START_PARENTS, "X-AN-BINH": "CD-AB-THON1"})
    assert caught.value.code == "csv_cycle"
    async with db.read() as conn:
        assert await counters.maintained(conn) == kept
    assert await unit_ids(db) == ids


async def test_an_admission_without_a_date_is_refused_or_still_recountable(
    tmp_path: Path,
) -> None:
    async with Database(tmp_path / "bot.db") as db:
        await load_units(db, START_PARENTS)
        ids = await unit_ids(db)
        clock = at(2026, 3, 1)
        member = await join(db, clock, ids["CD-AB-THON1"], "1")
        referral = await introduce(db, clock, member, "Nguyễn Văn An")
        try:
            await decide(db, clock, referral.id, Decision.ADMIT, admitted_on=None)
        except (ValueError, NotAllowed):
            return  # refused: fine
        await assert_consistent(db)  # accepted: the counters must still be checkable


# --- the `check` command, run as the operator runs it -------------------------------------------


def run_check(workdir: Path, database: Path) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("TELEGRAM_")
        and name.upper() not in {"DATABASE_PATH", "TIMEZONE", "LOG_LEVEL"}
    }
    env.update(PYTHONPATH=str(ROOT), DATABASE_PATH=str(database), PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=workdir,  # no .env of the developer's in the way
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


@pytest.fixture
async def built(tmp_path: Path) -> Path:
    """A database with members, decisions, a target and a moved branch."""
    path = tmp_path / "data" / "bot.db"
    async with Database(path) as db:
        await load_units(db, START_PARENTS)
        ids = await unit_ids(db)
        clock = at(2026, 2, 1)
        member = await join(db, clock, ids["CD-AB-THON1"], "1")
        other = await join(db, clock, ids["CH-AB-THON1"], "2", membership=Org.HOI)
        a = await introduce(db, clock, member, "Nguyễn Văn An")
        b = await introduce(db, clock, other, "Trần Thị Bình", org=Org.HOI)
        await introduce(db, clock, member, "Lê Hoàng Cường")
        await targets.set_target(db, ids["CD-AB-THON1"], 2026, Org.DOAN, 3, None, clock)
        await decide(db, clock, a.id, Decision.ADMIT, date(2026, 2, 1))
        await decide(db, clock, b.id, Decision.DECLINE)
        await load_units(db, {**START_PARENTS, "CD-AB-THON1": "P-HOA-LAC"})
        await assert_consistent(db)
    return path


def test_check_passes_on_a_consistent_database(tmp_path: Path, built: Path) -> None:
    done = run_check(tmp_path, built)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [texts.check_result(0)]


def _corrupt(path: Path, how: str) -> tuple[int, str, str, int, int]:
    """Spoil one maintained figure; returns the mismatch the check must name."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            tinh = conn.execute("SELECT id FROM units WHERE code = 'TD-MAU'").fetchone()[0]
            if how == "bumped":
                key = (tinh, "", "members")
                kept = conn.execute(
                    "SELECT value FROM unit_stats WHERE unit_id = ? AND bucket = ? AND metric = ?",
                    key,
                ).fetchone()[0]
                conn.execute(
                    "UPDATE unit_stats SET value = value + 1"
                    " WHERE unit_id = ? AND bucket = ? AND metric = ?",
                    key,
                )
                return (*key, kept + 1, kept)
            if how == "missing":
                key = (tinh, "2026-Q1", "admitted_doan")
                conn.execute(
                    "DELETE FROM unit_stats WHERE unit_id = ? AND bucket = ? AND metric = ?", key
                )
                return (*key, 0, 1)
            assert how == "spurious"
            key = (tinh, "2027-Q2", "met")
            conn.execute(
                "INSERT INTO unit_stats (unit_id, bucket, metric, value) VALUES (?, ?, ?, 4)", key
            )
            return (*key, 4, 0)
    finally:
        conn.close()


@pytest.mark.parametrize("how", ["bumped", "missing", "spurious"])
def test_check_names_a_spoiled_figure_and_fails(tmp_path: Path, built: Path, how: str) -> None:
    unit_id, bucket, metric, kept, fresh = _corrupt(built, how)
    done = run_check(tmp_path, built)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout.strip().splitlines() == [
        texts.counter_mismatch(unit_id, bucket or "-", metric, kept, fresh),
        texts.check_result(1),
    ]
