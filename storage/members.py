"""Members (đoàn viên / hội viên): registration and look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import aiosqlite

from storage import conversations, counters
from storage.clock import Clock, from_db, to_db
from storage.conversations import ConversationKey
from storage.db import Database
from storage.validation import MemberIn, Org


def address(channel: str, user_ref: str) -> str:
    """A person in one string, where one string fits (grants, reminder runs, ADMIN_IDS)."""
    return f"{channel}:{user_ref}"


def parse_address(text: str) -> tuple[str, str]:
    """`zalo:abc` → ("zalo", "abc"); a bare number is a Telegram id (older rows, ADMIN_IDS)."""
    channel, sep, ref = text.partition(":")
    return (channel, ref) if sep else ("telegram", text)


@dataclass(frozen=True)
class Member:
    id: int
    channel: str
    user_ref: str
    unit_id: int
    full_name: str
    membership: Org
    phone: str | None
    registered_at: datetime

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Member:
        return cls(
            id=row["id"],
            channel=row["channel"],
            user_ref=row["user_ref"],
            unit_id=row["unit_id"],
            full_name=row["full_name"],
            membership=Org(row["membership"]),
            phone=row["phone"],
            registered_at=from_db(row["registered_at"]),
        )


_COLUMNS = "id, channel, user_ref, unit_id, full_name, membership, phone, registered_at"


class AlreadyRegistered(Exception):
    pass


async def find_by_user(conn: aiosqlite.Connection, channel: str, user_ref: str) -> Member | None:
    sql = f"SELECT {_COLUMNS} FROM members WHERE channel = ? AND user_ref = ?"
    async with conn.execute(sql, (channel, user_ref)) as cur:
        row = await cur.fetchone()
    return Member.from_row(row) if row else None


async def get(conn: aiosqlite.Connection, member_id: int) -> Member | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM members WHERE id = ?", (member_id,)) as cur:
        row = await cur.fetchone()
    return Member.from_row(row) if row else None


async def member_of(db: Database, channel: str, user_ref: str) -> Member | None:
    async with db.read() as conn:
        return await find_by_user(conn, channel, user_ref)


HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def register(
    db: Database,
    key: ConversationKey,
    unit_id: int,
    data: MemberIn,
    clock: Clock,
    tz: ZoneInfo = HANOI,
) -> Member:
    """Create the member and end the registration conversation in the same transaction."""
    async with db.write() as conn:
        if await find_by_user(conn, key.channel, key.user_ref) is not None:
            raise AlreadyRegistered
        now = clock.now()
        registered_on = now.astimezone(tz).date().isoformat()
        cursor = await conn.execute(
            "INSERT INTO members (channel, user_ref, unit_id, full_name, membership, phone,"
            " registered_at, registered_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.channel,
                key.user_ref,
                unit_id,
                data.full_name,
                data.membership.value,
                data.phone,
                to_db(now),
                registered_on,
            ),
        )
        await _count_membership(conn, unit_id, registered_on, 1)
        await conversations.clear(conn, key)
        member = await get(conn, cursor.lastrowid or 0)
    assert member is not None
    return member


async def _count_membership(
    conn: aiosqlite.Connection, unit_id: int, registered_on: str | None, sign: int
) -> None:
    """A member more (or less) in a unit, once the row is written (or deleted): the count, the
    period they joined in, and the headcount and default targets that follow from it."""
    deltas: counters.Deltas = {(counters.CURRENT, "members"): sign}
    if registered_on:
        counters.add(deltas, counters.buckets(registered_on), "joined", sign)
    await counters.apply(conn, unit_id, deltas)
    await counters.follow_tree(conn, unit_id)


# --- moving to another unit ------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    member: Member  # as they are now, in the new unit
    from_unit_id: int


async def move(
    db: Database,
    key: ConversationKey,
    member_id: int,
    from_unit_id: int,
    to_unit_id: int,
    clock: Clock,
    actor_ref: str | None = None,
    *,
    invite_generation: int | None = None,
    tz: ZoneInfo = HANOI,
) -> Moved | None:
    """The member moves from one unit to another, in one transaction that also ends the
    conversation that asked them; None (nothing written) when they are gone, are no longer in
    `from_unit_id`, the new unit does not exist, or its invite was renewed since it was opened
    (`invite_generation`: the generation of the link or code the member used).

    A move changes nothing in a period that ended before it: on the local date of the move the
    member leaves the old unit ('left') and joins the new one ('joined', as a registration
    does); the past members of a period are read back from these events (storage.stats).
    Their referrals stay with the unit where they were introduced, waiting ones included (its
    leaders decide them), and so does 'met', counted in the unit of the admitted referral.
    Where the member was is kept in member_moves, which recount() reads."""
    async with db.write() as conn:
        member = await get(conn, member_id)
        if member is None or member.unit_id != from_unit_id or to_unit_id == from_unit_id:
            return None
        sql = "SELECT invite_generation FROM units WHERE id = ?"
        async with conn.execute(sql, (to_unit_id,)) as cur:
            unit = await cur.fetchone()
        if unit is None or invite_generation not in (None, unit[0]):
            return None
        now = clock.now()
        moved_on = now.astimezone(tz).date().isoformat()
        await conn.execute("UPDATE members SET unit_id = ? WHERE id = ?", (to_unit_id, member_id))
        await conn.execute(
            """INSERT INTO member_moves
                   (member_id, from_unit_id, to_unit_id, at, moved_on, actor_ref)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (member_id, from_unit_id, to_unit_id, to_db(now), moved_on, actor_ref),
        )
        days = counters.buckets(moved_on)
        left: counters.Deltas = {(counters.CURRENT, "members"): -1}
        counters.add(left, days, "left", 1)
        arrived: counters.Deltas = {(counters.CURRENT, "members"): 1}
        counters.add(arrived, days, "joined", 1)
        await counters.apply(conn, from_unit_id, left)
        await counters.apply(conn, to_unit_id, arrived)
        await counters.follow_tree(conn, from_unit_id)
        await counters.follow_tree(conn, to_unit_id)
        await conversations.clear(conn, key)
        moved = await get(conn, member_id)
    assert moved is not None
    return Moved(moved, from_unit_id)


async def undecided_count(db: Database, member_id: int, unit_id: int) -> int:
    """How many of the member's referrals are still waiting in the unit: they stay there when
    the member moves, decided by its leaders."""
    sql = """SELECT COUNT(*) FROM referrals
             WHERE member_id = ? AND status = 'introduced' AND unit_id = ?"""
    async with db.read() as conn, conn.execute(sql, (member_id, unit_id)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


# grants.created_by of an erased admin: the column is NOT NULL, and an empty creator is one
# that redeeming the link tells nothing to ("erased" would be sent to as a chat id).
ERASED = ""


def _spellings(member: Member) -> tuple[str, str]:
    """How other rows name the person: "channel:user_ref", or a bare id for Telegram (older
    rows); on another channel a bare id would be someone else's, so the address twice."""
    own = address(member.channel, member.user_ref)
    return own, member.user_ref if member.channel == "telegram" else own


async def _forget_references(conn: aiosqlite.Connection, member: Member) -> None:
    """The person's chat id leaves every row that is not theirs to delete: what they did for
    others stays, who did it does not."""
    refs = _spellings(member)
    await conn.execute("UPDATE referral_audit SET actor_ref = NULL WHERE actor_ref IN (?, ?)", refs)
    await conn.execute(
        "UPDATE grants SET created_by = ? WHERE created_by IN (?, ?)", (ERASED, *refs)
    )
    await conn.execute(
        "UPDATE reminder_runs SET requested_by = NULL WHERE requested_by IN (?, ?)", refs
    )
    key = (member.channel, member.user_ref)
    for table in ("conversations", "shown_choices", "reminder_deliveries"):
        await conn.execute(f"DELETE FROM {table} WHERE channel = ? AND user_ref = ?", key)


async def admissions_kept(db: Database, member_id: int) -> int:
    """How many of the member's referrals are admissions, which stay after an erasure."""
    sql = "SELECT COUNT(*) FROM referrals WHERE member_id = ? AND status = 'admitted'"
    async with db.read() as conn, conn.execute(sql, (member_id,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _membership_events(
    conn: aiosqlite.Connection, member_id: int
) -> dict[int, counters.Deltas]:
    """unit -> the counts the member adds there: 'members' where they are, 'joined' where
    they registered (the old unit of their first move) and where each move took them, 'left'
    where each move took them from. An erasure takes them all out."""
    sql = "SELECT unit_id, registered_on FROM members WHERE id = ?"
    async with conn.execute(sql, (member_id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return {}
    sql = """SELECT from_unit_id, to_unit_id, moved_on FROM member_moves
             WHERE member_id = ? ORDER BY id"""
    async with conn.execute(sql, (member_id,)) as cur:
        moves = [(m[0], m[1], m[2]) for m in await cur.fetchall()]
    events: dict[int, counters.Deltas] = {}

    def add(unit_id: int, buckets: list[str], metric: str) -> None:
        counters.add(events.setdefault(unit_id, {}), buckets, metric, 1)

    add(row[0], [counters.CURRENT], "members")
    if row[1]:
        add(moves[0][0] if moves else row[0], counters.buckets(row[1]), "joined")
    for from_unit, to_unit, moved_on in moves:
        add(from_unit, counters.buckets(moved_on), "left")
        add(to_unit, counters.buckets(moved_on), "joined")
    return events


async def erase(db: Database, member_id: int) -> bool:
    """Deletion on request: the member, their roles, conversations and the youths they
    introduced who were not admitted are removed for good. Admitted youths are members of the
    Union or the Federation now: their admissions stay, counted where they were, with the
    introducing member shown as gone (the unit's official figures never go down); only the
    member's own 1+1 goes. Their chat id goes from every other row, and the bytes from the
    file and its WAL."""
    from storage import referrals  # a cycle at import time otherwise

    async with db.write() as conn:
        member = await get(conn, member_id)
        if member is None:
            return False
        sql = "SELECT id, status FROM referrals WHERE member_id = ? ORDER BY id"
        async with conn.execute(sql, (member_id,)) as cur:
            found = [(row[0], row[1]) for row in await cur.fetchall()]
        for referral_id, status in found:
            if status == "admitted":
                await referrals.orphan(conn, referral_id)
            else:
                await referrals.forget(conn, referral_id)
        await _forget_references(conn, member)
        await conn.execute("UPDATE grants SET used_by = NULL WHERE used_by = ?", (member_id,))
        await conn.execute("DELETE FROM roles WHERE member_id = ?", (member_id,))
        await conn.execute(
            "UPDATE referrals SET decided_by = NULL WHERE decided_by = ?", (member_id,)
        )
        await conn.execute("UPDATE targets SET set_by = NULL WHERE set_by = ?", (member_id,))
        await conn.execute(
            "UPDATE referral_audit SET actor_id = NULL WHERE actor_id = ?", (member_id,)
        )
        gone = await _membership_events(conn, member_id)
        await conn.execute("DELETE FROM members WHERE id = ?", (member_id,))  # moves cascade
        for unit_id, deltas in gone.items():
            await counters.apply(conn, unit_id, {k: -v for k, v in deltas.items()})
        await counters.follow_tree(conn, member.unit_id)
    # Committed: now push the zeroed pages into the main file and empty the WAL.
    await db.checkpoint()
    return True
