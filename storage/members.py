"""Members (đoàn viên / hội viên): registration and look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


async def register(
    db: Database,
    key: ConversationKey,
    unit_id: int,
    data: MemberIn,
    clock: Clock,
) -> Member:
    """Create the member and end the registration conversation in the same transaction."""
    async with db.write() as conn:
        if await find_by_user(conn, key.channel, key.user_ref) is not None:
            raise AlreadyRegistered
        cursor = await conn.execute(
            "INSERT INTO members (channel, user_ref, unit_id, full_name, membership, phone,"
            " registered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key.channel,
                key.user_ref,
                unit_id,
                data.full_name,
                data.membership.value,
                data.phone,
                to_db(clock.now()),
            ),
        )
        await counters.apply(conn, unit_id, await _membership_deltas(conn, unit_id, 1))
        await conversations.clear(conn, key)
        member = await get(conn, cursor.lastrowid or 0)
    assert member is not None
    return member


async def _membership_deltas(
    conn: aiosqlite.Connection, unit_id: int, sign: int
) -> counters.Deltas:
    """A member more (or less) in a unit: its count, and the default targets it feeds."""
    deltas: counters.Deltas = {(counters.CURRENT, "members"): sign}
    sql = "SELECT DISTINCT year FROM targets WHERE unit_id = ?"
    async with conn.execute(sql, (unit_id,)) as cur:
        for row in await cur.fetchall():
            deltas[(str(row[0]), "members_targeted")] = sign
    return deltas


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


async def erase(db: Database, member_id: int) -> bool:
    """Deletion on request: the member, their roles, conversations and the youths they
    introduced are removed for good; the counters lose exactly what they had counted.
    Their chat id goes from every other row, and the bytes from the file and its WAL."""
    from storage import referrals  # a cycle at import time otherwise

    async with db.write() as conn:
        member = await get(conn, member_id)
        if member is None:
            return False
        sql = "SELECT id FROM referrals WHERE member_id = ? ORDER BY id"
        async with conn.execute(sql, (member_id,)) as cur:
            ids = [row[0] for row in await cur.fetchall()]
        for referral_id in ids:
            await referrals.forget(conn, referral_id)
        await counters.apply(
            conn, member.unit_id, await _membership_deltas(conn, member.unit_id, -1)
        )
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
        await conn.execute("DELETE FROM members WHERE id = ?", (member_id,))
    # Committed: now push the zeroed pages into the main file and empty the WAL.
    await db.checkpoint()
    return True
