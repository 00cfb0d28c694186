"""`motcongmot import-admissions`: a unit's earlier admissions, validated line by line, written
in one transaction or not at all, idempotent, and refused for a youth the bot already knows."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from storage import admissions_import, counters, members, referrals, stats, units
from storage.clock import ManualClock
from storage.conversations import ConversationKey
from storage.db import Database
from storage.periods import Period
from storage.units import CsvError
from storage.validation import AgePolicy, AgeRange, Birth, MemberIn, Org, ReferralIn

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample_units.csv"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AGES = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})
TODAY = date(2026, 11, 20)
HEADER = "youth,birth,org,introducer,admitted_on,unit_code\n"
GOOD = (
    HEADER + "Nguyễn Văn Hải,12/05/2005,doan,,15/03/2026,CD-AB-THON1\n"
    "Lê Thị Mai,2007,Hội,Trần Thị Lan,20/04/2026,CH-AB-THON1\n"
    "\n"
    "Phạm Minh Đức,2004,Đoàn,Người Ngoài Bot,01/02/2025,CD-HL-KP3\n"
)


def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 20, 9, tzinfo=TZ))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "bot.db") as database:
        sample = SAMPLE.read_text(encoding="utf-8")
        await units.import_rows(database, units.parse_csv(sample))
        yield database
        async with database.read() as conn:
            assert await counters.differences(conn) == []


async def load(db: Database, text: str) -> admissions_import.Imported:
    rows = admissions_import.parse_csv(text, TODAY, AGES)
    return await admissions_import.import_rows(db, rows, clock(), TZ)


async def dump(db: Database) -> list[tuple[object, ...]]:
    async with db.read() as conn:
        found = []
        for table in ("referrals", "unit_stats", "referral_audit"):
            async with conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3") as cur:
                found += [tuple(row) for row in await cur.fetchall()]
        return found


async def unit_id(db: Database, code: str) -> int:
    async with db.read() as conn:
        found = await units.get_by_code(conn, code)
    assert found is not None
    return found.id


async def test_a_units_earlier_admissions_count_where_they_happened(db: Database) -> None:
    lan = await members.register(
        db,
        ConversationKey("telegram", "1", "1"),
        await unit_id(db, "CH-AB-THON1"),
        MemberIn(full_name="Trần Thị Lan", membership=Org.HOI),
        clock(),
        tz=TZ,
    )
    assert await load(db, GOOD) == admissions_import.Imported(3, 0)
    tinh = await stats.figures(db, await unit_id(db, "TD-MAU"), Period(2026, "Q1"))
    assert tinh is not None
    assert (tinh.introduced, tinh.admitted_doan, tinh.pending) == (1, 1, 0)
    last_year = await stats.figures(db, await unit_id(db, "TD-MAU"), Period(2025))
    assert last_year is not None and last_year.admitted_doan == 1
    hoi = await stats.figures(db, await unit_id(db, "HOI-TINH"), Period(2026, "Q2"))
    assert hoi is not None
    # Lan is the one member of that name in her branch: the admission is her 1+1.
    assert (hoi.admitted_hoi, hoi.met) == (1, 1)
    assert await referrals.admitted_in_year(db, lan.id, 2026) == 1
    async with db.read() as conn:
        sql = "SELECT full_name, member_id, introducer, source, status FROM referrals ORDER BY id"
        async with conn.execute(sql) as cur:
            found = [tuple(row) for row in await cur.fetchall()]
    assert found == [
        ("Nguyễn Văn Hải", None, None, "import", "admitted"),
        ("Lê Thị Mai", lan.id, None, "import", "admitted"),
        ("Phạm Minh Đức", None, "Người Ngoài Bot", "import", "admitted"),
    ]
    # The inspection list names whoever the records name.
    listed = await stats.admissions(db, await unit_id(db, "TD-MAU"), Period(2025))
    assert [(a.youth, a.introducer) for a in listed] == [("Phạm Minh Đức", "Người Ngoài Bot")]


async def test_importing_the_same_file_again_adds_nothing(db: Database) -> None:
    await load(db, GOOD)
    before = await dump(db)
    assert await load(db, GOOD) == admissions_import.Imported(0, 3)
    assert await dump(db) == before


async def test_a_youth_known_in_the_chat_is_refused_and_nothing_is_written(db: Database) -> None:
    member = await members.register(
        db,
        ConversationKey("telegram", "1", "1"),
        await unit_id(db, "CD-AB-THON1"),
        MemberIn(full_name="Mai Văn Tú", membership=Org.DOAN),
        clock(),
        tz=TZ,
    )
    youth = ReferralIn.model_validate(
        {"full_name": "Phạm Minh Đức", "birth": Birth(2004), "org": Org.DOAN},
        context={"today": TODAY, "ages": AGES},
    )
    await referrals.submit(db, ConversationKey("telegram", "1", "1"), member, youth, clock(), TZ)
    before = await dump(db)
    with pytest.raises(CsvError) as caught:
        await load(db, GOOD)
    assert (caught.value.line, caught.value.code) == (5, "adm_known")
    assert await dump(db) == before  # the two good lines before it were not kept either


BAD_LINES = [
    pytest.param("ma,ten\n", 1, "adm_header", id="header"),
    pytest.param(HEADER + "Nguyễn Văn Hải,2005,doan,15/03/2026,CD-AB-THON1\n", 2, "adm_columns"),
    pytest.param(
        HEADER + "Lê Văn H4i,2005,doan,,15/03/2026,X-AN-BINH\n", 2, "adm_youth", id="youth"
    ),
    pytest.param(HEADER + "Lê Văn Hai,35/1/2005,doan,,15/03/2026,X-AN-BINH\n", 2, "adm_birth"),
    pytest.param(HEADER + "Lê Văn Hai,2005,dang,,15/03/2026,X-AN-BINH\n", 2, "csv_org"),
    pytest.param(HEADER + "Lê Văn Hai,2005,doan,X1,15/03/2026,X-AN-BINH\n", 2, "adm_introducer"),
    pytest.param(HEADER + "Lê Văn Hai,2005,doan,,15-3,X-AN-BINH\n", 2, "adm_date", id="date"),
    pytest.param(HEADER + "Lê Văn Hai,2005,doan,,31/12/2024,X-AN-BINH\n", 2, "adm_date_range"),
    pytest.param(HEADER + "Lê Văn Hai,2005,doan,,21/11/2026,X-AN-BINH\n", 2, "adm_date_range"),
    pytest.param(HEADER + "Lê Văn Hai,1990,doan,,15/03/2026,X-AN-BINH\n", 2, "adm_age", id="36"),
    pytest.param(HEADER + "Lê Văn Hai,2012,doan,,15/03/2026,X-AN-BINH\n", 2, "adm_age", id="14"),
    pytest.param(HEADER + "Lê Văn Hai,2005,doan,,15/03/2026,\n", 2, "adm_unit", id="no-unit"),
    pytest.param(
        GOOD + "Nguyễn Văn Hải,2005,hoi,,16/03/2026,X-AN-BINH\n", 6, "adm_twice", id="twice"
    ),
]


@pytest.mark.parametrize(("text", "line", "code"), BAD_LINES)
def test_a_bad_line_is_named(text: str, line: int, code: str) -> None:
    with pytest.raises(CsvError) as caught:
        admissions_import.parse_csv(text, TODAY, AGES)
    assert (caught.value.line, caught.value.code) == (line, code)


async def test_an_unknown_unit_is_named_and_nothing_is_written(db: Database) -> None:
    before = await dump(db)
    with pytest.raises(CsvError) as caught:
        await load(db, GOOD + "Võ Thị Hà,2006,doan,,01/06/2026,KHONG-CO\n")
    assert (caught.value.line, caught.value.code, caught.value.detail) == (
        6,
        "adm_unit",
        "KHONG-CO",
    )
    assert await dump(db) == before


# --- the command, run as the operator runs it --------------------------------------------------


def _run(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("TELEGRAM_", "DATABASE_", "DOAN_", "HOI_", "TIMEZONE"))
    }
    env.update(
        PYTHONPATH=str(ROOT), DATABASE_PATH=str(workdir / "bot.db"), PYTHONIOENCODING="utf-8"
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_the_command_imports_and_refuses_a_bad_file_whole(tmp_path: Path) -> None:
    assert _run(tmp_path, "import-units", str(SAMPLE)).returncode == 0
    # Dates relative to the machine's today: the command uses the real clock.
    today = datetime.now(TZ).date()
    day = date(today.year, 1, 1).strftime("%d/%m/%Y")
    good = tmp_path / "ket-nap.csv"
    good.write_text(
        HEADER + f"Nguyễn Văn Hải,12/05/{today.year - 20},doan,,{day},CD-AB-THON1\n",
        encoding="utf-8",
    )
    done = _run(tmp_path, "import-admissions", str(good))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == texts.admissions_imported(1, 1, 0)
    again = _run(tmp_path, "import-admissions", str(good))
    assert again.stdout.strip() == texts.admissions_imported(1, 0, 1)

    def everything() -> list[str]:
        conn = sqlite3.connect(tmp_path / "bot.db")
        try:
            return list(conn.iterdump())
        finally:
            conn.close()

    before = everything()
    bad = tmp_path / "sai.csv"
    bad.write_text(
        HEADER + f"Lê Thị Mai,{today.year - 19},hoi,,{day},CH-AB-THON1\n"
        f"Lê Văn Hai,{today.year - 20},doan,,{day},KHONG-CO\n",
        encoding="utf-8",
    )
    refused = _run(tmp_path, "import-admissions", str(bad))
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.strip() == texts.csv_problem(str(bad), 3, "adm_unit", "KHONG-CO")
    assert everything() == before
    assert _run(tmp_path, "check").returncode == 0
