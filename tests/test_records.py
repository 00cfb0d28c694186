"""Records as a Youth Union office keeps them: admissions from before the bot, a unit's own target
as its total, official headcounts, past periods as they were, and erasure that keeps admissions.

Storage tests pin each rule on the sample tree; end-to-end tests go through the chat.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from storage import counters, members, referrals, stats, targets, units
from storage.clock import ManualClock
from storage.conversations import ConversationKey
from storage.db import Database, bundled_migrations
from storage.members import Member
from storage.periods import Period
from storage.referrals import Decision, Referral
from storage.stats import Figures
from storage.validation import AgePolicy, AgeRange, Birth, MemberIn, Org, ReferralIn, name_key
from tests.conftest import SAMPLE_UNITS
from tests.harness import TAN_LAP, Person, RunningBot, appointed, join, refer, rows

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AGES = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})
HEADER5 = "code,name,parent_code,org,members\n"


def at(year: int, month: int, day: int, hour: int = 9) -> ManualClock:
    return ManualClock(datetime(year, month, day, hour, tzinfo=TZ))


def clock_day(clock: ManualClock) -> date:
    return clock.now().astimezone(TZ).date()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "bot.db") as database:
        text = SAMPLE_UNITS.read_text(encoding="utf-8")
        await units.import_rows(database, units.parse_csv(text))
        yield database
        async with database.read() as conn:
            assert await counters.differences(conn) == []


async def ids(db: Database) -> dict[str, int]:
    async with db.read() as conn, conn.execute("SELECT code, id FROM units") as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


async def register(db: Database, clock: ManualClock, unit_id: int, ref: str) -> Member:
    data = MemberIn(full_name=f"Trần Văn {chr(0x41 + len(ref) % 20)}", membership=Org.DOAN)
    key = ConversationKey("telegram", ref, ref)
    return await members.register(db, key, unit_id, data, clock, tz=TZ)


async def introduce(
    db: Database, clock: ManualClock, member: Member, name: str, org: Org = Org.DOAN
) -> Referral:
    today = clock.now().astimezone(TZ).date()
    data = ReferralIn.model_validate(
        {"full_name": name, "birth": Birth(2005), "org": org},
        context={"today": today, "ages": AGES},
    )
    key = ConversationKey("telegram", member.user_ref, member.user_ref)
    return await referrals.submit(db, key, member, data, clock, tz=TZ)


async def decide(
    db: Database, clock: ManualClock, referral: Referral, action: Decision, day: date | None = None
) -> Referral:
    return await referrals.change_status(
        db, referral.id, action, None, clock, admitted_on=day, tz=TZ
    )


async def figures(db: Database, code: str, period: Period) -> Figures:
    found = await stats.figures(db, (await ids(db))[code], period)
    assert found is not None
    return found


async def consistent(db: Database) -> None:
    async with db.read() as conn:
        assert await counters.differences(conn) == []


# --- 1. admissions that happened before the bot ------------------------------------------------


async def test_an_admission_before_the_referral_counts_where_it_happened(db: Database) -> None:
    """A province starting in November records its March admission: the referral counts as
    introduced no later than that day, in every period."""
    unit = (await ids(db))["CD-AB-THON1"]
    clock = at(2026, 11, 20)
    member = await register(db, clock, unit, "1")
    referral = await introduce(db, clock, member, "Nguyễn Văn An")
    assert referrals.admission_problem(referral, date(2026, 3, 10), clock_day(clock), TZ) is None
    done = await decide(db, clock, referral, Decision.ADMIT, date(2026, 3, 10))
    assert done.introduced_on == date(2026, 3, 10)
    await consistent(db)
    for period in (Period(2026), Period(2026, "H1"), Period(2026, "Q1")):
        found = await figures(db, "TD-MAU", period)
        assert (found.introduced, found.admitted_doan, found.met) == (1, 1, 1), period
    for period in (Period(2026, "Q4"), Period(2026, "H2")):
        found = await figures(db, "TD-MAU", period)
        assert (found.introduced, found.admitted_doan) == (0, 0), period
    # Last year too, down to 1 January; not before, not tomorrow.
    today = clock_day(clock)
    assert referrals.admission_problem(referral, date(2025, 1, 1), today, TZ) is None
    assert referrals.admission_problem(referral, date(2024, 12, 31), today, TZ) == (
        "admission_too_old"
    )
    assert referrals.admission_problem(referral, date(2026, 11, 21), today, TZ) == (
        "admission_in_future"
    )


async def test_a_reopened_backdated_admission_admitted_again_later(db: Database) -> None:
    unit = (await ids(db))["CD-HL-KP3"]
    clock = at(2026, 11, 20)
    member = await register(db, clock, unit, "1")
    referral = await introduce(db, clock, member, "Lê Hoàng Cường", Org.HOI)
    await decide(db, clock, referral, Decision.ADMIT, date(2025, 6, 1))
    found = await figures(db, "P-HOA-LAC", Period(2025, "Q2"))
    assert (found.introduced, found.admitted_hoi) == (1, 1)
    await decide(db, clock, referral, Decision.REOPEN)
    await consistent(db)
    await decide(db, clock, referral, Decision.ADMIT, date(2026, 11, 19))
    await consistent(db)
    # Once said to have been introduced by June 2025, it stays so; the admission moved.
    assert (await figures(db, "P-HOA-LAC", Period(2025))).introduced == 1
    assert (await figures(db, "P-HOA-LAC", Period(2025))).admitted_hoi == 0
    assert (await figures(db, "P-HOA-LAC", Period(2026, "Q4"))).admitted_hoi == 1


async def test_a_leader_records_a_march_admission_in_november(
    bot: RunningBot, branch: dict[str, Person], admin: Person
) -> None:
    leader, lan = branch["leader"], branch["lan"]
    number = await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)  # typed on 26/11/2026
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    replies = await leader.send("31/12/2024")
    assert replies[0].text == texts.admission_too_old("01/01/2025")
    await leader.send("10/03/2026")
    notice = texts.admitted_notice(number, "Lê Văn An", Org.DOAN, "10/03/2026", True, 2026)
    assert lan.last_text == notice
    got = await rows(bot, "SELECT introduced_on, admitted_on FROM referrals")
    assert got == [{"introduced_on": "2026-03-10", "admitted_on": "2026-03-10"}]
    first = (await admin.send("/stats 2026-Q1 X-AN-BINH"))[0].text.split("\n")
    assert "Giới thiệu: 1 · vào Đoàn: 1 · vào Hội: 0" in first
    fourth = (await admin.send("/stats 2026-Q4 X-AN-BINH"))[0].text.split("\n")
    assert "Giới thiệu: 0 · vào Đoàn: 0 · vào Hội: 0" in fourth


# --- 2. a unit's own target is its total ---------------------------------------------------------


async def test_a_units_own_target_is_its_total_not_added_to_its_branches(db: Database) -> None:
    code = await ids(db)
    clock = at(2026, 2, 1)
    for n in range(3):
        await register(db, clock, code["CD-AB-THON1"], f"t1-{n}")
    await targets.set_target(db, code["CD-AB-THON1"], 2026, Org.DOAN, 7, None, clock)
    await targets.set_target(db, code["CD-AB-THON2"], 2026, Org.DOAN, 5, None, clock)
    commune = await figures(db, "X-AN-BINH", Period(2026))
    assert (commune.target, commune.own_target, commune.assigned) == (12, None, None)
    await targets.set_target(db, code["X-AN-BINH"], 2026, Org.DOAN, 20, None, clock)
    await consistent(db)
    commune = await figures(db, "X-AN-BINH", Period(2026))
    assert (commune.target, commune.own_target, commune.assigned) == (20, 20, 12)
    # The province has none: its communes' targets add up (Hòa Lạc, the school: 0 members).
    assert (await figures(db, "TD-MAU", Period(2026))).target == 20
    # A branch's members beyond its own target change nothing above a unit that has one.
    await register(db, clock, code["CD-AB-THON2"], "t2-0")
    await consistent(db)
    assert (await figures(db, "X-AN-BINH", Period(2026))).target == 20
    assert (await figures(db, "CD-AB-THON2", Period(2026))).target == 5
    # Another year has no target anywhere: one admission per member.
    assert (await figures(db, "X-AN-BINH", Period(2027))).target == 4
    await targets.set_target(db, code["TD-MAU"], 2026, Org.HOI, 30, None, clock)
    await targets.set_target(db, code["TD-MAU"], 2026, Org.DOAN, 50, None, clock)
    province = await figures(db, "TD-MAU", Period(2026))
    assert (province.target, province.own_target, province.assigned) == (80, 80, 20)
    await consistent(db)


async def test_stats_shows_the_branches_share_beside_the_units_target(
    bot: RunningBot, admin: Person
) -> None:
    code = await ids(bot.deps.db)
    clock = bot.deps.clock
    for unit, value in (("CD-AB-THON1", 7), ("CD-AB-THON2", 5), ("X-AN-BINH", 20)):
        await targets.set_target(bot.deps.db, code[unit], 2026, Org.DOAN, value, None, clock)
    lines = (await admin.send("/stats 2026 X-AN-BINH"))[0].text.split("\n")
    assert lines[4].startswith("Kết nạp/chỉ tiêu: 0/20 (0%)")
    assert lines[5] == "Giao cho đơn vị trực thuộc: 12."
    await admin.send("/chitieu")
    for label in ("Tỉnh đoàn Mẫu", "Đoàn xã An Bình"):
        await admin.press(label)
    replies = await admin.press(texts.BTN_CHOOSE_HERE)
    assert texts.target_overview("Đoàn xã An Bình", 2026, {Org.DOAN: 20}, 20, 12) in (
        replies[-1].text
    )


# --- 3. a target where none was set: the official headcount -------------------------------------


async def test_the_unit_file_gives_official_headcounts(db: Database) -> None:
    code = await ids(db)
    text = HEADER5 + "CD-AB-THON1,Chi đoàn thôn Tân Lập,X-AN-BINH,doan,37\n"
    text += "CD-AB-THON2,Chi đoàn thôn Phú Hòa,X-AN-BINH,doan,1 250\n"
    assert await units.import_rows(db, units.parse_csv(text)) == (0, 2)
    await consistent(db)
    branch = await figures(db, "CD-AB-THON1", Period(2026))
    # Nobody registered: the branch is behind its 37, not "0/0 (–)".
    assert (branch.members, branch.target, branch.coverage) == (0, 37, (0, 37))
    clock = at(2026, 3, 1)
    for n in range(14):
        await register(db, clock, code["CD-AB-THON1"], f"m{n}")
    commune = await figures(db, "X-AN-BINH", Period(2026))
    assert (commune.target, commune.coverage) == (1287, (14, 1287))
    assert commune.headcounted == 2
    # An old 4-column file still imports, and keeps the headcounts.
    old = "code,name,parent_code,org\nCD-AB-THON1,Chi đoàn thôn Tân Lập,X-AN-BINH,doan\n"
    assert await units.import_rows(db, units.parse_csv(old)) == (0, 0)
    assert (await figures(db, "CD-AB-THON1", Period(2026))).target == 37
    # More registered than the official figure: never fewer than one per registered member.
    small = HEADER5 + "CD-AB-THON1,Chi đoàn thôn Tân Lập,X-AN-BINH,doan,10\n"
    await units.import_rows(db, units.parse_csv(small))
    assert (await figures(db, "CD-AB-THON1", Period(2026))).target == 14
    # An empty cell takes the figure away: registered members again.
    blank = HEADER5 + "CD-AB-THON2,Chi đoàn thôn Phú Hòa,X-AN-BINH,doan,\n"
    await units.import_rows(db, units.parse_csv(blank))
    phu_hoa = await figures(db, "CD-AB-THON2", Period(2026))
    assert (phu_hoa.target, phu_hoa.coverage) == (0, None)
    await consistent(db)


@pytest.mark.parametrize("cell", ["-3", "ba mươi", "12a", "١٢"])
def test_a_bad_headcount_names_its_line(cell: str) -> None:
    text = HEADER5 + "NEW-1,Mới,,doan,5\nNEW-2,Hai,,doan," + cell + "\n"
    with pytest.raises(units.CsvError) as caught:
        units.parse_csv(text)
    assert (caught.value.line, caught.value.code) == (3, "csv_members")


async def test_stats_and_donvi_show_coverage(
    bot: RunningBot, branch: dict[str, Person], admin: Person
) -> None:
    text = HEADER5 + "CD-AB-THON1,Chi đoàn thôn Tân Lập,X-AN-BINH,doan,37\n"
    text += "CD-AB-THON2,Chi đoàn thôn Phú Hòa,X-AN-BINH,doan,12\n"
    await units.import_rows(bot.deps.db, units.parse_csv(text))
    lines = (await admin.send("/stats 2026 X-AN-BINH"))[0].text.split("\n")
    assert lines[2] == "Đã ghi danh trên bot: 3/49 (6%)"
    assert "Kết nạp/chỉ tiêu: 0/49 (0%)" in lines[5]
    assert "2. Chi đoàn thôn Tân Lập: 0/37 (0%)" in lines  # Phú Hòa first: same 0 %, by name
    assert any(line.startswith("   ĐV 0/12, đạt 0") for line in lines)  # Phú Hòa: nobody yet
    replies = await branch["leader"].send("/donvi")
    assert "Đã ghi danh trên bot: 3/37 (8%)" in replies[-1].text.split("\n")


# --- 4. past periods show that period ------------------------------------------------------------


async def test_a_past_period_shows_its_own_members_and_waiting_referrals(db: Database) -> None:
    unit = (await ids(db))["CD-AB-THON1"]
    clock = at(2026, 2, 1)
    early = await register(db, clock, unit, "1")
    a = await introduce(db, clock, early, "Nguyễn Văn An")  # Q1, admitted in Q3
    b = await introduce(db, clock, early, "Trần Thị Bình")  # Q1, declined in Q2
    clock.set(datetime(2026, 5, 1, 9, tzinfo=TZ))
    await decide(db, clock, b, Decision.DECLINE)
    c = await introduce(db, clock, early, "Lê Hoàng Cường")  # Q2, withdrawn in Q3
    clock.set(datetime(2026, 8, 1, 9, tzinfo=TZ))
    await register(db, clock, unit, "2")
    await decide(db, clock, a, Decision.ADMIT, date(2026, 7, 30))
    await referrals.change_status(db, c.id, Decision.WITHDRAW, early.id, clock, tz=TZ)
    await introduce(db, clock, early, "Phạm Thùy Dung")  # Q3, still waiting
    await consistent(db)

    def shown(f: Figures) -> tuple[int, int]:
        return f.members, f.pending

    assert shown(await figures(db, "TD-MAU", Period(2026, "Q1"))) == (1, 2)  # a, b
    assert shown(await figures(db, "TD-MAU", Period(2026, "Q2"))) == (1, 2)  # a, c
    assert shown(await figures(db, "TD-MAU", Period(2026, "H1"))) == (1, 2)
    assert shown(await figures(db, "TD-MAU", Period(2026, "Q3"))) == (2, 1)  # d
    assert shown(await figures(db, "TD-MAU", Period(2026))) == (2, 1)  # now
    assert shown(await figures(db, "TD-MAU", Period(2025))) == (0, 0)


# --- 5. erasure does not rewrite official figures ----------------------------------------------

MEMBER_NAME = "Đặng Thị Thuỷ Tiên"
MEMBER_PHONE = "0987654321"
ADMITTED_YOUTH = "Vi Thị Hồng Nhung"
PENDING_YOUTH = "Hà Văn Khánh"


async def test_an_erased_members_admissions_stay_where_they_were_counted(
    bot: RunningBot,
    branch: dict[str, Person],
    admin: Person,
    person: Callable[..., Person],
    db_path: Path,
) -> None:
    leader = branch["leader"]
    tien = person("Tiên")
    await join(tien, "CD-AB-THON1", MEMBER_NAME)
    async with bot.deps.db.write() as conn:  # her phone, as if shared when she registered
        await conn.execute(
            "UPDATE members SET phone = ? WHERE full_name = ?", (MEMBER_PHONE, MEMBER_NAME)
        )
    admitted = await refer(tien, ADMITTED_YOUTH, "12/05/2005", "0977 111 222", Org.DOAN)
    await refer(tien, PENDING_YOUTH, "2004", None, Org.HOI)
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    await leader.press(texts.BTN_TODAY)
    before = (await admin.send("/stats 2026 TD-MAU"))[0].text.split("\n")
    assert "Giới thiệu: 2 · vào Đoàn: 1 · vào Hội: 0" in before

    assert (await tien.send("/xoadulieu"))[-1].text == texts.CONFIRM_ERASE
    await tien.press(texts.BTN_ERASE_YES)
    assert tien.last_text == texts.ERASED
    assert leader.last_text == texts.member_left("Chi đoàn thôn Tân Lập", 1)
    assert MEMBER_NAME not in leader.last_text

    # The admission stays, counted where it was; the pending referral left with her.
    after = (await admin.send("/stats 2026 TD-MAU"))[0].text.split("\n")
    assert "Giới thiệu: 1 · vào Đoàn: 1 · vào Hội: 0" in after
    assert "Không kết nạp: 0 · chờ xét: 0" in after
    kept = await rows(bot, "SELECT id, full_name, member_id, introducer_gone FROM referrals")
    assert kept == [
        {"id": admitted, "full_name": ADMITTED_YOUTH, "member_id": None, "introducer_gone": 1}
    ]
    shown = await stats.admissions(bot.deps.db, (await ids(bot.deps.db))["TD-MAU"], Period(2026))
    assert [(a.youth, a.introducer, a.introducer_gone) for a in shown] == [
        (ADMITTED_YOUTH, "", True)
    ]
    # Nothing of her is left in the file or its WAL; the admitted youth's record is.
    found = {p.name: p.read_bytes() for p in (db_path, db_path.with_name(db_path.name + "-wal"))}
    for secret in (MEMBER_NAME, MEMBER_PHONE, PENDING_YOUTH, name_key(PENDING_YOUTH)):
        assert not any(secret.encode() in content for content in found.values()), secret
    assert ADMITTED_YOUTH.encode() in found[db_path.name]
    user = str(tien.user.id)
    for table in ("members", "referral_audit", "reminder_deliveries", "conversations"):
        for row in await rows(bot, f"SELECT * FROM {table}"):
            assert not any(str(v).endswith(user) for v in row.values() if v is not None), table

    # Reopened, the card says who introduced the youth: someone who left.
    await leader.send(f"/molai {admitted}")
    await leader.send("Ghi nhầm ngày kết nạp")
    card = (await leader.send("/duyet"))[-1].text
    assert f"Người giới thiệu: {texts.INTRODUCER_GONE} (Chi đoàn thôn Tân Lập)" in card
    # And an admin who is no member still sees it in the queue.
    assert (await admin.send("/duyet"))[-1].text.startswith("Chờ xét: 1")


async def test_a_leader_who_erases_is_not_told_about_themself(
    bot: RunningBot, branch: dict[str, Person], admin: Person, person: Callable[..., Person]
) -> None:
    leader = branch["leader"]
    other = await appointed(admin, person("Phó"), TAN_LAP, "Hà Văn Phó")
    seen = len(leader.inbox())
    await leader.send("/xoadulieu")
    await leader.press(texts.BTN_ERASE_YES)
    assert other.last_text == texts.member_left("Chi đoàn thôn Tân Lập", 0)
    assert [m.text for m in leader.inbox()[seen:]][-1] == texts.ERASED


# --- the migration: existing databases keep their rows -----------------------------------------


async def test_migration_keeps_referrals_audit_and_recounts(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with Database(path, migrations=bundled_migrations()[:8]):
        pass
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO units (id, code, name, org) VALUES (1, 'U', 'Chi đoàn', 'doan')")
        conn.execute(
            """INSERT INTO members (id, user_ref, unit_id, full_name, membership, registered_at)
               VALUES (1, '7', 1, 'Trần Văn An', 'doan', '2026-03-31T18:00:00+00:00')"""
        )
        for rid, status, admitted in ((1, "admitted", "2026-04-02"), (2, "withdrawn", None)):
            conn.execute(
                """INSERT INTO referrals (id, member_id, unit_id, full_name, name_key,
                       birth_year, org, status, introduced_at, admitted_on, introduced_on)
                   VALUES (?, 1, 1, 'Lê Văn Bình', 'lê văn bình', 2005, 'doan', ?,
                           '2026-04-01T03:00:00+00:00', ?, '2026-04-01')""",
                (rid, status, admitted),
            )
        conn.execute(
            """INSERT INTO referral_audit (referral_id, at, action, before, after)
               VALUES (2, '2026-06-30T20:00:00+00:00', 'withdraw', '{}', '{}')"""
        )
    conn.close()
    async with Database(path) as db, db.read() as conn2:
        assert await counters.differences(conn2) == []
        async with conn2.execute("SELECT COUNT(*) FROM referral_audit") as cur:
            assert (await cur.fetchone())[0] == 1
        async with conn2.execute("SELECT withdrawn_on FROM referrals WHERE id = 2") as cur:
            assert (await cur.fetchone())[0] == "2026-07-01"  # local date of the withdrawal
        async with conn2.execute("SELECT registered_on FROM members") as cur:
            assert (await cur.fetchone())[0] == "2026-04-01"
        async with conn2.execute("PRAGMA foreign_key_check") as cur:
            assert await cur.fetchall() == []
    async with Database(path) as db:
        q1 = await stats.figures(db, 1, Period(2026, "Q1"))
        q2 = await stats.figures(db, 1, Period(2026, "Q2"))
    assert q1 is not None and q2 is not None
    assert (q1.members, q1.pending) == (0, 0)  # registered on 1 April, local time
    assert (q2.members, q2.introduced, q2.admitted_doan, q2.pending) == (1, 2, 1, 1)
