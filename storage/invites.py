"""Member invite links: start=u_<unit id>_<tag>.

The tag is an HMAC of (unit, generation) under a secret that is not in the database, so a copy
of the database alone cannot forge or recover a link; bumping the unit's generation revokes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from storage import codes, units
from storage.db import Database
from storage.units import Unit

UNIT_PREFIX = "u_"
_UNIT_PAYLOAD = re.compile(r"^u_(\d{1,12})_([A-Za-z0-9_-]{22})$")


def _tag(secret: bytes, purpose: str, unit_id: int, generation: int) -> str:
    mac = hmac.new(secret, f"{purpose}:{unit_id}:{generation}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def unit_payload(secret: bytes, unit: Unit) -> str:
    """Fits Telegram's /start rule: at most 64 characters of A-Z a-z 0-9 _ -."""
    return f"{UNIT_PREFIX}{unit.id}_{_tag(secret, 'unit', unit.id, unit.invite_generation)}"


async def resolve_unit_payload(db: Database, secret: bytes, payload: str) -> Unit | None:
    match = _UNIT_PAYLOAD.match(payload)
    if not match:
        return None
    async with db.read() as conn:
        unit = await units.get(conn, int(match[1]))
    if unit is None:
        return None
    expected = _tag(secret, "unit", unit.id, unit.invite_generation)
    return unit if hmac.compare_digest(expected, match[2]) else None


def link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


# --- codes, for channels without links (Zalo) --------------------------------------------------


def unit_code(secret: bytes, unit: Unit) -> str:
    return codes.derived_code(secret, f"unit-code:{unit.id}:{unit.invite_generation}")


async def remember_unit_code(db: Database, secret: bytes, unit: Unit) -> str:
    """The unit's current code, recorded (as a hash) so that it can be looked up when typed."""
    code = unit_code(secret, unit)
    async with db.write() as conn:
        await conn.execute(
            "INSERT OR IGNORE INTO invite_codes (digest, unit_id, generation) VALUES (?, ?, ?)",
            (codes.digest(code, secret), unit.id, unit.invite_generation),
        )
    return code


async def resolve_unit_code(db: Database, secret: bytes, code: str) -> Unit | None:
    """The unit whose *current* invite code this is; a code of a renewed link is dead."""
    sql = "SELECT unit_id FROM invite_codes WHERE digest = ?"
    async with db.read() as conn:
        async with conn.execute(sql, (codes.digest(code, secret),)) as cur:
            row = await cur.fetchone()
        unit = await units.get(conn, row["unit_id"]) if row else None
    if unit is None:
        return None
    return unit if hmac.compare_digest(unit_code(secret, unit), code) else None
