"""bench/gendemo.py at a small scale: the rows it makes are the ones the bot would have made."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bench.gendemo import generate
from storage import counters
from storage.db import Database
from storage.periods import Period
from storage.stats import report
from storage.validation import name_key, normalize_name

UNITS, MEMBERS, REFERRALS = 60, 500, 300


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """One database for the whole module: the tests only read it."""
    path = tmp_path_factory.mktemp("gendemo") / "demo.db"
    made = asyncio.run(generate(path, units=UNITS, members=MEMBERS, referrals=REFERRALS, seed=7))
    return path, made


def _rows(path: Path, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def _one(path: Path, sql: str, args: tuple[object, ...] = ()) -> object:
    return _rows(path, sql, args)[0][0]


async def test_counts_and_tree(demo: tuple[Path, dict[str, object]]) -> None:
    path, made = demo
    assert made["units"] == UNITS and made["members"] == MEMBERS
    assert _one(path, "SELECT COUNT(*) FROM units") == UNITS
    assert _one(path, "SELECT COUNT(*) FROM members") == MEMBERS
    assert _one(path, "SELECT COUNT(*) FROM referrals") == REFERRALS
    assert _one(path, "SELECT COUNT(*) FROM units WHERE parent_id IS NULL") == 1
    assert _one(path, "SELECT COUNT(DISTINCT code) FROM units") == UNITS
    assert _one(path, "SELECT COUNT(*) FROM targets") > 0
    assert _one(path, "SELECT COUNT(*) FROM roles WHERE role = 'leader'") > 0
    # members sit in branches only (units without children)
    assert (
        _one(
            path,
            "SELECT COUNT(*) FROM members m WHERE EXISTS "
            "(SELECT 1 FROM units c WHERE c.parent_id = m.unit_id)",
        )
        == 0
    )
    assert _rows(path, "PRAGMA foreign_key_check") == []
    assert _one(path, "PRAGMA journal_mode") == "wal"


async def test_schema_is_the_migrations(demo: tuple[Path, dict[str, object]], tmp_path: Path):
    """The indexes dropped for the bulk load are all back, exactly as the migrations wrote them."""
    path, _ = demo
    async with Database(tmp_path / "fresh.db"):
        pass
    sql = "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
    assert _rows(path, sql) == _rows(tmp_path / "fresh.db", sql)
    assert _one(path, "PRAGMA user_version") == _one(tmp_path / "fresh.db", "PRAGMA user_version")


async def test_names_are_vietnamese(demo: tuple[Path, dict[str, object]]) -> None:
    path, _ = demo
    names = [row[0] for row in _rows(path, "SELECT full_name FROM members")]
    names += [row[0] for row in _rows(path, "SELECT full_name FROM referrals")]
    assert all(normalize_name(name) == name for name in names)  # what the bot accepts
    marked = [name for name in names if not name.isascii()]
    assert len(marked) > 0.8 * len(names)
    assert any(name.startswith("Nguyễn ") for name in names)
    units = [row[0] for row in _rows(path, "SELECT name FROM units")]
    assert any(name.startswith(("Đoàn ", "Hội ")) for name in units)
    assert any(name.startswith(("Chi đoàn ", "Chi hội ")) for name in units)
    for name, key in _rows(path, "SELECT full_name, name_key FROM referrals"):
        assert key == name_key(name)


async def test_referrals_are_consistent(demo: tuple[Path, dict[str, object]]) -> None:
    path, _ = demo
    mismatched = """SELECT COUNT(*) FROM referrals r JOIN members m ON m.id = r.member_id
                    WHERE r.unit_id <> m.unit_id"""
    assert _one(path, mismatched) == 0
    statuses = dict(_rows(path, "SELECT status, COUNT(*) FROM referrals GROUP BY status"))
    assert set(statuses) == {"introduced", "admitted", "declined", "withdrawn"}
    assert 0.4 < statuses["admitted"] / REFERRALS < 0.7
    # local dates agree with the UTC times (Asia/Ho_Chi_Minh is UTC+7)
    assert (
        _one(
            path,
            """SELECT COUNT(*) FROM referrals WHERE introduced_on <> date(introduced_at, '+7 hours')
               OR decided_on IS NOT date(decided_at, '+7 hours')""",
        )
        == 0
    )
    assert (
        _one(
            path,
            """SELECT COUNT(*) FROM referrals WHERE
                 (status = 'admitted') <> (admitted_on IS NOT NULL)
                 OR (status IN ('admitted', 'declined')) <> (decided_on IS NOT NULL)
                 OR admitted_on < introduced_on OR decided_at < introduced_at
                 OR introduced_on NOT BETWEEN '2026-01-01' AND '2026-12-31'
                 OR birth_year NOT BETWEEN 1996 AND 2010""",
        )
        == 0
    )
    phones = [row[0] for row in _rows(path, "SELECT phone FROM referrals WHERE phone IS NOT NULL")]
    assert phones and len(phones) == len(set(phones)) < REFERRALS / 2
    audited = "SELECT COUNT(*) FROM referrals WHERE status <> 'introduced'"
    assert _one(path, "SELECT COUNT(*) FROM referral_audit") == _one(path, audited)


async def test_counters_and_stats_match_raw_rows(demo: tuple[Path, dict[str, object]]) -> None:
    path, _ = demo
    async with Database(path) as db:
        async with db.read() as conn:
            assert await counters.differences(conn) == []
        found = await report(db, 1, Period(2026))
    assert found is not None
    root = found.unit
    year = ("2026-01-01", "2026-12-31")
    assert root.members == MEMBERS
    assert root.introduced == REFERRALS
    assert root.pending == _one(path, "SELECT COUNT(*) FROM referrals WHERE status = 'introduced'")
    for org, got in (("doan", root.admitted_doan), ("hoi", root.admitted_hoi)):
        sql = """SELECT COUNT(*) FROM referrals WHERE status = 'admitted' AND org = ?
                 AND admitted_on BETWEEN ? AND ?"""
        assert got == _one(path, sql, (org, *year))
    assert root.admitted_hoi > 0
    declined = """SELECT COUNT(*) FROM referrals WHERE status = 'declined'
                  AND decided_on BETWEEN ? AND ?"""
    assert root.declined == _one(path, declined, year)
    met = """SELECT COUNT(DISTINCT member_id) FROM referrals WHERE status = 'admitted'
             AND admitted_on BETWEEN ? AND ?"""
    assert root.met == _one(path, met, year)
    target = """SELECT SUM(COALESCE(
                    (SELECT SUM(value) FROM targets t WHERE t.unit_id = u.id AND t.year = 2026),
                    (SELECT COUNT(*) FROM members m WHERE m.unit_id = u.id))) FROM units u"""
    assert root.target == _one(path, target)
    assert sum(child.members for child in found.children) == MEMBERS
    assert sum(child.introduced for child in found.children) == REFERRALS


async def test_same_seed_same_data(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for path in (first, second):
        await generate(path, units=20, members=50, referrals=30, seed=3)
    sql = "SELECT * FROM referrals ORDER BY id"
    assert _rows(first, sql) == _rows(second, sql)
    with pytest.raises(FileExistsError):
        await generate(first, units=20, members=50, referrals=30)
