"""Members (đoàn viên / hội viên): registration and look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import conversations
from storage.clock import Clock, from_db, to_db
from storage.conversations import ConversationKey
from storage.db import Database
from storage.validation import MemberIn, Org


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
        await conversations.clear(conn, key)
        member = await get(conn, cursor.lastrowid or 0)
    assert member is not None
    return member
