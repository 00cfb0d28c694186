"""Benchmark: finding a branch by part of its name, at national scale.

Builds, in a temporary database and through `units.import_rows` (what `import-units` runs),
63 provinces, about 10,000 communes and 80,000 branches named like "Chi đoàn thôn Tân Lập 12".
Then times the same searches, in the same run, with `units.search_leaves` (the trigram index of
migration 0007) and with a copy of the implementation it replaced (every leaf read and matched
in Python), checks both return the same units, and prints median and p95 per kind of query.

    .venv/bin/python bench/unit_search.py                  # 200 searches each
    .venv/bin/python bench/unit_search.py --searches 50 --branches 20000

Goal: under 50 ms per search at national scale.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402

from storage import units  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.units import Unit, UnitRow  # noqa: E402
from storage.validation import Org, sort_key  # noqa: E402

PROVINCES = 63
COMMUNES = 10_000
BRANCHES = 80_000
LIMIT = 10  # what the registration journey asks for
WORDS = [
    "Tân Lập", "Phú Hòa", "An Bình", "Hòa Lạc", "Đông Hưng", "Thạnh Mỹ", "Bình Minh", "Hưng Đạo",
    "Quang Trung", "Lê Lợi", "Trần Phú", "Phước Lộc", "Mỹ Xuân", "Vĩnh Thành", "Tiên Phong",
    "Đồng Tâm", "Thống Nhất", "Quyết Thắng", "Hợp Tiến", "Long Điền", "Xuân Thủy", "Cẩm Đường",
    "Nghĩa Hưng", "Ea Kao", "Đắk Mil", "Bản Xèo", "Nà Phặc", "Cửa Việt", "Hải Châu", "Sơn Trà",
    "Thủy Nguyên", "Yên Thế", "Kỳ Anh", "Đức Phổ", "Tuy Phước", "Ninh Hòa", "Cam Lâm", "Bảo Lộc",
    "Gò Công", "Cái Bè", "Châu Thành", "Hồng Ngự", "Năm Căn", "Ngọc Hiển", "Phú Quốc", "Hà Tiên",
    "Kiến Xương", "Tiền Hải", "Vũ Thư", "Ứng Hòa",
]  # fmt: skip


# --- the implementation before migration 0007, kept as the baseline --------------------------

_OLD_COLUMNS = "id, code, name, parent_id, org, invite_generation"


def old_fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


async def old_search_leaves(conn: aiosqlite.Connection, query: str, limit: int) -> list[Unit]:
    words = old_fold(query).split()
    if not words:
        return []
    sql = f"""SELECT {_OLD_COLUMNS} FROM units u
              WHERE NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_id = u.id)
              ORDER BY code"""
    found: list[Unit] = []
    async with conn.execute(sql) as cur:
        async for row in cur:
            folded = old_fold(row["name"] + " " + row["code"])
            if all(word in folded for word in words):
                found.append(Unit.from_row(row))
    found.sort(key=lambda u: (sort_key(u.name), u.code))
    return found[:limit]


# --- the tree and the queries ----------------------------------------------------------------


def tree_rows(rng: random.Random, branches: int) -> list[UnitRow]:
    """Provinces, communes spread over them, branches spread over the communes."""
    communes = max(1, branches * COMMUNES // BRANCHES)
    rows = [
        UnitRow(0, f"T{p}", f"Tỉnh đoàn {rng.choice(WORDS)}", "", Org.DOAN)
        for p in range(PROVINCES)
    ]
    for c in range(communes):
        parent = f"T{c % PROVINCES}"
        rows.append(UnitRow(0, f"X{c}", f"Đoàn xã {rng.choice(WORDS)}", parent, Org.DOAN))
    for b in range(branches):
        name = f"Chi đoàn thôn {rng.choice(WORDS)} {rng.randint(1, 60)}"
        rows.append(UnitRow(0, f"CD{b}", name, f"X{rng.randrange(communes)}", Org.DOAN))
    return rows


def strip_marks(text: str) -> str:
    """What people type on a phone without a Vietnamese keyboard."""
    return old_fold(text)


def queries(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(kind, text) pairs, in proportions a registration desk might see."""
    makers: list[tuple[str, Callable[[], str]]] = [
        ("word + number", lambda: f"{strip_marks(rng.choice(WORDS))} {rng.randint(1, 60)}"),
        ("as written", lambda: f"thôn {rng.choice(WORDS)} {rng.randint(1, 60)}"),
        ("partial words", lambda: " ".join(w[:3] for w in strip_marks(rng.choice(WORDS)).split())),
        ("place only", lambda: strip_marks(rng.choice(WORDS))),
        ("number only", lambda: str(rng.randint(1, 60))),
        ("everything", lambda: "chi doan"),
        ("nothing", lambda: f"{strip_marks(rng.choice(WORDS))} xyz"),
    ]
    weights = [30, 15, 15, 15, 10, 5, 10]
    picked = rng.choices(makers, weights=weights, k=count)
    return [(kind, make()) for kind, make in picked]


# --- timing ----------------------------------------------------------------------------------

Search = Callable[[aiosqlite.Connection, str, int], Awaitable[list[Unit]]]


async def timed(db: Database, search: Search, text: str) -> tuple[float, list[int]]:
    """Milliseconds of one search, the way the registration journey runs it."""
    start = time.perf_counter()
    async with db.read() as conn:
        found = await search(conn, text, LIMIT)
    return (time.perf_counter() - start) * 1000, [u.id for u in found]


def summary(times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[18] if len(times) > 1 else times[0]
    return f"median {statistics.median(times):8.2f} ms   p95 {p95:8.2f} ms"


async def run(branches: int, searches: int, seed: int) -> int:
    rng = random.Random(seed)
    rows = tree_rows(rng, branches)
    todo = queries(rng, searches)
    with tempfile.TemporaryDirectory() as tmp:
        async with Database(Path(tmp) / "search.db") as db:
            start = time.perf_counter()
            await units.import_rows(db, rows)
            print(f"{len(rows):,} units imported in {time.perf_counter() - start:.1f} s")
            async with db.read() as conn:  # warm both paths: page cache, sort_key's cache
                await units.search_leaves(conn, "tan lap", LIMIT)
                await old_search_leaves(conn, "tan lap", LIMIT)
            new: dict[str, list[float]] = {}
            old: dict[str, list[float]] = {}
            wrong = 0
            for kind, text in todo:
                new_ms, new_ids = await timed(db, units.search_leaves, text)
                old_ms, old_ids = await timed(db, old_search_leaves, text)
                new.setdefault(kind, []).append(new_ms)
                old.setdefault(kind, []).append(old_ms)
                if new_ids != old_ids:
                    wrong += 1
                    print(f"DIFFERENT RESULTS for {text!r}: {new_ids} vs {old_ids}")
    print(f"\n{searches} searches, limit {LIMIT}, {branches:,} branches\n")
    for kind in new:
        print(
            f"{kind:>14} ×{len(new[kind]):3}   new {summary(new[kind])}   old {summary(old[kind])}"
        )
    every_new = [t for times in new.values() for t in times]
    every_old = [t for times in old.values() for t in times]
    print(f"{'all':>14} ×{len(every_new):3}   new {summary(every_new)}   old {summary(every_old)}")
    ratio = statistics.median(every_old) / statistics.median(every_new)
    print(f"\nold / new at the median: {ratio:,.0f}×; results differing: {wrong}")
    return 1 if wrong else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=BRANCHES)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.branches, args.searches, args.seed)))


if __name__ == "__main__":
    main()
