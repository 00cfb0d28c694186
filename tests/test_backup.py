"""Backups of a real database while it is written to; restore; rotation."""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from storage import counters, members, referrals, units
from storage.backup import (
    BackupError,
    backup_name,
    make_backup,
    restore,
    rotate,
    verify,
)
from storage.clock import ManualClock, local_today
from storage.conversations import ConversationKey
from storage.db import Database, bundled_migrations
from storage.referrals import Decision
from storage.validation import AgePolicy, AgeRange, Birth, MemberIn, Org, ReferralIn

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_units.csv"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
POLICY = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})
START = datetime(2026, 5, 10, 3, 0, tzinfo=UTC)
BRANCHES = ("CD-AB-THON1", "CD-HL-KP3", "CD-NTMK-12A1")
SEEDED = 12  # members (each with one referral) in every test database


# --- building real data through the storage functions ----------------------------------------


async def scalar(db: Database, sql: str) -> Any:
    async with db.read() as conn, conn.execute(sql) as cur:
        row = await cur.fetchone()
    assert row is not None
    return row[0]


def file_scalar(path: Path, sql: str) -> Any:
    """Read a file with a throwaway read-only connection (no migration, no write)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


async def add_person(db: Database, clock: ManualClock, n: int) -> None:
    """Member n registers, introduces one youth, and every third youth is admitted:
    three transactions, each moving the counters of the unit and its ancestors."""
    async with db.read() as conn:
        branch = await units.get_by_code(conn, BRANCHES[n % len(BRANCHES)])
    assert branch is not None
    key = ConversationKey("telegram", str(n), str(n))
    data = MemberIn(full_name="Trần Văn Đoàn", membership=Org.DOAN)
    member = await members.register(db, key, branch.id, data, clock)
    youth = ReferralIn.model_validate(
        {
            "full_name": "Nguyễn Thị Hòa",
            "birth": Birth(2008, date(2008, 1, 1) + timedelta(days=n)),
            "phone": f"091{n:07d}",
            "org": "doan",
        },
        context={"today": local_today(clock, TZ), "ages": POLICY},
    )
    referral = await referrals.submit(db, key, member, youth, clock)
    if n % 3 == 0:
        day = local_today(clock, TZ)
        await referrals.change_status(
            db, referral.id, Decision.ADMIT, member.id, clock, admitted_on=day
        )
    clock.advance(timedelta(minutes=7))


async def seeded(path: Path) -> Database:
    db = Database(path)
    await db.open()
    try:
        text = SAMPLE.read_text(encoding="utf-8")
        await units.import_rows(db, units.parse_csv(text))
        clock = ManualClock(START)
        for n in range(1, SEEDED + 1):
            await add_person(db, clock, n)
    except BaseException:
        await db.close()
        raise
    return db


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
async def live(db_path: Path) -> AsyncIterator[Database]:
    """The running bot's database."""
    db = await seeded(db_path)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def stopped(db_path: Path, backups: Path) -> tuple[Path, Path]:
    """A stopped bot: its database (closed) and one good backup of it."""
    db = await seeded(db_path)
    try:
        report = await make_backup(db, backups / backup_name(START))
    finally:
        await db.close()
    return db_path, report.path


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file in a directory with its bytes: 'nothing changed' means this is equal."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def read(path: Path | str) -> bytes:
    return Path(path).read_bytes()


def write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def exists(path: Path | str) -> bool:
    return Path(path).exists()


async def refused(path: Path, code: str) -> None:
    with pytest.raises(BackupError) as caught:
        await verify(path)
    assert caught.value.code == code


# --- make_backup -------------------------------------------------------------------------------


async def test_backup_while_the_bot_writes_is_a_consistent_snapshot(
    live: Database, backups: Path
) -> None:
    clock = ManualClock(START + timedelta(days=1))
    stop = asyncio.Event()

    async def keep_writing() -> None:
        n = SEEDED
        while not stop.is_set():
            n += 1
            await add_person(live, clock, n)

    writer = asyncio.create_task(keep_writing())
    during = 0
    try:
        for i in range(6):
            before = await scalar(live, "SELECT count(*) FROM members")
            report = await make_backup(live, backups / f"copy-{i}.db")
            after = await scalar(live, "SELECT count(*) FROM members")
            during += after - before
            # Nothing committed before the backup is missing, nothing beyond what exists.
            assert before <= report.rows["members"] <= after
            await verify(report.path)
            assert report.size == len(read(report.path)) > 0
            assert report.seconds >= 0
            async with aiosqlite.connect(report.path) as conn:
                assert await counters.differences(conn) == []
            # A snapshot of whole transactions: members 1..n, referrals of those only.
            copy_members = file_scalar(report.path, "SELECT count(*) FROM members")
            assert copy_members == report.rows["members"]
            assert file_scalar(report.path, "SELECT max(id) FROM members") == copy_members
            copy_referrals = file_scalar(report.path, "SELECT count(*) FROM referrals")
            assert copy_referrals == report.rows["referrals"]
            assert copy_members - 1 <= copy_referrals <= copy_members
            assert report.rows["units"] == 14
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await writer
    assert during > 0, "the writer never committed while a backup ran"
    assert await scalar(live, "SELECT count(*) FROM members") > SEEDED


async def test_backup_is_one_private_self_contained_file(live: Database, backups: Path) -> None:
    dest = backups / backup_name(START)
    report = await make_backup(live, dest)
    assert report.path == dest
    assert report.rows == {"units": 14, "members": SEEDED, "referrals": SEEDED}
    assert listing(backups) == [dest.name]  # no -wal, no temp file
    assert os.stat(dest).st_mode & 0o777 == 0o600  # names and phone numbers inside
    header = read(dest)[:100]
    assert header[18:20] == b"\x01\x01"  # rollback journal: the file alone is the database
    assert file_scalar(dest, "PRAGMA user_version") == len(bundled_migrations())


async def test_backup_that_fails_verification_is_deleted(live: Database, backups: Path) -> None:
    async with live.write() as conn:  # a counter drifts in the live database
        await conn.execute("UPDATE unit_stats SET value = value + 1 WHERE metric = 'members'")
    dest = backups / backup_name(START)
    with pytest.raises(BackupError) as caught:
        await make_backup(live, dest)
    assert caught.value.code == "counters"
    assert listing(backups) == []


async def test_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    db = Database(tmp_path / "nowhere" / "bot.db")  # never opened
    with pytest.raises(BackupError) as caught:
        await make_backup(db, tmp_path / "backups" / "x.db")
    assert caught.value.code == "missing"
    assert not exists(tmp_path / "nowhere" / "bot.db")
    assert listing(tmp_path / "backups") == []


# --- verify and restore refuse bad files -------------------------------------------------------


def garbage(good: bytes) -> bytes:
    return random.Random(1).randbytes(len(good))


def truncated(good: bytes) -> bytes:
    return good[: len(good) // 2]


def torn_page(good: bytes) -> bytes:
    """The header intact, the pages after the first two overwritten."""
    page = int.from_bytes(good[16:18], "big")
    noise = random.Random(2).randbytes(len(good) - 2 * page)
    return good[: 2 * page] + noise


def emptied(good: bytes) -> bytes:
    return b""  # SQLite itself would take this for a valid, empty database


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (garbage, "not-sqlite"),
        (emptied, "not-sqlite"),
        (truncated, "integrity"),
        (torn_page, "integrity"),
    ],
)
async def test_damaged_backup_is_refused_and_restore_changes_nothing(
    stopped: tuple[Path, Path], tmp_path: Path, damage: Any, code: str
) -> None:
    db_path, good = stopped
    await verify(good)  # the undamaged file passes: the damage is what gets refused
    bad = tmp_path / "bad.db"
    write(bad, damage(read(good)))
    await refused(bad, code)
    before = snapshot(db_path.parent)
    with pytest.raises(BackupError) as caught:
        await restore(bad, db_path)
    assert caught.value.code == code
    assert snapshot(db_path.parent) == before  # same files, same bytes, nothing aside


@pytest.mark.parametrize(("version", "code"), [(1, None), (0, "version"), (1000, "version")])
async def test_schema_version_must_be_one_this_program_knows(
    stopped: tuple[Path, Path], tmp_path: Path, version: int, code: str | None
) -> None:
    db_path, good = stopped
    copy = tmp_path / "copy.db"
    shutil.copyfile(good, copy)
    known = len(bundled_migrations())
    set_to = known + 1 if version == 1000 else known if version == 1 else 0
    conn = sqlite3.connect(copy)
    conn.execute(f"PRAGMA user_version = {set_to}")
    conn.close()
    if code is None:  # rewriting the header is not in itself what gets a file refused
        await verify(copy)
        return
    await refused(copy, code)
    before = snapshot(db_path.parent)
    with pytest.raises(BackupError):
        await restore(copy, db_path)
    assert snapshot(db_path.parent) == before


async def test_counters_that_differ_from_a_recount_are_refused(
    stopped: tuple[Path, Path], tmp_path: Path
) -> None:
    _, good = stopped
    copy = tmp_path / "copy.db"
    shutil.copyfile(good, copy)
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute("DELETE FROM referrals WHERE id = 1")  # the rows change, counters do not
    conn.close()
    assert file_scalar(copy, "PRAGMA integrity_check") == "ok"
    await refused(copy, "counters")


async def test_restore_refuses_a_file_whose_rows_sit_in_its_wal(
    stopped: tuple[Path, Path], tmp_path: Path
) -> None:
    db_path, good = stopped
    copy = tmp_path / "copy.db"
    shutil.copyfile(good, copy)
    writer = sqlite3.connect(copy, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("UPDATE units SET name = 'Đổi tên' WHERE id = 1")
        before = snapshot(db_path.parent)
        with pytest.raises(BackupError) as caught:
            await restore(copy, db_path)
    finally:
        writer.close()
    assert caught.value.code == "wal"
    assert snapshot(db_path.parent) == before


async def test_restore_refuses_the_database_itself(stopped: tuple[Path, Path]) -> None:
    db_path, _ = stopped
    before = snapshot(db_path.parent)
    with pytest.raises(BackupError) as caught:
        await restore(db_path, db_path)
    assert caught.value.code == "same-file"
    assert snapshot(db_path.parent) == before


# --- restore -----------------------------------------------------------------------------------

ASIDE = re.compile(r"bot\.db\.before-restore-\d{8}T\d{6}Z")


async def test_restore_puts_the_backup_in_place_and_keeps_the_old_file(
    db_path: Path, backups: Path
) -> None:
    db = await seeded(db_path)
    try:
        report = await make_backup(db, backups / backup_name(START))
        clock = ManualClock(START + timedelta(days=2))
        for n in range(SEEDED + 1, SEEDED + 6):  # written after the backup: lost by restoring
            await add_person(db, clock, n)
    finally:
        await db.close()
    old = read(db_path)

    aside = await restore(report.path, db_path)

    assert aside is not None and aside.parent == db_path.parent
    assert ASIDE.fullmatch(aside.name)
    assert read(aside) == old
    assert read(db_path) == read(report.path)
    assert listing(db_path.parent) == sorted(["bot.db", aside.name])
    async with Database(db_path) as again:  # the bot starts on the restored data
        assert await scalar(again, "SELECT count(*) FROM members") == SEEDED
        async with again.read() as conn:
            assert await counters.differences(conn) == []
    assert file_scalar(aside, "SELECT count(*) FROM members") == SEEDED + 5


async def test_restore_keeps_a_crashed_database_with_its_wal(
    db_path: Path, backups: Path, tmp_path: Path
) -> None:
    crashed = tmp_path / "crashed" / "bot.db"
    crashed.parent.mkdir()
    db = await seeded(db_path)
    try:
        report = await make_backup(db, backups / backup_name(START))
        clock = ManualClock(START + timedelta(days=2))
        for n in range(SEEDED + 1, SEEDED + 4):
            await add_person(db, clock, n)
        # The files as a power cut would leave them: the newest rows only in the -wal.
        shutil.copyfile(db_path, crashed)
        shutil.copyfile(f"{db_path}-wal", f"{crashed}-wal")
    finally:
        await db.close()
    main_only = tmp_path / "main-only.db"
    shutil.copyfile(crashed, main_only)
    try:
        in_main_file = file_scalar(main_only, "SELECT count(*) FROM members")
    except sqlite3.OperationalError:  # no such table: even the schema is only in the -wal
        in_main_file = 0
    assert in_main_file < SEEDED + 3

    aside = await restore(report.path, crashed)

    assert aside is not None
    assert not exists(f"{crashed}-wal")  # a stale -wal would be replayed into the backup
    assert exists(f"{aside}-wal")
    assert read(crashed) == read(report.path)
    assert file_scalar(crashed, "SELECT count(*) FROM members") == SEEDED
    assert file_scalar(aside, "SELECT count(*) FROM members") == SEEDED + 3


async def test_restore_on_a_new_machine_keeps_nothing_aside(
    stopped: tuple[Path, Path], tmp_path: Path
) -> None:
    _, good = stopped
    target = tmp_path / "new" / "bot.db"
    assert await restore(good, target) is None
    assert read(target) == read(good)
    assert listing(target.parent) == ["bot.db"]


# --- names and rotation ------------------------------------------------------------------------


def test_backup_name_is_utc_and_sortable() -> None:
    hanoi = datetime(2026, 1, 1, 6, 30, 5, tzinfo=timezone(timedelta(hours=7)))
    assert backup_name(hanoi) == "motcongmot-20251231-233005.db"
    assert backup_name(hanoi, prefix="tinh-") == "tinh-20251231-233005.db"
    with pytest.raises(ValueError):
        backup_name(datetime(2026, 1, 1))


@pytest.fixture
def backup_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "rotating"
    directory.mkdir()
    yield directory


def test_rotate_keeps_the_newest_and_leaves_other_files_alone(backup_dir: Path) -> None:
    moments = [datetime(2026, 3, d, 2, 0, tzinfo=UTC) for d in (1, 2, 3, 4, 5)]
    ours = [backup_dir / backup_name(m) for m in moments]
    for age, path in enumerate(ours):
        path.write_bytes(b"x")
        # mtimes in the opposite order: the name's timestamp is what counts
        os.utime(path, (1_000_000 + age * -1000, 1_000_000 + age * -1000))
    others = [
        "notes.txt",
        "motcongmot-latest.db",
        "motcongmot-20260301-020000.db-journal",
        "motcongmot-20269999-999999.db",  # the right shape, not a date
        "other-20260101-000000.db",
        ".motcongmot-20260301-020000.db.ab12cd34.tmp",
    ]
    for name in others:
        (backup_dir / name).write_text("keep me")
    (backup_dir / "motcongmot-20200101-000000.db").mkdir()  # a directory, never deleted

    deleted = rotate(backup_dir, keep=2)

    assert deleted == ours[:3]
    remaining = {p.name for p in backup_dir.iterdir()}
    assert remaining == {p.name for p in ours[3:]} | set(others) | {"motcongmot-20200101-000000.db"}
    assert rotate(backup_dir, keep=2) == []
    assert rotate(backup_dir, keep=5, prefix="other-") == []
    assert rotate(backup_dir, keep=1) == [ours[3]]


def test_rotate_refuses_to_keep_nothing(backup_dir: Path) -> None:
    path = backup_dir / backup_name(START)
    path.write_bytes(b"x")
    with pytest.raises(ValueError):
        rotate(backup_dir, keep=0)
    assert path.exists()
