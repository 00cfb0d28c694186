"""A member's own invitation to a friend (/moiban), and what the friend's sign-up leaves.

The link `r_<member id>_<tag>` and the 8-character code are derived with HMAC from the member's
invitation generation under a secret not in the database: a copy of the database can neither
forge nor recover them; renewing bumps the generation and kills both. Only the code's hash is
stored, to look it up when typed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

import aiosqlite

from storage import codes, members
from storage.clock import Clock, to_db
from storage.db import Database
from storage.members import Member

PREFIX = "r_"
_PAYLOAD = re.compile(r"^r_(\d{1,12})_([A-Za-z0-9_-]{22})$")


def _who(member: Member, generation: int) -> str:
    # The registration instant too: a member id freed by an erasure and given to the next
    # person never makes the erased member's old invitation theirs.
    return f"{member.id}:{member.registered_at.isoformat()}:{generation}"


def _tag(secret: bytes, member: Member, generation: int) -> str:
    mac = hmac.new(secret, f"friend:{_who(member, generation)}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


async def _generation(conn: aiosqlite.Connection, member_id: int) -> int | None:
    sql = "SELECT invite_generation FROM members WHERE id = ?"
    async with conn.execute(sql, (member_id,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else None


@dataclass(frozen=True)
class Invitation:
    payload: str  # for a /start link
    code: str


async def invitation(db: Database, secret: bytes, member: Member, *, renew: bool) -> Invitation:
    """The member's current invitation (a fresh one when `renew`), its code recorded hashed."""
    async with db.write() as conn:
        if renew:
            await conn.execute(
                "UPDATE members SET invite_generation = invite_generation + 1 WHERE id = ?",
                (member.id,),
            )
        generation = await _generation(conn, member.id)
        assert generation is not None
        code = codes.derived_code(secret, f"friend-code:{_who(member, generation)}")
        await conn.execute(
            """INSERT OR IGNORE INTO member_invite_codes (digest, member_id, generation)
               VALUES (?, ?, ?)""",
            (codes.digest(code, secret), member.id, generation),
        )
    payload = f"{PREFIX}{member.id}_{_tag(secret, member, generation)}"
    return Invitation(payload, code)


async def inviter(db: Database, secret: bytes, payload: str, code: str | None) -> Member | None:
    """The member whose *current* invitation this link or code is; None for anything else."""
    async with db.read() as conn:
        if code is not None:
            sql = "SELECT member_id, generation FROM member_invite_codes WHERE digest = ?"
            async with conn.execute(sql, (codes.digest(code, secret),)) as cur:
                row = await cur.fetchone()
            if row is None or await _generation(conn, row[0]) != row[1]:
                return None
            return await members.get(conn, row[0])
        match = _PAYLOAD.match(payload)
        if not match:
            return None
        member = await members.get(conn, int(match[1]))
        generation = await _generation(conn, int(match[1]))
        if member is None or generation is None:
            return None
        return member if hmac.compare_digest(_tag(secret, member, generation), match[2]) else None


async def mark_self_registered(
    conn: aiosqlite.Connection, referral_id: int, channel: str, user_ref: str, clock: Clock
) -> None:
    """The youth gave their own details and consent (inside the referral's transaction)."""
    await conn.execute(
        """UPDATE referrals SET self_registered = 1, consent_at = ?, youth_channel = ?,
               youth_ref = ? WHERE id = ?""",
        (to_db(clock.now()), channel, user_ref, referral_id),
    )


async def own_referrals(db: Database, channel: str, user_ref: str) -> list[int]:
    """The referrals a youth made of themselves, on this channel."""
    sql = "SELECT id FROM referrals WHERE youth_channel = ? AND youth_ref = ?"
    async with db.read() as conn, conn.execute(sql, (channel, user_ref)) as cur:
        return [row[0] for row in await cur.fetchall()]


@dataclass(frozen=True)
class Withdrawn:
    referral_id: int
    member_id: int | None  # who introduced them, to be told (nothing more) that it was withdrawn


async def erase_youth(db: Database, channel: str, user_ref: str) -> list[Withdrawn]:
    """A youth's own /xoadulieu: what they gave is deleted, with its counts. An admission stays
    as the Union's record, without their phone and without the link to their chat."""
    from storage import referrals  # referrals imports this module

    sql = """SELECT id, member_id, status FROM referrals
             WHERE youth_channel = ? AND youth_ref = ?"""
    async with db.write() as conn:
        async with conn.execute(sql, (channel, user_ref)) as cur:
            found = [(row[0], row[1], row[2]) for row in await cur.fetchall()]
        for referral_id, _, status in found:
            if status == "admitted":
                await conn.execute(
                    """UPDATE referrals SET phone = NULL, youth_channel = NULL, youth_ref = NULL
                       WHERE id = ?""",
                    (referral_id,),
                )
            else:
                await referrals.forget(conn, referral_id)
        await conn.execute(
            "DELETE FROM conversations WHERE channel = ? AND user_ref = ?", (channel, user_ref)
        )
    await db.checkpoint()
    return [Withdrawn(r, m) for r, m, status in found if status != "admitted"]
