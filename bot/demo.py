"""The scratch province of `motcongmot try`: the sample tree and a few people, so that /stats,
/duyet and /donvi show something from the first minute. Written through storage, as the bot
writes; nothing here is used by `motcongmot run`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from handlers.chat import Who
from storage import members, referrals, roles, units
from storage.clock import Clock, local_today
from storage.db import Database
from storage.referrals import Decision
from storage.roles import Role
from storage.validation import AgePolicy, MemberIn, Org, ReferralIn, parse_birth

CHANNEL = "console"
SAMPLE_UNITS = Path(__file__).resolve().parent.parent / "data" / "sample_units.csv"


@dataclass(frozen=True)
class Persona:
    ref: str  # the person's id on the console channel
    name: str
    unit_code: str | None  # None: not registered (the admin, a newcomer)


ADMIN = Persona("admin", "Quản trị tỉnh", None)
PEOPLE = [
    Persona("leader", "Nguyễn Văn Hùng", "CD-AB-THON1"),
    Persona("lan", "Trần Thị Lan", "CD-AB-THON1"),
    Persona("tu", "Mai Văn Tú", "CD-AB-THON1"),
    Persona("mai", "Lê Thị Mai", "CD-AB-THON2"),
]
# (introducer, youth, birth, organisation, admitted days ago or None: still waiting)
YOUTHS = [
    ("lan", "Phạm Thu Hà", "12/03/2005", Org.DOAN, 10),
    ("tu", "Đỗ Văn Nam", "2003", Org.DOAN, None),
    ("mai", "Vũ Minh Quân", "2004", Org.HOI, None),
]


def who(ref: str) -> Who:
    return Who(CHANNEL, ref, ref)


async def seed(db: Database, clock: Clock, ages: AgePolicy, tz) -> None:  # type: ignore[no-untyped-def]
    """Fill an empty database; does nothing if it already has units."""
    async with db.read() as conn:
        if await units.children(conn, None):
            return
    csv = SAMPLE_UNITS.read_text(encoding="utf-8")
    await units.import_rows(db, units.parse_csv(csv))
    by_ref = {}
    for persona in PEOPLE:
        async with db.read() as conn:
            unit = await units.get_by_code(conn, persona.unit_code or "")
        assert unit is not None
        data = MemberIn(full_name=persona.name, membership=Org.DOAN)
        by_ref[persona.ref] = await members.register(db, who(persona.ref).key, unit.id, data, clock)
    leader = by_ref["leader"]
    async with db.write() as conn:
        await roles.grant(conn, leader.id, leader.unit_id, Role.LEADER, None, clock)
    today = local_today(clock, tz)
    for ref, name, birth, org, days_ago in YOUTHS:
        youth = ReferralIn.model_validate(
            {"full_name": name, "birth": parse_birth(birth, today), "org": org},
            context={"today": today, "ages": ages},
        )
        saved = await referrals.submit(db, who(ref).key, by_ref[ref], youth, clock, tz)
        if days_ago is not None:
            await referrals.change_status(
                db,
                saved.id,
                Decision.ADMIT,
                leader.id,
                clock,
                admitted_on=today - timedelta(days=days_ago),
                tz=tz,
                actor_ref=who("leader").address,
            )
