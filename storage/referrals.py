"""Referrals (giới thiệu): logging a youth, duplicate checks, a member's year."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import aiosqlite

from storage import conversations, counters, friends
from storage.clock import Clock, from_db, to_db
from storage.conversations import ConversationKey
from storage.db import Database
from storage.members import Member
from storage.periods import Period
from storage.units import SUBTREE
from storage.validation import Birth, Org, ReferralIn, mask_phone, name_key


class Status(StrEnum):
    INTRODUCED = "introduced"  # đã giới thiệu, chờ xét
    ADMITTED = "admitted"  # đã kết nạp
    DECLINED = "declined"  # không kết nạp
    WITHDRAWN = "withdrawn"  # người giới thiệu đã rút


@dataclass(frozen=True)
class Referral:
    id: int
    member_id: int | None  # None: the member erased their data, or an import without one
    unit_id: int
    full_name: str
    birth: Birth
    phone: str | None
    org: Org
    guardian_consent: bool
    status: Status
    introduced_at: datetime
    admitted_on: date | None
    introduced_on: date | None = None  # the local date it counts as introduced
    introducer: str | None = None  # the introducing member's name from a unit's records
    introducer_gone: bool = False  # the introducing member erased their data
    source: str = "chat"  # or "import"
    self_registered: bool = False  # the youth signed up themselves, with their own consent

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
            introduced_on=(
                date.fromisoformat(row["introduced_on"]) if row["introduced_on"] else None
            ),
            introducer=row["introducer"],
            introducer_gone=bool(row["introducer_gone"]),
            source=row["source"],
            self_registered=bool(row["self_registered"]),
        )


_COLUMNS = """id, member_id, unit_id, full_name, birth_date, birth_year, phone, org,
              guardian_consent, status, introduced_at, admitted_on, decided_on, introduced_on,
              withdrawn_on, introducer, introducer_gone, source, self_registered"""


class DuplicateReferral(Exception):
    """This youth was already introduced (by anyone); says nothing about by whom."""


async def same_youth(conn: aiosqlite.Connection, full_name: str, birth: Birth) -> list[Referral]:
    """Live referrals (not withdrawn) of a youth with this name and a compatible birth."""
    sql = f"""SELECT {_COLUMNS} FROM referrals
              WHERE name_key = ? AND birth_year = ? AND status <> 'withdrawn'
                AND (birth_date IS NULL OR ? IS NULL OR birth_date = ?) ORDER BY id"""
    day = birth.day.isoformat() if birth.day else None
    async with conn.execute(sql, (name_key(full_name), birth.year, day, day)) as cur:
        return [Referral.from_row(row) for row in await cur.fetchall()]


async def _is_duplicate(
    conn: aiosqlite.Connection, full_name: str | None, birth: Birth | None, phone: str | None
) -> bool:
    if phone:
        sql = "SELECT 1 FROM referrals WHERE phone = ? AND status <> 'withdrawn' LIMIT 1"
        async with conn.execute(sql, (phone,)) as cur:
            if await cur.fetchone():
                return True
    # A bare birth year matches any full date in that year, and the other way round.
    return bool(full_name and birth and await same_youth(conn, full_name, birth))


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
    *,
    youth: tuple[str, str] | None = None,
) -> Referral:
    """Save the referral as `introduced` and end the conversation, in one transaction.

    `youth`: the (channel, user ref) of a young person who signed up themselves through the
    member's invitation, with their consent (recorded in the same transaction)."""
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
            if youth is not None:
                await friends.mark_self_registered(conn, cursor.lastrowid, *youth, clock)
            row = await _row(conn, cursor.lastrowid)
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
    """The next referral waiting for a decision in the subtrees of `scope`, numbered above
    `after_id`: one pass through the queue, never round again ("later" ends it). A leader never
    gets their own.
    """

    sql = f"""{SUBTREE}
        SELECT {_COLUMNS} FROM referrals
        WHERE status = 'introduced' AND unit_id IN (SELECT id FROM sub)
          AND member_id IS NOT ? AND id > ?
        ORDER BY id LIMIT 1"""
    # "IS NOT NULL" would hide the referrals whose member left from an unregistered admin.
    exclude = exclude_member if exclude_member is not None else -1
    async with db.read() as conn, conn.execute(sql, (json.dumps(scope), exclude, after_id)) as cur:
        row = await cur.fetchone()
    return Referral.from_row(row) if row is not None else None


async def count_pending(db: Database, scope: list[int], exclude_member: int | None) -> int:

    sql = f"""{SUBTREE}
        SELECT COUNT(*) FROM referrals
        WHERE status = 'introduced' AND unit_id IN (SELECT id FROM sub) AND member_id IS NOT ?"""
    exclude = exclude_member if exclude_member is not None else -1
    async with db.read() as conn, conn.execute(sql, (json.dumps(scope), exclude)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class DecidedLine:
    """One decided referral as a leader's list shows it."""

    id: int
    full_name: str
    status: Status
    day: date  # the admission date, or the day it was declined


async def decided_page(
    db: Database, scope: list[int], exclude_member: int | None, offset: int, limit: int
) -> list[DecidedLine]:
    """Admitted and declined referrals in the subtrees of `scope`, the latest decision first,
    `limit` of them from `offset` (ask for one more to know whether a next page exists).
    A leader's own referrals are left out, as /duyet and /molai leave them out."""
    sql = f"""{SUBTREE}
        SELECT id, full_name, status, admitted_on, decided_on, decided_at, introduced_on
        FROM referrals
        WHERE status IN ('admitted', 'declined') AND unit_id IN (SELECT id FROM sub)
          AND member_id IS NOT ?
        ORDER BY COALESCE(decided_at, introduced_at) DESC, id DESC
        LIMIT ? OFFSET ?"""
    exclude = exclude_member if exclude_member is not None else -1
    args = (json.dumps(scope), exclude, max(limit, 0), max(offset, 0))
    async with db.read() as conn, conn.execute(sql, args) as cur:
        found = await cur.fetchall()
    lines = []
    for row in found:
        status = Status(row["status"])
        day = row["admitted_on"] if status is Status.ADMITTED else row["decided_on"]
        day = day or row["introduced_on"]
        lines.append(DecidedLine(row["id"], row["full_name"], status, date.fromisoformat(day)))
    return lines


class Decision(StrEnum):
    ADMIT = "admit"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"


def earliest_admission(today: date) -> date:
    """Admissions are recorded back to 1 January of the previous year: a province that starts
    in November still records its March admissions, and last year's report can be completed."""
    return date(today.year - 1, 1, 1)


def admission_problem(
    referral: Referral | None, day: date, today: date, tz: ZoneInfo
) -> str | None:
    """Why a kết nạp date cannot be right, or None: not in the future, not before 1 January of
    the previous year. It may be before the referral was typed: the referral then counts as
    introduced on that day."""
    if day > today:
        return "admission_in_future"
    if day < earliest_admission(today):
        return "admission_too_old"
    return None


async def _row(conn: aiosqlite.Connection, referral_id: int | None) -> aiosqlite.Row | None:
    """One referral's row, read within the caller's transaction."""
    sql = f"SELECT {_COLUMNS} FROM referrals WHERE id = ?"
    async with conn.execute(sql, (referral_id,)) as cur:
        return await cur.fetchone()


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


@dataclass(frozen=True)
class _State:
    """What the counters see of one referral row."""

    status: Status
    introduced_on: str
    admitted_on: str | None = None
    decided_on: str | None = None
    withdrawn_on: str | None = None

    @classmethod
    def of(cls, row: aiosqlite.Row) -> _State:
        return cls(
            Status(row["status"]),
            row["introduced_on"],
            row["admitted_on"],
            row["decided_on"],
            row["withdrawn_on"],
        )

    def admitted_buckets(self) -> list[str]:
        if self.status is Status.ADMITTED and self.admitted_on:
            return counters.buckets(self.admitted_on)
        return []

    def counts(self, org: Org) -> counters.Deltas:
        """The unit's counters this one row makes."""
        deltas: counters.Deltas = {}
        counters.add(deltas, counters.buckets(self.introduced_on), "introduced", 1)
        if self.status is Status.INTRODUCED:
            counters.add(deltas, [counters.CURRENT], "pending", 1)
        counters.add(deltas, self.admitted_buckets(), f"admitted_{org.value}", 1)
        if self.status is Status.DECLINED and self.decided_on:
            counters.add(deltas, counters.buckets(self.decided_on), "declined", 1)
        if self.status is Status.WITHDRAWN and self.withdrawn_on:
            counters.add(deltas, counters.buckets(self.withdrawn_on), "withdrawn", 1)
        return deltas


def _minus(after: counters.Deltas, before: counters.Deltas) -> counters.Deltas:
    return {key: after.get(key, 0) - before.get(key, 0) for key in after.keys() | before.keys()}


async def _count_change(
    conn: aiosqlite.Connection,
    unit_id: int,
    org: Org,
    member_id: int | None,
    before: _State | None,
    after: _State | None,
) -> None:
    """The counter deltas of one row going from `before` to `after` (None: no row), called
    once the row is written: 'met' is read from the member's admissions in the unit as they
    now are (a member counts in 'met' where their admitted referral is, see counters.recount)."""
    old = before.counts(org) if before else {}
    new = after.counts(org) if after else {}
    await counters.apply(conn, unit_id, _minus(new, old))
    if member_id is None:
        return  # nobody's 1+1 to count: the member left, or the unit's records name no member
    lost = before.admitted_buckets() if before else []
    gained = after.admitted_buckets() if after else []
    met: counters.Deltas = {}
    for bucket in set(lost) | set(gained):
        now = await counters.member_admissions(conn, member_id, unit_id, bucket)
        then = now - gained.count(bucket) + lost.count(bucket)
        counters.add(met, [bucket], "met", (now > 0) - (then > 0))
    await counters.apply(conn, unit_id, met)


class Changed(NotAllowed):
    """The details of the referral changed (a correction) since the leader was shown them."""


def fingerprint(referral: Referral) -> str:
    """What a leader decides on: the youth's details as shown on the card."""
    shown = (referral.full_name, repr(referral.birth), referral.org.value, referral.phone or "")
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:16]


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
    seen: str | None = None,  # the `fingerprint` of what the leader was shown
) -> Referral:
    """Apply one decision atomically, with its audit row; NotAllowed if the state moved on,
    Changed if the youth's details were corrected since the leader saw them (`seen`).

    Two leaders pressing "admitted" at the same moment: the UPDATE is conditional on the
    status, so exactly one of them changes the row and the other gets NotAllowed. An admission
    dated before the referral was typed moves its introduction back to that date.
    """
    after = _TO[action]
    if action is Decision.ADMIT and admitted_on is None:
        raise ValueError("an admission needs its date")  # every period count depends on it
    now = clock.now()
    today = now.astimezone(tz).date()
    async with db.write() as conn:
        row = await _row(conn, referral_id)
        if row is None:
            raise NotAllowed
        before = Referral.from_row(row)
        if before.status not in _FROM[action]:
            raise NotAllowed
        if seen is not None and fingerprint(before) != seen:
            raise Changed
        old = _State.of(row)
        day = admitted_on if action is Decision.ADMIT else None
        decided = action in (Decision.ADMIT, Decision.DECLINE)
        introduced_on = min(old.introduced_on, day.isoformat()) if day else old.introduced_on
        new = _State(
            after,
            introduced_on,
            day.isoformat() if day else None,
            today.isoformat() if decided else None,
            today.isoformat() if after is Status.WITHDRAWN else None,
        )
        await conn.execute(
            """UPDATE referrals SET status = ?, admitted_on = ?, decided_at = ?, decided_by = ?,
                   decided_on = ?, introduced_on = ?, withdrawn_on = ?
               WHERE id = ? AND status = ?""",
            (
                after.value,
                new.admitted_on,
                to_db(now) if decided else None,
                actor_id if decided else None,
                new.decided_on,
                new.introduced_on,
                new.withdrawn_on,
                referral_id,
                before.status.value,
            ),
        )
        await _count_change(conn, before.unit_id, before.org, before.member_id, old, new)
        await _audit(conn, before, actor_id, action, after, day, reason, clock, actor_ref)
        row = await _row(conn, referral_id)
    assert row is not None
    return Referral.from_row(row)


async def admitted_in_year(db: Database, member_id: int, year: int) -> int:
    sql = """SELECT COUNT(*) FROM referrals WHERE member_id = ? AND status = 'admitted'
             AND admitted_on BETWEEN ? AND ?"""
    args = (member_id, f"{year:04d}-01-01", f"{year:04d}-12-31")
    async with db.read() as conn, conn.execute(sql, args) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def forget(conn: aiosqlite.Connection, referral_id: int) -> None:
    """Delete a referral for good (erasure), taking its counts out first."""
    row = await _row(conn, referral_id)
    if row is None:
        return
    referral = Referral.from_row(row)
    await conn.execute("DELETE FROM referrals WHERE id = ?", (referral_id,))
    await _count_change(
        conn, referral.unit_id, referral.org, referral.member_id, _State.of(row), None
    )


async def orphan(conn: aiosqlite.Connection, referral_id: int) -> None:
    """An admission outlives its introducing member's erasure: counted where it was, with the
    member shown as gone; the member's own 1+1 goes with them."""
    row = await _row(conn, referral_id)
    if row is None or row["member_id"] is None:
        return
    state = _State.of(row)
    sql = "UPDATE referrals SET member_id = NULL, introducer_gone = 1 WHERE id = ?"
    await conn.execute(sql, (referral_id,))
    member_id, unit_id = int(row["member_id"]), int(row["unit_id"])
    met: counters.Deltas = {}
    for bucket in state.admitted_buckets():
        if await counters.member_admissions(conn, member_id, unit_id, bucket) == 0:
            counters.add(met, [bucket], "met", -1)  # their last admission there that period
    await counters.apply(conn, unit_id, met)


async def insert_admission(
    conn: aiosqlite.Connection,
    *,
    unit_id: int,
    member_id: int | None,
    introducer: str | None,
    full_name: str,
    birth: Birth,
    org: Org,
    admitted_on: date,
    clock: Clock,
    tz: ZoneInfo,
) -> int:
    """An admission from a unit's records (import-admissions): admitted, introduced that day."""
    now = clock.now()
    state = _State(
        Status.ADMITTED,
        admitted_on.isoformat(),
        admitted_on.isoformat(),
        now.astimezone(tz).date().isoformat(),
    )
    cursor = await conn.execute(
        """INSERT INTO referrals (member_id, unit_id, full_name, name_key, birth_date, birth_year,
               org, status, introduced_at, introduced_on, admitted_on, decided_at, decided_on,
               introducer, source)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'admitted', ?, ?, ?, ?, ?, ?, 'import')""",
        (
            member_id,
            unit_id,
            full_name,
            name_key(full_name),
            birth.day.isoformat() if birth.day else None,
            birth.year,
            org.value,
            to_db(now),
            state.introduced_on,
            state.admitted_on,
            to_db(now),
            state.decided_on,
            introducer,
        ),
    )
    await _count_change(conn, unit_id, org, member_id, None, state)
    return int(cursor.lastrowid or 0)


# --- a member's correction of a referral still waiting for a decision (/sua) ------------------

EDITABLE = ("full_name", "birth", "phone", "org", "guardian_consent")


class NotEditable(Exception):
    """Why a member may not correct this referral: "unknown" (none such of theirs),
    "withdrawn", "decided", or "self" (the youth signed up themselves: their own words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def edit_refusal(referral: Referral | None, member_id: int) -> str | None:
    """Only the introducing member corrects, and only while the referral waits for a decision."""
    if referral is None or referral.member_id != member_id:
        return "unknown"
    if referral.status is Status.WITHDRAWN:
        return "withdrawn"
    if referral.status is not Status.INTRODUCED:
        return "decided"
    if referral.self_registered:
        return "self"
    return None


async def _duplicate_of_other(
    conn: aiosqlite.Connection,
    referral_id: int,
    full_name: str | None,
    birth: Birth | None,
    phone: str | None,
) -> bool:
    if phone:
        sql = """SELECT 1 FROM referrals
                 WHERE phone = ? AND status <> 'withdrawn' AND id <> ? LIMIT 1"""
        async with conn.execute(sql, (phone, referral_id)) as cur:
            if await cur.fetchone():
                return True
    if full_name and birth:
        return any(r.id != referral_id for r in await same_youth(conn, full_name, birth))
    return False


async def duplicate_of_other(
    db: Database,
    referral_id: int,
    *,
    full_name: str | None = None,
    birth: Birth | None = None,
    phone: str | None = None,
) -> bool:
    """The early duplicate check of a correction: another live referral of the same youth
    (the referral being corrected does not count); correct() checks again for real."""
    async with db.read() as conn:
        return await _duplicate_of_other(conn, referral_id, full_name, birth, phone)


def _edit_state(referral: Referral, fields: list[str]) -> str:
    """An edit's before or after in the audit: the status, and which fields changed, with as
    little as shows what kind of change it was (a wrong name, date or number may be a
    stranger's): a name's initials, a birth year, a masked phone. The row has the value now."""
    shown: dict[str, object] = {"status": referral.status.value, "admitted_on": None}
    for name in fields:
        value = getattr(referral, name)
        if name == "full_name":
            value = " ".join(f"{word[0]}." for word in referral.full_name.split())
        elif name == "birth":
            value = referral.birth.year
        elif name == "phone" and value:
            value = mask_phone(value)
        elif name == "org":
            value = referral.org.value
        shown[name] = value
    return json.dumps(shown, ensure_ascii=False)


async def correct(
    db: Database,
    key: ConversationKey,
    referral_id: int,
    member_id: int,
    changes: dict[str, object],
    clock: Clock,
    *,
    actor_ref: str | None = None,
) -> tuple[Referral, Referral]:
    """Correct a waiting referral's details and end the conversation, in one transaction, with
    an 'edit' audit row; (before, after). NotEditable if it is not (or no longer) the member's
    to correct, DuplicateReferral if the new details are another referral's."""
    if not changes or set(changes) - set(EDITABLE):
        raise ValueError(f"nothing to correct, or not a referral's detail: {sorted(changes)}")
    refusal: str | None = None
    duplicate = False
    async with db.write() as conn:
        row = await _row(conn, referral_id)
        before = Referral.from_row(row) if row else None
        refusal = edit_refusal(before, member_id)
        if refusal is None:
            assert before is not None and row is not None
            name = str(changes.get("full_name", before.full_name))
            birth = changes.get("birth", before.birth)
            assert isinstance(birth, Birth)
            typed = changes.get("phone", before.phone)
            phone = str(typed) if typed else None
            org = Org(str(changes.get("org", before.org.value)))
            consent = bool(changes.get("guardian_consent", before.guardian_consent))
            who_changed = "full_name" in changes or "birth" in changes
            duplicate = await _duplicate_of_other(
                conn,
                referral_id,
                name if who_changed else None,
                birth if who_changed else None,
                phone if "phone" in changes else None,
            )
        if refusal is not None or duplicate:
            await conversations.clear(conn, key)  # committed: the journey is over either way
        else:
            await conn.execute(
                """UPDATE referrals SET full_name = ?, name_key = ?, birth_date = ?,
                       birth_year = ?, phone = ?, org = ?, guardian_consent = ?
                   WHERE id = ? AND status = 'introduced'""",
                (
                    name,
                    name_key(name),
                    birth.day.isoformat() if birth.day else None,
                    birth.year,
                    phone,
                    org.value,
                    int(consent),
                    referral_id,
                ),
            )
            # What the unit counts of this row, as the other organisation's referral.
            state = _State.of(row)
            deltas = _minus(state.counts(org), state.counts(before.org))
            await counters.apply(conn, before.unit_id, deltas)
            row = await _row(conn, referral_id)
            assert row is not None
            after = Referral.from_row(row)
            fields = [f for f in EDITABLE if getattr(before, f) != getattr(after, f)]
            await conn.execute(
                """INSERT INTO referral_audit
                       (referral_id, at, actor_id, actor_ref, action, before, after)
                   VALUES (?, ?, ?, ?, 'edit', ?, ?)""",
                (
                    referral_id,
                    to_db(clock.now()),
                    member_id,
                    actor_ref,
                    _edit_state(before, fields),
                    _edit_state(after, fields),
                ),
            )
            await conversations.clear(conn, key)
    if refusal is not None:
        raise NotEditable(refusal)
    if duplicate:
        raise DuplicateReferral
    assert before is not None
    return before, after


async def correctable(db: Database, member_id: int, limit: int) -> list[Referral]:
    """The member's referrals they may still correct, newest first."""
    sql = f"""SELECT {_COLUMNS} FROM referrals
              WHERE member_id = ? AND status = 'introduced' AND self_registered = 0
              ORDER BY id DESC LIMIT ?"""
    async with db.read() as conn, conn.execute(sql, (member_id, limit)) as cur:
        return [Referral.from_row(row) for row in await cur.fetchall()]
