"""Roles (leader, admin), valid on a unit's whole subtree, and the one-time links that grant them.

Every check is made at the moment an action runs, from the database: a role removed a second ago
no longer works.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

import aiosqlite

from storage import codes, members, units
from storage.clock import Clock, from_db, to_db
from storage.db import Database
from storage.members import Member
from storage.units import Unit

GRANT_TTL = timedelta(days=7)
LEADER_PREFIX, ADMIN_PREFIX = "l_", "a_"


class Role(StrEnum):
    LEADER = "leader"  # bí thư chi đoàn, chi hội trưởng, bí thư đoàn cơ sở
    ADMIN = "admin"  # cán bộ Tỉnh đoàn, Đoàn xã/phường

    def includes(self, other: Role) -> bool:
        return self is Role.ADMIN or other is Role.LEADER


@dataclass(frozen=True)
class Actor:
    """A chat user as the permission checks see them, read fresh for each action."""

    channel: str
    user_ref: str
    member: Member | None
    roles: dict[int, Role] = field(default_factory=dict)  # unit id → strongest role there

    def holds_any(self, need: Role) -> bool:
        return any(role.includes(need) for role in self.roles.values())

    def top_units(self, need: Role) -> list[int]:
        return sorted(unit for unit, role in self.roles.items() if role.includes(need))


async def load_actor(db: Database, channel: str, user_ref: str, admin_ids: list[str]) -> Actor:
    async with db.read() as conn:
        member = await members.find_by_user(conn, channel, user_ref)
        held: dict[int, Role] = {}
        if member is not None:
            sql = "SELECT unit_id, role FROM roles WHERE member_id = ?"
            async with conn.execute(sql, (member.id,)) as cur:
                for row in await cur.fetchall():
                    role = Role(row["role"])
                    if row["unit_id"] not in held or role is Role.ADMIN:
                        held[row["unit_id"]] = role
        if members.address(channel, user_ref) in admin_ids:
            for root in await units.children(conn, None):
                held[root.id] = Role.ADMIN  # ADMIN_IDS: admins of every root
    return Actor(channel, user_ref, member, held)


async def covers(conn: aiosqlite.Connection, actor: Actor, unit_id: int, need: Role) -> bool:
    """Does the actor hold `need` (or more) on this unit or one of its ancestors?"""
    if not actor.roles:
        return False
    for unit in await units.ancestors(conn, unit_id):
        role = actor.roles.get(unit.id)
        if role is not None and role.includes(need):
            return True
    return False


async def may(db: Database, actor: Actor, unit_id: int, need: Role) -> bool:
    async with db.read() as conn:
        return await covers(conn, actor, unit_id, need)


async def unit_for(db: Database, actor: Actor, unit_id: int, need: Role) -> Unit | None:
    """The unit, if it exists and the actor holds `need` on it now; None otherwise."""
    async with db.read() as conn:
        unit = await units.get(conn, unit_id)
        if unit is None or not await covers(conn, actor, unit.id, need):
            return None
    return unit


async def grant(
    conn: aiosqlite.Connection,
    member_id: int,
    unit_id: int,
    role: Role,
    granted_by: int | None,
    clock: Clock,
) -> None:
    await conn.execute(
        """INSERT INTO roles (member_id, unit_id, role, granted_at, granted_by)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
        (member_id, unit_id, role.value, to_db(clock.now()), granted_by),
    )


async def holders(db: Database, unit_id: int, role: Role) -> list[Member]:
    """Members holding exactly this role on exactly this unit."""
    sql = """SELECT m.* FROM members m JOIN roles r ON r.member_id = m.id
             WHERE r.unit_id = ? AND r.role = ? ORDER BY m.full_name"""
    async with db.read() as conn, conn.execute(sql, (unit_id, role.value)) as cur:
        return [Member.from_row(row) for row in await cur.fetchall()]


async def kept_on_move(
    db: Database, member_id: int, from_unit_id: int, to_unit_id: int
) -> list[tuple[Unit, Role]]:
    """The member's roles that cover the unit they leave but not the one they move to.

    Roles stay tied to their units: a bí thư who moves is still the old branch's bí thư until
    an admin removes the role (/bonhiem), so the branch is never left without one by a tap."""
    sql = "SELECT unit_id, role FROM roles WHERE member_id = ? ORDER BY unit_id, role"
    found: list[tuple[Unit, Role]] = []
    async with db.read() as conn:
        above_old = {u.id for u in await units.ancestors(conn, from_unit_id)}
        above_new = {u.id for u in await units.ancestors(conn, to_unit_id)}
        async with conn.execute(sql, (member_id,)) as cur:
            rows = await cur.fetchall()
        for row in rows:
            unit = await units.get(conn, row["unit_id"])
            if unit is not None and unit.id in above_old and unit.id not in above_new:
                found.append((unit, Role(row["role"])))
    return found


async def revoke(db: Database, member_id: int, unit_id: int, role: Role) -> bool:
    async with db.write() as conn:
        cur = await conn.execute(
            "DELETE FROM roles WHERE member_id = ? AND unit_id = ? AND role = ?",
            (member_id, unit_id, role.value),
        )
        return cur.rowcount > 0


# --- one-time links --------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewGrant:
    payload: str  # for a /start link: l_… or a_…
    code: str  # the same grant, typed where links can't go (Zalo)


async def create_grant(
    db: Database, unit_id: int, role: Role, created_by: str, clock: Clock, secret: bytes
) -> NewGrant:
    """A fresh one-time link and code; only their hashes are stored."""
    token = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
    payload = (ADMIN_PREFIX if role is Role.ADMIN else LEADER_PREFIX) + token
    code = codes.new_code()
    now = clock.now()
    async with db.write() as conn:
        await conn.execute(
            """INSERT INTO grants (token_hash, code_hash, unit_id, role, created_by, created_at,
                                   expires_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                token_hash(payload),
                codes.digest(code, secret),
                unit_id,
                role.value,
                created_by,
                to_db(now),
                to_db(now + GRANT_TTL),
            ),
        )
    return NewGrant(payload, code)


async def grant_digest_for_code(db: Database, code: str, secret: bytes) -> str | None:
    """The link hash of the grant a typed code belongs to: both then go the same way."""
    sql = "SELECT token_hash FROM grants WHERE code_hash = ?"
    async with db.read() as conn, conn.execute(sql, (codes.digest(code, secret),)) as cur:
        row = await cur.fetchone()
    return row["token_hash"] if row else None


def is_grant_payload(payload: str) -> bool:
    return payload.startswith((LEADER_PREFIX, ADMIN_PREFIX)) and 10 < len(payload) <= 64


@dataclass(frozen=True)
class GrantCheck:
    """What a one-time link is worth right now: a unit and role, or why not."""

    problem: str | None  # None, "grant_invalid", "grant_used", "grant_expired"
    unit: Unit | None = None
    role: Role | None = None
    created_by: str | None = None


async def _check(conn: aiosqlite.Connection, digest: str, clock: Clock) -> tuple[GrantCheck, int]:
    sql = "SELECT * FROM grants WHERE token_hash = ?"
    async with conn.execute(sql, (digest,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return GrantCheck("grant_invalid"), 0
    unit = await units.get(conn, row["unit_id"])
    found = GrantCheck(None, unit, Role(row["role"]), row["created_by"])
    if row["used_at"] is not None:
        return GrantCheck("grant_used", unit, found.role, found.created_by), row["id"]
    if from_db(row["expires_at"]) <= clock.now():
        return GrantCheck("grant_expired", unit, found.role, found.created_by), row["id"]
    return found, row["id"]


async def check_grant(db: Database, digest: str, clock: Clock) -> GrantCheck:
    async with db.read() as conn:
        return (await _check(conn, digest, clock))[0]


async def redeem_grant(db: Database, digest: str, member: Member, clock: Clock) -> GrantCheck:
    """Use the link once: the first member to get here receives the role."""
    async with db.write() as conn:
        check, grant_id = await _check(conn, digest, clock)
        if check.problem is not None or check.unit is None or check.role is None:
            return check
        await conn.execute(
            "UPDATE grants SET used_by = ?, used_at = ? WHERE id = ? AND used_at IS NULL",
            (member.id, to_db(clock.now()), grant_id),
        )
        await grant(conn, member.id, check.unit.id, check.role, None, clock)
    return check
