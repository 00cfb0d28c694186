"""Referrals (giới thiệu): logging a youth, duplicate checks, a member's year."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import aiosqlite

from storage import conversations, counters
from storage.clock import Clock, from_db, to_db
from storage.conversations import ConversationKey
from storage.db import Database
from storage.members import Member
from storage.periods import Period
from storage.units import SUBTREE
from storage.validation import Birth, Org, ReferralIn, name_key


class Status(StrEnum):
    INTRODUCED = "introduced"  # đã giới thiệu, chờ xét
    ADMITTED = "admitted"  # đã kết nạp
    DECLINED = "declined"  # không kết nạp
    WITHDRAWN = "withdrawn"  # người giới thiệu đã rút


@dataclass(frozen=True)
class Referral:
    id: int
    member_id: int
    unit_id: int
    full_name: str
    birth: Birth
    phone: str | None
    org: Org
    guardian_consent: bool
    status: Status
    introduced_at: datetime
    admitted_on: date | None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Referral:
        birth_date = row["birth_date"]
        return cls(
            id=row["id"],
            member_id=row["member_id"],
            unit_id=row["unit_id"],
            full_name=row["full_name"],
            birth=Birth.from_json(birth_date) if birth_date else Birth(row["birth_year"]),
            phone=row["phone"],
            org=Org(row["org"]),
            guardian_consent=bool(row["guardian_consent"]),
            status=Status(row["status"]),
            introduced_at=from_db(row["introduced_at"]),
            admitted_on=date.fromisoformat(row["admitted_on"]) if row["admitted_on"] else None,
        )


_COLUMNS = """id, member_id, unit_id, full_name, birth_date, birth_year, phone, org,
              guardian_consent, status, introduced_at, admitted_on, decided_on, introduced_on"""


class DuplicateReferral(Exception):
    """This youth was already introduced (by anyone); says nothing about by whom."""


async def _is_duplicate(
    conn: aiosqlite.Connection, full_name: str | None, birth: Birth | None, phone: str | None
) -> bool:
    if phone:
        sql = "SELECT 1 FROM referrals WHERE phone = ? AND status <> 'withdrawn' LIMIT 1"
        async with conn.execute(sql, (phone,)) as cur:
            if await cur.fetchone():
                return True
    if full_name and birth:
        # A bare birth year matches any full date in that year, and the other way round.
        sql = """SELECT 1 FROM referrals
                 WHERE name_key = ? AND birth_year = ? AND status <> 'withdrawn'
                   AND (birth_date IS NULL OR ? IS NULL OR birth_date = ?) LIMIT 1"""
        day = birth.day.isoformat() if birth.day else None
        async with conn.execute(sql, (name_key(full_name), birth.year, day, day)) as cur:
            if await cur.fetchone():
                return True
    return False


async def already_referred(
    db: Database,
    *,
    full_name: str | None = None,
    birth: Birth | None = None,
    phone: str | None = None,
) -> bool:
    """An early check while the member is still typing; submit() checks again for real."""
    async with db.read() as conn:
        return await _is_duplicate(conn, full_name, birth, phone)


HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def submit(
    db: Database,
    key: ConversationKey,
    member: Member,
    data: ReferralIn,
    clock: Clock,
    tz: ZoneInfo = HANOI,
) -> Referral:
    """Save the referral as `introduced` and end the conversation, in one transaction."""
    async with db.write() as conn:
        duplicate = await _is_duplicate(conn, data.full_name, data.birth, data.phone)
        if duplicate:
            await conversations.clear(conn, key)  # committed: the journey is over either way
        else:
            now = clock.now()
            introduced_on = now.astimezone(tz).date()
            cursor = await conn.execute(
                """INSERT INTO referrals (member_id, unit_id, full_name, name_key, birth_date,
                       birth_year, phone, org, guardian_consent, introduced_at, introduced_on)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    member.id,
                    member.unit_id,
                    data.full_name,
                    name_key(data.full_name),
                    data.birth.day.isoformat() if data.birth.day else None,
                    data.birth.year,
                    data.phone,
                    data.org.value,
                    int(data.guardian_consent),
                    to_db(now),
                    introduced_on.isoformat(),
                ),
            )
            deltas: counters.Deltas = {(counters.CURRENT, "pending"): 1}
            counters.add(deltas, counters.buckets(introduced_on), "introduced", 1)
            await counters.apply(conn, member.unit_id, deltas)
            await conversations.clear(conn, key)
            async with conn.execute(
                f"SELECT {_COLUMNS} FROM referrals WHERE id = ?", (cursor.lastrowid,)
            ) as cur:
                row = await cur.fetchone()
    if duplicate:
        raise DuplicateReferral
    assert row is not None
    return Referral.from_row(row)


@dataclass(frozen=True)
class MemberYear:
    """A member's campaign year: 1+1 is met with one admission in the year."""

    year: int
    referrals: list[Referral]
    admitted: int

    @property
    def met(self) -> bool:
        return self.admitted >= 1

    @property
    def pending(self) -> int:
        return sum(1 for r in self.referrals if r.status is Status.INTRODUCED)


async def member_year(db: Database, member_id: int, year: int, tz: ZoneInfo) -> MemberYear:
    """Referrals introduced or admitted in the local year, newest first."""
    period = Period(year)
    start, end = (to_db(moment) for moment in period.utc_bounds(tz))
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    sql = f"""SELECT {_COLUMNS} FROM referrals
              WHERE member_id = ?
                AND ((introduced_at >= ? AND introduced_at < ?)
                     OR admitted_on BETWEEN ? AND ?)
              ORDER BY introduced_at DESC, id DESC"""
    async with db.read() as conn, conn.execute(sql, (member_id, start, end, first, last)) as cur:
        rows = await cur.fetchall()
    referrals = [Referral.from_row(row) for row in rows]
    admitted = sum(
        1
        for r in referrals
        if r.status is Status.ADMITTED and r.admitted_on and r.admitted_on.year == year
    )
    return MemberYear(year, referrals, admitted)


# --- decisions: kết nạp, không kết nạp, rút, mở lại ------------------------------------------


async def get(db: Database, referral_id: int) -> Referral | None:
    async with (
        db.read() as conn,
        conn.execute(f"SELECT {_COLUMNS} FROM referrals WHERE id = ?", (referral_id,)) as cur,
    ):
        row = await cur.fetchone()
    return Referral.from_row(row) if row else None


async def next_pending(
    db: Database, scope: list[int], exclude_member: int | None, after_id: int = 0
) -> Referral | None:
    """The next referral waiting for a decision in the subtrees of `scope`, by number.

    Wraps around, so "later" cycles through the queue. A leader never gets their own.
    """

    sql = f"""{SUBTREE}
        SELECT {_COLUMNS} FROM referrals
        WHERE status = 'introduced' AND unit_id IN (SELECT id FROM sub)
          AND member_id IS NOT ? AND id > ?
        ORDER BY id LIMIT 1"""
    async with db.read() as conn:
        for start in (after_id, 0):
            async with conn.execute(sql, (json.dumps(scope), exclude_member, start)) as cur:
                row = await cur.fetchone()
            if row is not None:
                return Referral.from_row(row)
    return None


async def count_pending(db: Database, scope: list[int], exclude_member: int | None) -> int:

    sql = f"""{SUBTREE}
        SELECT COUNT(*) FROM referrals
        WHERE status = 'introduced' AND unit_id IN (SELECT id FROM sub) AND member_id IS NOT ?"""
    async with db.read() as conn, conn.execute(sql, (json.dumps(scope), exclude_member)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


class Decision(StrEnum):
    ADMIT = "admit"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"


def admission_problem(referral: Referral, day: date, today: date, tz: ZoneInfo) -> str | None:
    """Why a kết nạp date cannot be right, or None: not in the future, not before the referral."""
    if day > today:
        return "admission_in_future"
    if day < referral.introduced_at.astimezone(tz).date():
        return "admission_before_referral"
    return None


class NotAllowed(Exception):
    """The referral is no longer in a state that allows this change (someone was faster)."""


async def _audit(
    conn: aiosqlite.Connection,
    referral: Referral,
    actor_id: int | None,
    action: Decision,
    after: Status,
    admitted_on: date | None,
    reason: str | None,
    clock: Clock,
    actor_ref: str | None = None,
) -> None:

    def state(status: Status, day: date | None) -> str:
        return json.dumps({"status": status.value, "admitted_on": day.isoformat() if day else None})

    await conn.execute(
        """INSERT INTO referral_audit
               (referral_id, at, actor_id, actor_ref, action, before, after, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            referral.id,
            to_db(clock.now()),
            actor_id,
            actor_ref,
            action.value,
            state(referral.status, referral.admitted_on),
            state(after, admitted_on),
            reason,
        ),
    )


_FROM = {
    Decision.ADMIT: (Status.INTRODUCED,),
    Decision.DECLINE: (Status.INTRODUCED,),
    Decision.WITHDRAW: (Status.INTRODUCED,),
    Decision.REOPEN: (Status.ADMITTED, Status.DECLINED),
}
_TO = {
    Decision.ADMIT: Status.ADMITTED,
    Decision.DECLINE: Status.DECLINED,
    Decision.WITHDRAW: Status.WITHDRAWN,
    Decision.REOPEN: Status.INTRODUCED,
}


async def change_status(
    db: Database,
    referral_id: int,
    action: Decision,
    actor_id: int | None,
    clock: Clock,
    *,
    admitted_on: date | None = None,
    reason: str | None = None,
    tz: ZoneInfo = HANOI,
    actor_ref: str | None = None,  # "channel:user", recorded even for an unregistered admin
) -> Referral:
    """Apply one decision atomically, with its audit row; NotAllowed if the state moved on.

    Two leaders pressing "admitted" at the same moment: the UPDATE is conditional on the
    status, so exactly one of them changes the row and the other gets NotAllowed.
    """
    after = _TO[action]
    if action is Decision.ADMIT and admitted_on is None:
        raise ValueError("an admission needs its date")  # every period count depends on it
    async with db.write() as conn:
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM referrals WHERE id = ?", (referral_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotAllowed
        before = Referral.from_row(row)
        if before.status not in _FROM[action]:
            raise NotAllowed
        day = admitted_on if action is Decision.ADMIT else None
        decided = action in (Decision.ADMIT, Decision.DECLINE)
        now = clock.now()
        decided_on = now.astimezone(tz).date() if decided else None
        old_decided_on = row["decided_on"]
        await conn.execute(
            """UPDATE referrals SET status = ?, admitted_on = ?, decided_at = ?, decided_by = ?,
                   decided_on = ?
               WHERE id = ? AND status = ?""",
            (
                after.value,
                day.isoformat() if day else None,
                to_db(now) if decided else None,
                actor_id if decided else None,
                decided_on.isoformat() if decided_on else None,
                referral_id,
                before.status.value,
            ),
        )
        await _count_change(conn, before, after, day, decided_on, old_decided_on)
        await _audit(conn, before, actor_id, action, after, day, reason, clock, actor_ref)
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM referrals WHERE id = ?", (referral_id,)
        ) as cur:
            row = await cur.fetchone()
    assert row is not None
    return Referral.from_row(row)


async def _member_unit(conn: aiosqlite.Connection, member_id: int) -> int:
    async with conn.execute("SELECT unit_id FROM members WHERE id = ?", (member_id,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def _count_change(
    conn: aiosqlite.Connection,
    before: Referral,
    after: Status,
    admitted_on: date | None,
    decided_on: date | None,
    old_decided_on: str | None,
) -> None:
    """The counter deltas of one status change (called after the row was updated)."""
    deltas: counters.Deltas = {}
    met: counters.Deltas = {}  # counted on the member's own unit
    if before.status is Status.INTRODUCED:
        counters.add(deltas, [counters.CURRENT], "pending", -1)
    if after is Status.INTRODUCED:
        counters.add(deltas, [counters.CURRENT], "pending", 1)
    if after is Status.ADMITTED and admitted_on is not None:
        counters.add(deltas, counters.buckets(admitted_on), f"admitted_{before.org.value}", 1)
        for bucket in counters.buckets(admitted_on):
            if await counters.member_admissions(conn, before.member_id, bucket) == 1:
                counters.add(met, [bucket], "met", 1)  # the first admission in this period
    if before.status is Status.ADMITTED and before.admitted_on is not None:
        old = counters.buckets(before.admitted_on)
        counters.add(deltas, old, f"admitted_{before.org.value}", -1)
        for bucket in old:
            if await counters.member_admissions(conn, before.member_id, bucket) == 0:
                counters.add(met, [bucket], "met", -1)  # no admission left in this period
    if after is Status.DECLINED and decided_on is not None:
        counters.add(deltas, counters.buckets(decided_on), "declined", 1)
    if before.status is Status.DECLINED and old_decided_on:
        counters.add(deltas, counters.buckets(old_decided_on), "declined", -1)
    await counters.apply(conn, before.unit_id, deltas)
    if met:
        await counters.apply(conn, await _member_unit(conn, before.member_id), met)


async def admitted_in_year(db: Database, member_id: int, year: int) -> int:
    sql = """SELECT COUNT(*) FROM referrals WHERE member_id = ? AND status = 'admitted'
             AND admitted_on BETWEEN ? AND ?"""
    args = (member_id, f"{year:04d}-01-01", f"{year:04d}-12-31")
    async with db.read() as conn, conn.execute(sql, args) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def forget(conn: aiosqlite.Connection, referral_id: int) -> None:
    """Delete a referral for good (erasure), taking its counts out first."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM referrals WHERE id = ?", (referral_id,)
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return
    referral = Referral.from_row(row)
    # Reverse its current state, as a withdrawal (or a reopening) would, then its introduction.
    if referral.status in (Status.ADMITTED, Status.DECLINED):
        await conn.execute(
            "UPDATE referrals SET status = 'withdrawn', admitted_on = NULL WHERE id = ?",
            (referral_id,),
        )
        await _count_change(conn, referral, Status.WITHDRAWN, None, None, row["decided_on"])
    elif referral.status is Status.INTRODUCED:
        await _count_change(conn, referral, Status.WITHDRAWN, None, None, None)
    deltas: counters.Deltas = {}
    counters.add(deltas, counters.buckets(row["introduced_on"]), "introduced", -1)
    await counters.apply(conn, referral.unit_id, deltas)
    await conn.execute("DELETE FROM referrals WHERE id = ?", (referral_id,))
