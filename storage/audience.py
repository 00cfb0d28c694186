"""Who a reminder goes to, and the few figures it needs beyond the unit picture."""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.db import Database
from storage.members import parse_address
from storage.units import SUBTREE


@dataclass(frozen=True)
class Recipient:
    channel: str
    user_ref: str
    member_id: int | None
    units: tuple[int, ...]  # the units the message is about


async def leaders(db: Database, *, with_children_only: bool = False) -> list[Recipient]:
    """Reachable members with the leader role, each with the units they lead."""
    extra = "AND EXISTS (SELECT 1 FROM units c WHERE c.parent_id = r.unit_id)"
    sql = f"""SELECT m.id, m.channel, m.user_ref, GROUP_CONCAT(r.unit_id) AS units
              FROM roles r JOIN members m ON m.id = r.member_id
              WHERE r.role = 'leader' AND m.unreachable_at IS NULL
              {extra if with_children_only else ""}
              GROUP BY m.id ORDER BY m.id"""
    return await _recipients(db, sql)


async def admins(db: Database, admin_ids: list[str]) -> list[Recipient]:
    """Granted admins, plus ADMIN_IDS (admins of every root, registered or not)."""
    sql = """SELECT m.id, m.channel, m.user_ref, GROUP_CONCAT(r.unit_id) AS units
             FROM roles r JOIN members m ON m.id = r.member_id
             WHERE r.role = 'admin' AND m.unreachable_at IS NULL GROUP BY m.id ORDER BY m.id"""
    found = {(r.channel, r.user_ref): r for r in await _recipients(db, sql)}
    async with db.read() as conn:
        async with conn.execute("SELECT id FROM units WHERE parent_id IS NULL ORDER BY id") as cur:
            roots = tuple(row[0] for row in await cur.fetchall())
        for admin_id in admin_ids:
            channel, ref = parse_address(admin_id)
            sql = "SELECT id, unreachable_at FROM members WHERE channel = ? AND user_ref = ?"
            async with conn.execute(sql, (channel, ref)) as cur:
                row = await cur.fetchone()
            if row is not None and row["unreachable_at"] is not None:
                continue
            found[(channel, ref)] = Recipient(channel, ref, row["id"] if row else None, roots)
    return list(found.values())


async def _recipients(db: Database, sql: str) -> list[Recipient]:
    async with db.read() as conn, conn.execute(sql) as cur:
        rows = await cur.fetchall()
    return [
        Recipient(
            row["channel"],
            row["user_ref"],
            row["id"],
            tuple(sorted(int(u) for u in str(row["units"]).split(","))),
        )
        for row in rows
    ]


async def members_not_met(
    db: Database, year: int, scope: list[int] | None = None
) -> list[Recipient]:
    """Reachable members without an admission this year (in `scope`'s subtrees if given)."""
    where = "AND m.unit_id IN (SELECT id FROM sub)" if scope is not None else ""
    sql = f"""{SUBTREE if scope is not None else "WITH sub(id) AS (SELECT NULL)"}
        SELECT m.id, m.channel, m.user_ref, m.unit_id FROM members m
        WHERE m.unreachable_at IS NULL {where}
          AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.member_id = m.id
                          AND r.status = 'admitted' AND r.admitted_on BETWEEN ? AND ?)
        ORDER BY m.id"""
    args: tuple[object, ...] = (f"{year:04d}-01-01", f"{year:04d}-12-31")
    if scope is not None:
        args = (json.dumps(scope), *args)
    async with db.read() as conn, conn.execute(sql, args) as cur:
        rows = await cur.fetchall()
    return [Recipient(r["channel"], r["user_ref"], r["id"], (r["unit_id"],)) for r in rows]


async def unreachable_in(db: Database, unit_id: int) -> int:
    sql = f"""{SUBTREE}
        SELECT COUNT(*) FROM members
        WHERE unit_id IN (SELECT id FROM sub) AND unreachable_at IS NOT NULL"""
    async with db.read() as conn, conn.execute(sql, (json.dumps([unit_id]),)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
