"""Storage against real SQLite files: migrations, transactions, units, referrals, invites."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from storage import conversations, invites, members, referrals, units
from storage.clock import ManualClock, local_today
from storage.conversations import Conversation, ConversationKey
from storage.db import Database, Migration, MigrationError, bundled_migrations
from storage.members import Member
from storage.referrals import DuplicateReferral, Status
from storage.units import CsvError, Unit
from storage.validation import AgePolicy, AgeRange, Birth, MemberIn, Org, ReferralIn

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_units.csv"
HEADER = "code,name,parent_code,org\n"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
POLICY = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})


def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def inspect(path: Path) -> tuple[int, list[tuple[Any, ...]]]:
    """user_version and the whole schema, read with a separate plain sqlite3 connection."""
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        schema = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()
    return version, schema


async def scalar(db: Database, sql: str, *params: Any) -> Any:
    async with db.read() as conn, conn.execute(sql, params) as cur:
        row = await cur.fetchone()
    assert row is not None
    return row[0]


async def load(db: Database, text: str) -> tuple[int, int]:
    return await units.import_rows(db, units.parse_csv(text))


async def unit(db: Database, code: str) -> Unit:
    async with db.read() as conn:
        found = await units.get_by_code(conn, code)
    assert found is not None, code
    return found


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
async def db(path: Path) -> AsyncIterator[Database]:
    """A database holding the sample province tree."""
    async with Database(path) as database:
        assert await load(database, sample_text()) == (14, 0)
        yield database


# --- migrations ------------------------------------------------------------------------------


async def test_fresh_database_reaches_schema_version(path: Path) -> None:
    bundled = bundled_migrations()
    assert [version for version, _, _ in bundled] == list(range(1, len(bundled) + 1))
    async with Database(path) as db:
        assert db.is_open
        assert db.schema_version == len(bundled) >= 1
        assert await scalar(db, "PRAGMA user_version") == db.schema_version
        assert await scalar(db, "PRAGMA journal_mode") == "wal"
        assert await scalar(db, "PRAGMA foreign_keys") == 1
        async with (
            db.read() as conn,
            conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur,
        ):
            tables = {row[0] for row in await cur.fetchall()}
    assert {"units", "members", "roles", "referrals", "conversations"} <= tables
    assert not db.is_open
    assert inspect(path)[0] == len(bundled)


async def test_foreign_keys_are_enforced(path: Path) -> None:
    async with Database(path) as db:
        with pytest.raises(sqlite3.IntegrityError):
            async with db.write() as conn:
                await conn.execute(
                    "INSERT INTO members (user_ref, unit_id, full_name, membership,"
                    " registered_at) VALUES ('1', 999, 'Lan', 'doan', '2026-01-01T00:00:00+00:00')"
                )
        assert await scalar(db, "SELECT count(*) FROM members") == 0


async def test_reopening_does_not_migrate_again(path: Path) -> None:
    async with Database(path) as db:
        async with db.write() as conn:
            await conn.execute("INSERT INTO units (code, name, org) VALUES ('A', 'An', 'doan')")
        await db.open()  # opening an open database does nothing
        assert db.is_open
    before = inspect(path)
    async with Database(path) as db:
        assert await scalar(db, "SELECT name FROM units WHERE code = 'A'") == "An"
    assert inspect(path) == before


M1: Migration = (1, "start", "CREATE TABLE things (id INTEGER PRIMARY KEY, label TEXT NOT NULL);")
M2: Migration = (
    2,
    "colour",
    "ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT 'đỏ';\n"
    "CREATE TABLE extras (x INTEGER);",
)
BROKEN2: Migration = (
    2,
    "broken",
    "CREATE TABLE extras (x INTEGER);\n"
    "INSERT INTO things (label) VALUES ('half-done');\n"
    "INSERT INTO no_such_table VALUES (1);",
)


async def _database_at_version_1(path: Path) -> None:
    async with Database(path, [M1]) as db:
        assert db.schema_version == 1
        async with db.write() as conn:
            await conn.execute("INSERT INTO things (label) VALUES ('giữ lại')")


async def test_older_database_is_upgraded_and_keeps_its_data(path: Path) -> None:
    await _database_at_version_1(path)
    assert inspect(path)[0] == 1
    async with Database(path, [M1, M2]) as db:
        assert await scalar(db, "PRAGMA user_version") == 2
        async with db.read() as conn, conn.execute("SELECT label, colour FROM things") as cur:
            rows = [tuple(row) for row in await cur.fetchall()]
        assert rows == [("giữ lại", "đỏ")]
        assert await scalar(db, "SELECT count(*) FROM extras") == 0


async def test_failed_migration_leaves_version_and_schema_untouched(path: Path) -> None:
    await _database_at_version_1(path)
    before = inspect(path)
    db = Database(path, [M1, BROKEN2])
    with pytest.raises(MigrationError, match="0002_broken"):
        await db.open()
    assert not db.is_open
    after = inspect(path)
    assert after == before
    assert after[0] == 1
    assert "extras" not in {name for _, name, _, _ in after[1]}
    # The script's own data change went too; a fixed program then upgrades normally.
    async with Database(path, [M1, M2]) as fixed:
        assert await scalar(fixed, "SELECT group_concat(label) FROM things") == "giữ lại"
        assert await scalar(fixed, "PRAGMA user_version") == 2


async def test_failed_first_migration_leaves_an_empty_database(path: Path) -> None:
    broken: Migration = (1, "broken", "CREATE TABLE a (x INTEGER);\nSELEC 1;")
    with pytest.raises(MigrationError):
        async with Database(path, [broken]):
            pass
    assert inspect(path) == (0, [])


async def test_database_newer_than_the_program_is_refused(path: Path) -> None:
    async with Database(path, [M1, M2]):
        pass
    before = inspect(path)
    db = Database(path, [M1])
    with pytest.raises(MigrationError, match="newer"):
        await db.open()
    assert not db.is_open
    assert inspect(path) == before
    # The shipped program refuses it too when the file is from the future.
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA user_version = 99")
    finally:
        conn.close()
    with pytest.raises(MigrationError, match="99"):
        async with Database(path):
            pass


async def test_closed_database_refuses_work(path: Path) -> None:
    db = Database(path)
    with pytest.raises(RuntimeError):
        async with db.read():
            pass
    async with db:
        pass
    with pytest.raises(RuntimeError):
        async with db.write():
            pass
    await db.close()  # closing twice is harmless


# --- transactions ----------------------------------------------------------------------------


async def test_exception_inside_write_rolls_back(path: Path) -> None:
    async with Database(path) as db:
        with pytest.raises(ZeroDivisionError):
            async with db.write() as conn:
                await conn.execute("INSERT INTO units (code, name, org) VALUES ('A', 'A', 'doan')")
                async with conn.execute("SELECT count(*) FROM units") as cur:
                    assert tuple(await cur.fetchone() or ()) == (1,)
                _ = 1 / 0
        assert await scalar(db, "SELECT count(*) FROM units") == 0
        # The connection is usable again: no transaction was left open.
        async with db.write() as conn:
            await conn.execute("INSERT INTO units (code, name, org) VALUES ('B', 'B', 'hoi')")
        assert await scalar(db, "SELECT group_concat(code) FROM units") == "B"
    async with Database(path) as again:
        assert await scalar(again, "SELECT group_concat(code) FROM units") == "B"


COUNTER: list[Migration] = [
    (
        1,
        "counter",
        "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);\n"
        "INSERT INTO counter VALUES (1, 0);",
    )
]


async def test_concurrent_read_modify_write_never_loses_an_update(path: Path) -> None:
    async with Database(path, COUNTER) as db:

        async def increment() -> None:
            async with db.write() as conn:
                async with conn.execute("SELECT n FROM counter WHERE id = 1") as cur:
                    row = await cur.fetchone()
                assert row is not None
                await asyncio.sleep(0)  # every other task gets its chance to interleave here
                await asyncio.sleep(0.001)
                await conn.execute("UPDATE counter SET n = ? WHERE id = 1", (row[0] + 1,))

        await asyncio.gather(*(increment() for _ in range(50)))
        assert await scalar(db, "SELECT n FROM counter WHERE id = 1") == 50


async def test_a_read_never_sees_an_unfinished_write(path: Path) -> None:
    """Reads and writes share one connection: only the lock keeps a read out of a write in
    progress. Without it the read below would run inside the open transaction and see 7,
    a value that is then rolled back."""

    class Abandoned(Exception):
        pass

    async with Database(path, COUNTER) as db:
        before = await scalar(db, "SELECT n FROM counter WHERE id = 1")
        inside = asyncio.Event()
        release = asyncio.Event()

        async def slow_write() -> None:
            async with db.write() as conn:
                await conn.execute("UPDATE counter SET n = 7 WHERE id = 1")
                inside.set()
                await release.wait()
                raise Abandoned

        writer = asyncio.create_task(slow_write())
        await inside.wait()
        reader = asyncio.create_task(scalar(db, "SELECT n FROM counter WHERE id = 1"))
        try:
            done, _ = await asyncio.wait({reader}, timeout=0.5)
        finally:
            release.set()
            with pytest.raises(Abandoned):
                await writer
        assert not done, "the read ran in the middle of the write"
        assert await reader == before != 7


async def test_a_long_read_on_its_own_connection_holds_nobody(path: Path) -> None:
    async with Database(path, COUNTER) as db:
        async with db.reader() as conn:
            async with conn.execute("SELECT n FROM counter WHERE id = 1") as cur:
                first = (await cur.fetchone())[0]

            async def bump() -> None:
                async with db.write() as writer:
                    await writer.execute("UPDATE counter SET n = n + 1 WHERE id = 1")

            await asyncio.wait_for(bump(), 2)  # the bot writes while the report reads
            assert await asyncio.wait_for(scalar(db, "SELECT n FROM counter"), 2) == first + 1
            async with conn.execute("SELECT n FROM counter WHERE id = 1") as cur:
                again = (await cur.fetchone())[0]
        assert again == first  # the report reads one snapshot from start to end


# --- units: CSV ------------------------------------------------------------------------------


def test_parse_sample_csv() -> None:
    rows = units.parse_csv(sample_text())
    assert len(rows) == 14
    assert [row.line for row in rows] == list(range(2, 16))
    first, third = rows[0], rows[2]
    assert (first.code, first.name, first.parent_code, first.org) == (
        "TD-MAU",
        "Tỉnh đoàn Mẫu",
        "",
        Org.DOAN,
    )
    assert (third.code, third.name, third.parent_code) == (
        "CD-AB-THON1",
        "Chi đoàn thôn Tân Lập",
        "X-AN-BINH",
    )
    assert {row.org for row in rows} == {Org.DOAN, Org.HOI}
    assert sum(row.org is Org.HOI for row in rows) == 4


async def test_import_is_idempotent(db: Database) -> None:
    before = await units.export_csv(db)
    assert await load(db, sample_text()) == (0, 0)
    assert await units.export_csv(db) == before
    assert await scalar(db, "SELECT count(*) FROM units") == 14
    x = await unit(db, "X-AN-BINH")
    thon = await unit(db, "CD-AB-THON1")
    assert thon.parent_id == x.id
    assert (await unit(db, "TD-MAU")).parent_id is None


async def test_reimport_of_edited_file_updates_names_and_parents(db: Database) -> None:
    edited = (
        sample_text()
        .replace("CD-HL-KP3,Chi đoàn khu phố 3,", "CD-HL-KP3,Chi đoàn khu phố 3 (mới),")
        .replace(
            "CD-HL-KP7,Chi đoàn khu phố 7,P-HOA-LAC,", "CD-HL-KP7,Chi đoàn khu phố 7,X-AN-BINH,"
        )
        + "CD-HL-KP9,Chi đoàn khu phố 9,P-HOA-LAC,doan\n"
    )
    assert edited.count("\n") == sample_text().count("\n") + 1
    assert await load(db, edited) == (1, 2)
    assert (await unit(db, "CD-HL-KP3")).name == "Chi đoàn khu phố 3 (mới)"
    assert (await unit(db, "CD-HL-KP7")).parent_id == (await unit(db, "X-AN-BINH")).id
    assert (await unit(db, "CD-HL-KP9")).parent_id == (await unit(db, "P-HOA-LAC")).id
    assert await load(db, edited) == (0, 0)


async def test_moving_a_unit_back_to_the_root_and_partial_files(db: Database) -> None:
    moved = HEADER + "X-AN-BINH,Đoàn xã An Bình,,doan\n"
    assert await load(db, moved) == (0, 1)
    assert (await unit(db, "X-AN-BINH")).parent_id is None
    # Units missing from a partial file stay where they were.
    assert await scalar(db, "SELECT count(*) FROM units") == 14
    assert (await unit(db, "CD-AB-THON1")).parent_id == (await unit(db, "X-AN-BINH")).id
    # A change of organisation counts as a change.
    assert await load(db, HEADER + "SOLO,Đơn vị lẻ,,doan\n") == (1, 0)
    assert await load(db, HEADER + "SOLO,Đơn vị lẻ,,hoi\n") == (0, 1)
    assert (await unit(db, "SOLO")).org is Org.HOI


async def test_renamed_and_moved_unit_counts_once(db: Database) -> None:
    edited = HEADER + "CD-HL-KP7,Chi đoàn khu phố 7B,X-AN-BINH,doan\n"
    assert await load(db, edited) == (0, 1)


BAD_FILES = [
    pytest.param("ma,ten,cha,to_chuc\nNEW-1,Mới,,doan\n", 1, "csv_header", id="header-words"),
    pytest.param("", 1, "csv_header", id="empty-file"),
    pytest.param("code,name,parent_code\nNEW-1,Mới,\n", 1, "csv_header", id="header-3-cols"),
    pytest.param(
        HEADER + "NEW-1,Chi đoàn mới,X-AN-BINH,doan\nNEW-2,Chi đoàn, thôn 2,X-AN-BINH,doan\n",
        3,
        "csv_columns",
        id="unquoted-comma",
    ),
    pytest.param(HEADER + "NEW-1,Mới,X-AN-BINH\n", 2, "csv_columns", id="3-columns"),
    pytest.param(
        HEADER + "NEW-1,Mới,X-AN-BINH,doan\n\n\nBAD CODE,Tên,,doan\n",
        5,
        "csv_code",
        id="space-in-code-after-blank-lines",
    ),
    pytest.param(HEADER + "NEW-1,Mới,,doan\nCĐ-1,Chi đoàn,,doan\n", 3, "csv_code", id="code-đ"),
    pytest.param(HEADER + "A" * 41 + ",Dài,,doan\n", 2, "csv_code", id="code-41"),
    pytest.param(HEADER + ",Không mã,,doan\n", 2, "csv_code", id="code-empty"),
    pytest.param(
        HEADER + "NEW-1,Mới,,doan\nNEW-2,Hai,,hoi\nNEW-1,Lại,,doan\n",
        4,
        "csv_duplicate",
        id="duplicate",
    ),
    pytest.param(HEADER + "NEW-1,Mới,,doan\nNEW-2,  ,,doan\n", 3, "csv_name", id="name-blank"),
    pytest.param(HEADER + "NEW-1," + "x" * 151 + ",,doan\n", 2, "csv_name", id="name-151"),
    pytest.param(HEADER + "NEW-1,Mới,,doan\nNEW-2,Hai,,Đoàn\n", 3, "csv_org", id="org-đoàn"),
    pytest.param(HEADER + "NEW-1,Mới,,\n", 2, "csv_org", id="org-empty"),
    pytest.param(
        HEADER + "NEW-1,Mới,X-AN-BINH,doan\nNEW-2,Hai,NO-SUCH,doan\n",
        3,
        "csv_parent",
        id="unknown-parent",
    ),
    pytest.param(
        HEADER + "CD-HL-KP3,Chi đoàn khu phố 3 SỬA,P-HOA-LAC,doan\nNEW-2,Hai,KHONG-CO,doan\n",
        3,
        "csv_parent",
        id="unknown-parent-after-an-edit",
    ),
    pytest.param(HEADER + "NEW-1,Mới,NEW-1,doan\n", 2, "csv_cycle", id="own-parent"),
    pytest.param(
        HEADER + "NEW-1,Một,NEW-2,doan\nNEW-2,Hai,NEW-1,doan\n", 2, "csv_cycle", id="cycle-in-file"
    ),
    pytest.param(
        HEADER + "HOI-X-AN-BINH,Hội LHTN xã An Bình SỬA,HOI-TINH,hoi\n"
        "TD-MAU,Tỉnh đoàn Mẫu,CD-AB-THON1,doan\n",
        3,
        "csv_cycle",
        id="cycle-through-database",
    ),
    pytest.param(
        HEADER + "NEW-1,Mới,CD-HL-KP3,doan\nP-HOA-LAC,Đoàn phường Hòa Lạc,NEW-1,doan\n",
        2,
        "csv_cycle",
        id="cycle-through-database-and-new-unit",
    ),
]


@pytest.mark.parametrize(("text", "line", "code"), BAD_FILES)
async def test_bad_file_names_its_line_and_writes_nothing(
    db: Database, text: str, line: int, code: str
) -> None:
    before = await units.export_csv(db)
    with pytest.raises(CsvError) as info:
        await load(db, text)
    assert (info.value.line, info.value.code) == (line, code)
    assert str(info.value).startswith(f"line {line}: {code}")
    assert await units.export_csv(db) == before


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        pytest.param(
            HEADER + "NEW-0,Ngoài vòng,NEW-1,doan\nNEW-1,Một,NEW-2,doan\nNEW-2,Hai,NEW-1,doan\n",
            {3, 4},
            id="in-file",
        ),
        pytest.param(
            # Renaming khu phố 3 is harmless; moving the province under a branch is the loop.
            HEADER + "CD-HL-KP3,Chi đoàn khu phố 3 SỬA,P-HOA-LAC,doan\n"
            "TD-MAU,Tỉnh đoàn Mẫu,CD-AB-THON1,doan\n",
            {3},
            id="through-database",
        ),
    ],
)
async def test_cycle_is_reported_on_a_row_of_the_loop(
    db: Database, text: str, lines: set[int]
) -> None:
    before = await units.export_csv(db)
    with pytest.raises(CsvError) as info:
        await load(db, text)
    assert await units.export_csv(db) == before
    assert info.value.code == "csv_cycle"
    assert info.value.line in lines


def test_line_numbers_count_physical_lines_after_a_multiline_cell() -> None:
    text = HEADER + 'NEW-1,"Chi đoàn\nthôn 1",,doan\nNEW-2,,,doan\n'
    with pytest.raises(CsvError) as info:
        units.parse_csv(text)
    assert (info.value.line, info.value.code) == (4, "csv_name")


async def test_export_round_trips(db: Database, tmp_path: Path) -> None:
    # An official headcount goes out and comes back (the members column, empty where unknown).
    await units.import_rows(
        db,
        units.parse_csv(
            HEADER.strip() + ",members\nCD-AB-THON1,Chi đoàn thôn Tân Lập,X-AN-BINH,doan,37\n"
        ),
    )
    exported = await units.export_csv(db)
    lines = exported.splitlines()
    assert lines[0] == HEADER.strip() + ",members"
    assert "CD-AB-THON1,Chi đoàn thôn Tân Lập,X-AN-BINH,doan,37" in lines
    assert "TD-MAU,Tỉnh đoàn Mẫu,,doan," in lines
    again = units.parse_csv(exported)
    assert {r.code: r.headcount for r in again}["CD-AB-THON1"] == 37
    assert await units.import_rows(db, again) is not None
    assert await units.export_csv(db) == exported
    assert len(lines) == 15
    # Same units as the sample, each parent before its children.
    as_set = {(r.code, r.name, r.parent_code, r.org) for r in units.parse_csv(exported)}
    assert as_set == {
        (r.code, r.name, r.parent_code, r.org) for r in units.parse_csv(sample_text())
    }
    seen: set[str] = set()
    for row in units.parse_csv(exported):
        assert row.parent_code == "" or row.parent_code in seen, row
        seen.add(row.code)
    async with Database(tmp_path / "copy.db") as copy:
        assert await load(copy, exported) == (14, 0)
        assert await units.export_csv(copy) == exported


async def test_bom_crlf_blank_lines_and_case_are_tolerated(path: Path) -> None:
    body = sample_text().replace("\n", "\r\n").replace(",doan\r\n", ",DOAN\r\n\r\n", 3)
    text = "\ufeff" + body.replace("code,name,parent_code,org", "Code, Name ,PARENT_CODE,org", 1)
    text += ",,,\r\n   \r\n"
    rows = units.parse_csv(text)
    assert len(rows) == 14
    assert rows[0].code == "TD-MAU"
    assert rows[0].org is Org.DOAN
    assert rows[1].line == 4  # the blank line after TD-MAU still counts as a line
    async with Database(path) as db:
        assert await load(db, text) == (14, 0)
        assert await load(db, sample_text()) == (0, 0)


async def test_spaces_around_cells_and_inside_names(path: Path) -> None:
    text = HEADER + " A , Đoàn   xã  An Bình ,  , doan \nB,Chi đoàn  1, A ,hoi\n"
    async with Database(path) as db:
        assert await load(db, text) == (2, 0)
        a = await unit(db, "A")
        assert a.name == "Đoàn xã An Bình"
        assert (await unit(db, "B")).parent_id == a.id


# --- units: the tree -------------------------------------------------------------------------


async def test_children_are_sorted_by_name(db: Database) -> None:
    school_id = (await unit(db, "DCS-THPT-NTMK")).id
    province_id = (await unit(db, "TD-MAU")).id
    leaf_id = (await unit(db, "CD-NTMK-12A1")).id
    async with db.read() as conn:
        roots = await units.children(conn, None)
        school = await units.children(conn, school_id)
        province = await units.children(conn, province_id)
        leaf = await units.children(conn, leaf_id)
    assert [u.code for u in roots] == ["HOI-TINH", "TD-MAU"]
    assert [u.name for u in school] == ["Chi đoàn lớp 11B2", "Chi đoàn lớp 12A1"]
    assert [u.code for u in province] == ["P-HOA-LAC", "DCS-THPT-NTMK", "X-AN-BINH"]
    assert leaf == []


async def test_children_order_ignores_ascii_case(path: Path) -> None:
    text = (
        HEADER + "R,Gốc,,doan\nK1,Chi đoàn lớp b,R,doan\nK2,Chi đoàn lớp A,R,doan\n"
        "K3,Chi đoàn lớp C,R,doan\n"
    )
    async with Database(path) as db:
        await load(db, text)
        root = await unit(db, "R")
        async with db.read() as conn:
            kids = await units.children(conn, root.id)
            assert await units.has_children(conn, root.id)
            assert not await units.has_children(conn, kids[0].id)
    assert [u.code for u in kids] == ["K2", "K1", "K3"]


async def test_children_order_ignores_vietnamese_case(path: Path) -> None:
    text = (
        HEADER + "R,Gốc,,doan\nK1,Chi đoàn B,R,doan\nK2,Chi đoàn A,R,doan\nK3,CHI ĐOÀN C,R,doan\n"
    )
    async with Database(path) as db:
        await load(db, text)
        root = await unit(db, "R")
        async with db.read() as conn:
            kids = await units.children(conn, root.id)
    assert [u.code for u in kids] == ["K2", "K1", "K3"]


async def test_ancestors_from_leaf_to_root(db: Database) -> None:
    leaf, top = await unit(db, "CD-AB-THON1"), await unit(db, "HOI-TINH")
    async with db.read() as conn:
        chain = await units.ancestors(conn, leaf.id)
        root = await units.ancestors(conn, top.id)
        missing = await units.ancestors(conn, 9999)
    assert [u.code for u in chain] == ["CD-AB-THON1", "X-AN-BINH", "TD-MAU"]
    assert [u.code for u in root] == ["HOI-TINH"]
    assert missing == []


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("tan lap", {"CD-AB-THON1", "CH-AB-THON1"}),
        ("TÂN LẬP", {"CD-AB-THON1", "CH-AB-THON1"}),
        ("lap tan", {"CD-AB-THON1", "CH-AB-THON1"}),
        ("chi doan tan lap", {"CD-AB-THON1"}),
        ("Chi đoàn thôn Tân Lập", {"CD-AB-THON1"}),
        ("hoi tan", {"CH-AB-THON1"}),
        ("phu hoa", {"CD-AB-THON2", "CH-AB-THON2"}),
        ("phú hoà", {"CD-AB-THON2", "CH-AB-THON2"}),  # new-style tone placement
        ("khu pho", {"CD-HL-KP3", "CD-HL-KP7"}),
        ("12a1", {"CD-NTMK-12A1"}),
        ("ntmk", {"CD-NTMK-12A1", "CD-NTMK-11B2"}),  # codes are searched too
        ("an binh", set()),  # only "Đoàn xã An Bình" and "Hội LHTN xã An Bình": not leaves
        ("hoa lac", set()),
        ("tỉnh", set()),
        ("tan lap xyz", set()),
        ("   ", set()),
    ],
)
async def test_search_leaves(db: Database, query: str, codes: set[str]) -> None:
    async with db.read() as conn:
        found = await units.search_leaves(conn, query, 10)
        leaves = [u for u in found if not await units.has_children(conn, u.id)]
    assert {u.code for u in found} == codes
    assert leaves == found


async def test_search_leaves_limit(db: Database) -> None:
    async with db.read() as conn:
        everything = await units.search_leaves(conn, "chi", 100)
        two = await units.search_leaves(conn, "chi", 2)
    assert len(everything) == 8
    assert two == everything[:2]


# --- referrals -------------------------------------------------------------------------------

START = datetime(2026, 5, 10, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def key_for(user: str) -> ConversationKey:
    return ConversationKey("telegram", user, user)


async def register(db: Database, clock: ManualClock, user: str = "1001") -> Member:
    branch = await unit(db, "CD-AB-THON1")
    data = MemberIn(full_name="Trần Văn Đoàn", membership=Org.DOAN)
    return await members.register(db, key_for(user), branch.id, data, clock)


def youth(clock: ManualClock, **fields: Any) -> ReferralIn:
    data: dict[str, Any] = {
        "full_name": "Nguyễn Thị Hòa",
        "birth": Birth(2008, date(2008, 3, 5)),
        "org": "doan",
    }
    data.update(fields)
    return ReferralIn.model_validate(
        data, context={"today": local_today(clock, TZ), "ages": POLICY}
    )


async def submit(
    db: Database, clock: ManualClock, member: Member, **fields: Any
) -> referrals.Referral:
    return await referrals.submit(
        db, key_for(member.user_ref), member, youth(clock, **fields), clock
    )


async def test_submit_saves_introduced_in_members_unit_and_ends_conversation(
    db: Database, clock: ManualClock
) -> None:
    member = await register(db, clock)
    other = await register(db, clock, user="2002")
    draft = Conversation("referral", "confirm", {"full_name": "Nguyễn Thị Hòa"})
    await conversations.put(db, key_for(member.user_ref), draft, clock)
    await conversations.put(db, key_for(other.user_ref), draft, clock)
    clock.advance(timedelta(minutes=5))

    saved = await submit(db, clock, member, phone="0912 345 678")

    assert saved.status is Status.INTRODUCED
    assert saved.member_id == member.id
    assert saved.unit_id == member.unit_id == (await unit(db, "CD-AB-THON1")).id
    assert saved.full_name == "Nguyễn Thị Hòa"
    assert saved.birth == Birth(2008, date(2008, 3, 5))
    assert saved.phone == "0912345678"
    assert saved.org is Org.DOAN
    assert saved.introduced_at == START + timedelta(minutes=5)
    assert saved.admitted_on is None
    assert await conversations.current(db, key_for(member.user_ref)) is None
    assert await conversations.current(db, key_for(other.user_ref)) == draft
    assert await scalar(db, "SELECT name_key FROM referrals WHERE id = ?", saved.id) == (
        "nguyễn thị hòa"
    )


async def test_referral_keeps_the_unit_of_the_time(db: Database, clock: ManualClock) -> None:
    member = await register(db, clock)
    saved = await submit(db, clock, member)
    elsewhere = await unit(db, "CD-HL-KP3")
    async with db.write() as conn:
        await conn.execute("UPDATE members SET unit_id = ? WHERE id = ?", (elsewhere.id, member.id))
    year = await referrals.member_year(db, member.id, 2026, TZ)
    assert [r.unit_id for r in year.referrals] == [saved.unit_id]


DUPLICATES = [
    pytest.param(
        {"phone": "0912345678"},
        {"full_name": "Lê Văn Khác", "phone": "+84 912 345 678"},
        id="same-phone",
    ),
    pytest.param({}, {"full_name": "NGUYỄN THỊ HOÀ"}, id="same-name-key-and-date"),
    pytest.param({}, {"full_name": "nguyễn  thị hoà", "birth": Birth(2008)}, id="bare-year-new"),
    pytest.param({"birth": Birth(2008)}, {}, id="bare-year-old"),
    pytest.param({"birth": Birth(2008)}, {"birth": Birth(2008)}, id="bare-year-both"),
    pytest.param({"phone": "0912345678"}, {"phone": "0912345678", "org": "hoi"}, id="other-org"),
]


@pytest.mark.parametrize(("first", "second"), DUPLICATES)
async def test_duplicates_are_refused(
    db: Database, clock: ManualClock, first: dict[str, Any], second: dict[str, Any]
) -> None:
    member = await register(db, clock)
    other = await register(db, clock, user="2002")  # whoever introduced the first one
    await submit(db, clock, member, **first)
    data = youth(clock, **second)
    assert await referrals.already_referred(
        db, full_name=data.full_name, birth=data.birth, phone=data.phone
    )
    with pytest.raises(DuplicateReferral):
        await referrals.submit(db, key_for(other.user_ref), other, data, clock)
    assert await scalar(db, "SELECT count(*) FROM referrals") == 1


NOT_DUPLICATES = [
    pytest.param({}, {"birth": Birth(2008, date(2008, 3, 6))}, id="other-date"),
    pytest.param({}, {"birth": Birth(2009)}, id="other-year"),
    pytest.param(
        {"birth": Birth(2008)}, {"birth": Birth(2007, date(2007, 3, 5))}, id="year-vs-date"
    ),
    pytest.param({}, {"full_name": "Nguyễn Thị Hóa"}, id="other-tone"),
    pytest.param({}, {"full_name": "Nguyễn Thị Hoa"}, id="no-tone"),
    pytest.param(
        {"phone": "0912345678"},
        {"full_name": "Lê Văn Khác", "phone": "0912345679"},
        id="other-phone",
    ),
]


@pytest.mark.parametrize(("first", "second"), NOT_DUPLICATES)
async def test_different_youths_are_not_duplicates(
    db: Database, clock: ManualClock, first: dict[str, Any], second: dict[str, Any]
) -> None:
    member = await register(db, clock)
    await submit(db, clock, member, **first)
    data = youth(clock, **second)
    assert not await referrals.already_referred(
        db, full_name=data.full_name, birth=data.birth, phone=data.phone
    )
    await referrals.submit(db, key_for(member.user_ref), member, data, clock)
    assert await scalar(db, "SELECT count(*) FROM referrals") == 2


async def test_withdrawn_referral_does_not_block(db: Database, clock: ManualClock) -> None:
    member = await register(db, clock)
    first = await submit(db, clock, member, phone="0912345678")
    async with db.write() as conn:
        await conn.execute("UPDATE referrals SET status = 'withdrawn' WHERE id = ?", (first.id,))
    assert not await referrals.already_referred(db, phone="0912345678")
    again = await submit(db, clock, member, phone="0912345678")
    assert again.id != first.id
    assert again.status is Status.INTRODUCED
    with pytest.raises(DuplicateReferral):
        await submit(db, clock, member, phone="0912345678")


async def test_duplicate_submit_ends_the_conversation(db: Database, clock: ManualClock) -> None:
    member = await register(db, clock)
    await submit(db, clock, member)
    draft = Conversation("referral", "confirm", {"full_name": "Nguyễn Thị Hòa"})
    await conversations.put(db, key_for(member.user_ref), draft, clock)
    with pytest.raises(DuplicateReferral):
        await submit(db, clock, member)
    assert await conversations.current(db, key_for(member.user_ref)) is None


async def test_member_year_uses_the_local_year(db: Database, clock: ManualClock) -> None:
    member = await register(db, clock)
    clock.set(datetime(2026, 12, 31, 16, 59, tzinfo=UTC))  # 23:59 on 31/12 in Hà Nội
    late_2026 = await submit(db, clock, member, full_name="Lê Văn Một")
    clock.set(datetime(2026, 12, 31, 18, 0, tzinfo=UTC))  # 01:00 on 1/1/2027 in Hà Nội
    early_2027 = await submit(db, clock, member, full_name="Lê Văn Hai")

    y2026 = await referrals.member_year(db, member.id, 2026, TZ)
    y2027 = await referrals.member_year(db, member.id, 2027, TZ)
    assert [r.id for r in y2026.referrals] == [late_2026.id]
    assert [r.id for r in y2027.referrals] == [early_2027.id]
    assert (y2027.year, y2027.admitted, y2027.met, y2027.pending) == (2027, 0, False, 1)
    # In UTC the 2027 one would have fallen in 2026: the zone matters.
    utc_2026 = await referrals.member_year(db, member.id, 2026, ZoneInfo("UTC"))
    assert {r.id for r in utc_2026.referrals} == {late_2026.id, early_2027.id}


async def test_member_year_counts_admissions_in_the_year(db: Database, clock: ManualClock) -> None:
    member = await register(db, clock)
    clock.set(datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
    first = await submit(db, clock, member, full_name="Lê Văn Một")
    second = await submit(db, clock, member, full_name="Lê Văn Hai")
    async with db.write() as conn:
        await conn.execute(
            "UPDATE referrals SET status = 'admitted', admitted_on = '2027-01-15' WHERE id = ?",
            (first.id,),
        )
    y2026 = await referrals.member_year(db, member.id, 2026, TZ)
    y2027 = await referrals.member_year(db, member.id, 2027, TZ)
    assert [r.id for r in y2026.referrals] == [second.id, first.id]  # newest first
    assert (y2026.admitted, y2026.met, y2026.pending) == (0, False, 1)
    assert [r.id for r in y2027.referrals] == [first.id]
    assert (y2027.admitted, y2027.met, y2027.pending) == (1, True, 0)
    assert y2027.referrals[0].admitted_on == date(2027, 1, 15)


# --- invites ---------------------------------------------------------------------------------

SECRET = b"bi-mat-cua-tinh-doan-" * 2
PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def test_unit_payload_fits_telegram_and_resolves(db: Database) -> None:
    branch = await unit(db, "CD-AB-THON1")
    payload = invites.unit_payload(SECRET, branch)
    assert PAYLOAD.match(payload)
    assert payload.startswith(f"u_{branch.id}_")
    assert await invites.resolve_unit_payload(db, SECRET, payload) == branch
    assert invites.link("motcongmot_bot", payload) == (
        f"https://t.me/motcongmot_bot?start={payload}"
    )


async def test_largest_unit_id_still_fits(db: Database) -> None:
    huge = Unit(
        id=999_999_999_999,
        code="X",
        name="X",
        parent_id=None,
        org=Org.DOAN,
        invite_generation=10**6,
    )
    assert PAYLOAD.match(invites.unit_payload(SECRET, huge))


def _flip(char: str) -> str:
    return "A" if char != "A" else "B"


async def test_forged_payloads_are_refused(db: Database) -> None:
    branch = await unit(db, "CD-AB-THON1")
    neighbour = await unit(db, "CD-AB-THON2")
    payload = invites.unit_payload(SECRET, branch)
    prefix = f"u_{branch.id}_"
    tag = payload[len(prefix) :]
    assert len(tag) == 22
    tampered = [
        prefix + _flip(tag[0]) + tag[1:],
        prefix + tag[:-1] + _flip(tag[-1]),
        f"u_{neighbour.id}_{tag}",  # another unit, same tag
        invites.unit_payload(b"another secret", branch),
        payload[:-1],
        payload + "A",
        f"u_999_{tag}",
        "",
        "u_",
        payload.replace("u_", "g_", 1),
    ]
    for forged in tampered:
        assert await invites.resolve_unit_payload(db, SECRET, forged) is None, forged
    assert await invites.resolve_unit_payload(db, SECRET, payload) == branch


async def test_bumped_generation_revokes_old_link(db: Database) -> None:
    branch = await unit(db, "CD-AB-THON1")
    neighbour = await unit(db, "CD-AB-THON2")
    old = invites.unit_payload(SECRET, branch)
    other = invites.unit_payload(SECRET, neighbour)
    async with db.write() as conn:
        assert await units.bump_invite_generation(conn, branch.id) == 2
    assert await invites.resolve_unit_payload(db, SECRET, old) is None
    renewed = await unit(db, "CD-AB-THON1")
    new = invites.unit_payload(SECRET, renewed)
    assert new != old
    assert await invites.resolve_unit_payload(db, SECRET, new) == renewed
    assert await invites.resolve_unit_payload(db, SECRET, other) == neighbour


async def test_aiosqlite_row_access_is_by_name(path: Path) -> None:
    # Unit.from_row and friends read columns by name: the connection must hand out Rows.
    async with Database(path) as db, db.read() as conn, conn.execute("SELECT 1 AS one") as cur:
        row = await cur.fetchone()
    assert isinstance(row, aiosqlite.Row)
    assert row["one"] == 1


async def test_counters_lost_between_migration_and_recount_are_rebuilt_at_open(
    tmp_path: Path,
) -> None:
    """A crash after migration 4 but before its recount must not leave /stats at zero."""
    from datetime import UTC, datetime

    from storage import counters
    from storage.clock import ManualClock
    from storage.conversations import ConversationKey
    from storage.validation import MemberIn, Org

    path = tmp_path / "bot.db"
    clock = ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
    async with Database(path) as db:
        await units.import_rows(db, units.parse_csv(SAMPLE.read_text(encoding="utf-8")))
        async with db.read() as conn:
            branch = await units.get_by_code(conn, "CD-AB-THON1")
        assert branch is not None
        await members.register(
            db,
            ConversationKey("telegram", "1", "1"),
            branch.id,
            MemberIn(full_name="Trần Thị Lan", membership=Org.DOAN),
            clock,
        )
        async with db.write() as conn:
            await conn.execute("DELETE FROM unit_stats")
    async with Database(path) as db, db.read() as conn:
        assert await counters.differences(conn) == []
        async with conn.execute("SELECT COUNT(*) FROM unit_stats") as cur:
            assert (await cur.fetchone())[0] > 0
