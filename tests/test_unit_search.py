"""Finding a branch by part of its name: what it finds, and that it does not read the whole tree.

`reference()` is the search as it was before migration 0007 (every leaf read and matched in
Python); the indexed search must return exactly what it returned, in the same order.
"""

from __future__ import annotations

import random
import re
import sqlite3
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from storage import units
from storage.db import Database, bundled_migrations
from storage.validation import sort_key

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_units.csv"
HEADER = "code,name,parent_code,org\n"

# Names that test the folding and the Vietnamese order: letters with marks sort after their
# base letter, tones only break ties, case does not count, equal names fall back to the code.
TRICKY = [
    ("L-01", "Chi đoàn Ánh Dương"),
    ("L-02", "Chi đoàn anh dũng"),
    ("L-03", "Chi đoàn Ăn Quả"),
    ("L-04", "Chi đoàn Âu Cơ"),
    ("L-05", "Chi đoàn Đông Hưng"),
    ("L-06", "Chi đoàn Dương Minh"),
    ("L-07", "Chi đoàn Hòa Bình"),
    ("L-08", "Chi đoàn Hoà Bình"),
    ("L-09", "Chi đoàn Hóa Bình"),
    ("L-10", "Chi đoàn Hoa Bình"),
    ("L-11", "CHI ĐOÀN HOA BÌNH"),
    ("L-00", "Chi đoàn Hoa Bình"),
    ("L-12", "Chi đoàn 10"),
    ("L-13", "Chi đoàn 9"),
    ("L-14", "Chi đoàn buôn K'Ho"),
    ("L-15", 'Chi đoàn "Sao Đỏ" (cũ)'),
    ("L-16", "Chi đoàn Ea H'Leo – Đắk Lắk"),
    ("L-17", "Chi đoàn Thủy Nguyên"),
    ("L-18", "Chi đoàn Thuỷ Nguyên"),
    ("L-19", "Chi đoàn Straße 5"),
    ("L-20", "Chi hội Ứng Hòa"),
]


def tricky_csv() -> str:
    lines = ["ROOT,Tỉnh đoàn Thử,,doan", "XA,Đoàn xã Thử,ROOT,doan"]
    lines += [f'{code},"{name.replace(chr(34), chr(34) * 2)}",XA,doan' for code, name in TRICKY]
    return HEADER + "\n".join(lines) + "\n"


def _old_fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


async def reference(conn: aiosqlite.Connection, query: str, limit: int) -> list[str]:
    """The codes the search found before migration 0007."""
    words = _old_fold(query).split()
    if not words:
        return []
    sql = """SELECT code, name FROM units u
             WHERE NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_id = u.id)"""
    async with conn.execute(sql) as cur:
        leaves = [(row["code"], row["name"]) for row in await cur.fetchall()]
    found = [
        (code, name)
        for code, name in leaves
        if all(word in _old_fold(name + " " + code) for word in words)
    ]
    found.sort(key=lambda cn: (sort_key(cn[1]), cn[0]))
    return [code for code, _ in found[:limit]]


async def codes(db: Database, query: str, limit: int = 10) -> list[str]:
    async with db.read() as conn:
        return [u.code for u in await units.search_leaves(conn, query, limit)]


async def load(db: Database, text: str) -> None:
    await units.import_rows(db, units.parse_csv(text))


async def index_is_consistent(db: Database) -> None:
    """FTS5 compares its index with the units table; raises if they differ."""
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO unit_search (unit_search, rank) VALUES ('integrity-check', 1)"
        )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """The sample province tree plus the tricky names."""
    async with Database(tmp_path / "bot.db") as database:
        await load(database, SAMPLE.read_text(encoding="utf-8"))
        await load(database, tricky_csv())
        yield database


# --- what it finds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["tan lap", "TÂN LẬP", "Tân Lập", "tân lâp", "TAN LAP", "thôn tân", "CHI ĐOÀN THÔN"]
)
async def test_diacritics_and_case_do_not_count(db: Database, query: str) -> None:
    assert set(await codes(db, query)) >= {"CD-AB-THON1"}
    assert await codes(db, query) == await reference_of(db, query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tâ lậ", ["CD-AB-THON1", "CH-AB-THON1"]),  # the beginnings of words
        ("an ap", ["CD-AB-THON1", "CH-AB-THON1"]),  # their middles and ends, 2 letters each
        ("lop a1", ["CD-NTMK-12A1"]),
        ("ntmk 11", ["CD-NTMK-11B2"]),
        ("hoi tan", ["CH-AB-THON1"]),
    ],
)
async def test_parts_of_words(db: Database, query: str, expected: list[str]) -> None:
    assert await codes(db, query) == expected


async def test_only_branches(db: Database) -> None:
    assert await codes(db, "xa an binh") == []  # "Đoàn xã An Bình", "Hội LHTN xã An Bình"
    assert await codes(db, "hoa lac") == []
    await load(db, HEADER + "TO-1,Tổ 1 thôn Tân Lập,CD-AB-THON1,doan\n")
    assert await codes(db, "tan lap") == ["CH-AB-THON1", "TO-1"]  # CD-AB-THON1 has a child now


async def test_limit_keeps_the_vietnamese_order(db: Database) -> None:
    everything = await codes(db, "chi doan", 100)
    assert everything == await reference_of(db, "chi doan", 100)
    ranks = [everything.index(code) for code in ("L-02", "L-01", "L-03", "L-04", "L-06", "L-05")]
    assert ranks == sorted(ranks)  # anh < ánh < ăn < âu < dương < đông
    assert (await codes(db, "hoa binh", 3)) == ["L-00", "L-10", "L-11"]  # ties: by code
    for limit in (0, 1, 2, 5):
        assert await codes(db, "chi doan", limit) == everything[:limit]


async def reference_of(db: Database, query: str, limit: int = 10) -> list[str]:
    async with db.read() as conn:
        return await reference(conn, query, limit)


@pytest.mark.parametrize(
    "query",
    [
        *['"', 'sao"', '"sao do"', "k'ho", "(cu)", "*", "do*", "OR", "AND hoa", "NOT", "NEAR("],
        *["a:b", "h'leo – dak", "–", "straße", "STRASSE", "thuy nguyen", "thủy", "10", "1", " "],
    ],
)
async def test_typed_punctuation_is_plain_text(db: Database, query: str) -> None:
    """Quotes, stars and words like OR mean nothing special: same results as before."""
    assert await codes(db, query, 100) == await reference_of(db, query, 100)


async def test_same_results_as_before_on_random_pieces_of_names(db: Database) -> None:
    rng = random.Random(7)
    async with db.read() as conn, conn.execute("SELECT name, code FROM units") as cur:
        texts = [f"{row['name']} {row['code']}" for row in await cur.fetchall()]
    for _ in range(300):
        text = rng.choice(texts)
        pieces = []
        for _ in range(rng.randint(1, 3)):
            start = rng.randrange(len(text))
            pieces.append(text[start : start + rng.randint(1, 6)])
        query = " ".join(p.upper() if rng.random() < 0.3 else p for p in pieces)
        for limit in (3, 100):
            assert await codes(db, query, limit) == await reference_of(db, query, limit), query


# --- keeping up with the tree ----------------------------------------------------------------


async def test_renamed_branch_is_found_under_its_new_name_after_reimport(db: Database) -> None:
    await load(db, HEADER + "CD-AB-THON1,Chi đoàn thôn Đồng Tâm,X-AN-BINH,doan\n")
    assert await codes(db, "dong tam") == ["CD-AB-THON1"]
    assert await codes(db, "tan lap") == ["CH-AB-THON1"]
    assert await codes(db, "chi doan", 100) == await reference_of(db, "chi doan", 100)
    await index_is_consistent(db)


async def test_units_written_by_other_code_are_found(db: Database) -> None:
    """Rows the import did not write (raw SQL, older code) are folded before searching."""
    async with db.write() as conn:
        await conn.execute("UPDATE units SET name = 'Chi đoàn Bến Nghé' WHERE code = 'L-13'")
        await conn.execute(
            "INSERT INTO units (code, name, parent_id, org)"
            " SELECT 'RAW-1', 'Chi đoàn Nhà Bè', id, 'doan' FROM units WHERE code = 'XA'"
        )
        await conn.execute("DELETE FROM units WHERE code = 'L-12'")
    assert await codes(db, "ben nghe") == ["L-13"]
    assert await codes(db, "nha be") == ["RAW-1"]
    everything = await codes(db, "chi doan", 100)
    assert "L-12" not in everything
    assert everything == await reference_of(db, "chi doan", 100)
    await index_is_consistent(db)


async def test_search_inside_a_write_transaction_keeps_it_open(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE units SET name = 'Chi đoàn Cần Giờ' WHERE code = 'L-13'")
        assert [u.code for u in await units.search_leaves(conn, "can gio", 10)] == ["L-13"]
        assert conn.in_transaction
    assert await codes(db, "can gio") == ["L-13"]


async def test_units_from_before_the_migration_are_found(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    before = bundled_migrations()[:6]
    async with Database(path, before) as old, old.write() as conn:
        await conn.execute("INSERT INTO units (id, code, name, org) VALUES (1, 'R', 'Gốc', 'doan')")
        await conn.execute(
            "INSERT INTO units (code, name, parent_id, org)"
            " VALUES ('CD-1', 'Chi đoàn thôn Tân Lập', 1, 'doan'),"
            " ('CD-2', 'Chi đoàn thôn Phú Hòa', 1, 'doan')"
        )
    async with Database(path) as db:
        assert await codes(db, "tan lap") == ["CD-1"]
        assert await codes(db, "thon") == ["CD-2", "CD-1"]  # Phú < Tân
        await index_is_consistent(db)
        async with db.read() as conn:
            assert await units.refresh_search_text(conn) == 0  # filled once, for good


# --- not reading the whole tree --------------------------------------------------------------


async def traced_plans(db: Database, query: str) -> list[str]:
    """The query plan of every SELECT that one search runs, as EXPLAIN QUERY PLAN prints it."""
    statements: list[str] = []
    async with db.read() as conn:
        await conn.set_trace_callback(statements.append)
        try:
            await units.search_leaves(conn, query, 10)
        finally:
            await conn.set_trace_callback(None)
        details: list[str] = []
        for sql in statements:
            if sql.lstrip().upper().startswith(("SELECT", "WITH")):
                async with conn.execute("EXPLAIN QUERY PLAN " + sql) as cur:
                    details += [row["detail"] for row in await cur.fetchall()]
    return details


@pytest.mark.parametrize("query", ["tan lap", "Chi đoàn thôn Tân Lập", "lap 1"])
async def test_search_goes_through_the_trigram_index(db: Database, query: str) -> None:
    details = await traced_plans(db, query)
    assert any(re.match(r"SCAN \w+ VIRTUAL TABLE INDEX \d+:M", d) for d in details), details
    # No walk over the units table or one of its whole indexes; the one allowed SCAN besides the
    # FTS table is of units_unsearchable, a partial index holding only rows still to be folded.
    walks = [d for d in details if d.startswith("SCAN") and "VIRTUAL TABLE" not in d]
    assert all("units_unsearchable" in d for d in walks), details


async def vm_steps(tmp_path: Path, branches: int) -> int:
    """SQLite VM instructions (in hundreds) one selective search costs among `branches`."""
    rows = [HEADER, "R,Tỉnh đoàn,,doan\n"]
    rows += [f"X{c},Đoàn xã {c},R,doan\n" for c in range(branches // 50 + 1)]
    rows += [f"CD{b},Chi đoàn thôn Tân Lập {b},X{b // 50},doan\n" for b in range(branches)]
    rows.append("ONE,Chi đoàn thôn Xuân Thủy,X0,doan\n")
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    async with Database(tmp_path / f"{branches}.db") as db:
        await load(db, "".join(rows))
        assert await codes(db, "xuan thuy") == ["ONE"]  # and warm
        async with db.read() as conn:
            await conn.set_progress_handler(count, 100)
            found = await units.search_leaves(conn, "xuan thuy", 10)
            await conn.set_progress_handler(None, 100)
    assert [u.code for u in found] == ["ONE"]
    return steps


async def test_work_does_not_grow_with_the_tree(tmp_path: Path) -> None:
    small, big = await vm_steps(tmp_path, 200), await vm_steps(tmp_path, 5_000)
    assert big <= 2 * small + 5, (small, big)  # reading every leaf: 25 times more


def test_sqlite_has_the_trigram_tokenizer() -> None:
    assert sqlite3.sqlite_version_info >= (3, 34, 0)
