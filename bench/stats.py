"""Benchmark: /stats for the root and for a commune-level unit, at province and national scale.

For each scale the database is made by bench/gendemo.py (or reused from --keep DIR), then
`storage.stats.report()` (exactly what /stats calls) is timed for the root and for the biggest
unit of the level just above the branches (Đoàn xã / phường / đoàn cơ sở), for the year and for
one quarter. The reference, in the same run: the same data loaded into an in-memory DuckDB with
a closure table (unit_id, ancestor_id), and one query computing the same figures for the unit and
each child by scanning the raw rows. DuckDB's figures must equal ours: any difference is printed.

    .venv/bin/python bench/stats.py                         # both scales, temp files
    .venv/bin/python bench/stats.py --scales province --runs 100
    .venv/bin/python bench/stats.py --keep /tmp/mcm-bench   # keep (and reuse) the databases

Goal: the root's /stats on the national database under 50 ms at the median, and faster than
DuckDB's scan.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

from bench.gendemo import generate  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.periods import Period  # noqa: E402
from storage.stats import Figures, report  # noqa: E402

SCALES = {
    "province": {"units": 1_500, "members": 60_000, "referrals": 20_000},
    "national": {"units": 80_000, "members": 6_300_000, "referrals": 2_000_000},
}
YEAR = 2026
PERIODS = [Period(YEAR), Period(YEAR, "Q3")]
FIELDS = (
    "members",
    "met",
    "introduced",
    "admitted_doan",
    "admitted_hoi",
    "declined",
    "pending",
    "target",
)
FETCH = 500_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the databases ---------------------------------------------------------------------------


def _counts(path: Path) -> dict[str, int] | None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return {
                table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("units", "members", "referrals")
            }
    except sqlite3.Error:
        return None


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def database_for(scale: str, folder: Path, seed: int) -> Path:
    """The scale's database in `folder`: reused when its row counts match, else generated."""
    path = folder / f"{scale}.db"
    sizes = SCALES[scale]
    if path.exists():
        if _counts(path) == sizes:
            log(f"[{scale}] reusing {path}")
            return path
        log(f"[{scale}] {path} does not match the scale: generating it again")
        remove(path)
    log(f"[{scale}] generating {path} …")
    started = time.perf_counter()
    made = await generate(path, seed=seed, year=YEAR, **sizes)
    log(
        f"[{scale}] generated in {time.perf_counter() - started:.1f} s "
        f"({made['bytes'] / 1e6:.0f} MB): {made['seconds']}"
    )
    return path


def pick_units(path: Path) -> tuple[int, int, int]:
    """(root, commune-level unit, its depth): the commune level is the one just above the
    branches; of its units, the one with the most children."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        parent = dict(conn.execute("SELECT id, parent_id FROM units"))
    kids: dict[int, int] = {}
    for up in parent.values():
        if up is not None:
            kids[up] = kids.get(up, 0) + 1
    depth: dict[int, int] = {}

    def depth_of(unit: int) -> int:
        if unit not in depth:
            up = parent[unit]
            depth[unit] = 0 if up is None else depth_of(up) + 1
        return depth[unit]

    for unit in parent:
        depth_of(unit)
    root = min(u for u, up in parent.items() if up is None)
    deepest = max(depth.values())
    level = max(deepest - 1, 0)
    commune = max((u for u in parent if depth[u] == level), key=lambda u: (kids.get(u, 0), -u))
    return root, commune, level


# --- timing ----------------------------------------------------------------------------------


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, 95th percentile by nearest rank), in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


async def time_async(call: Callable[[], Awaitable[Any]], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


def time_sync(call: Callable[[], Any], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def ours(found: Any) -> dict[int, tuple[int, ...]]:
    figures: list[Figures] = [found.unit, *found.children]
    return {f.unit.id: tuple(getattr(f, name) for name in FIELDS) for f in figures}


# --- the DuckDB reference --------------------------------------------------------------------


def _chunks(conn: sqlite3.Connection, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    cur = conn.execute(sql)
    while rows := cur.fetchmany(FETCH):
        yield rows


def _load(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], rows_of) -> int:
    """Append chunks of rows (tuples in `columns` order) to a DuckDB table, via numpy."""
    total = 0
    names = list(columns)
    for rows in rows_of:
        cols = list(zip(*rows, strict=True))
        chunk = {
            name: np.array(col, dtype=np.int64 if columns[name] == "int" else str)
            for name, col in zip(names, cols, strict=True)
        }
        select = ", ".join(
            f"NULLIF({name}, '')::DATE" if columns[name] == "date" else name for name in names
        )
        con.register("chunk", chunk)
        con.execute(f"INSERT INTO {table} SELECT {select} FROM chunk")
        con.unregister("chunk")
        total += len(rows)
    return total


def load_duckdb(path: Path) -> duckdb.DuckDBPyConnection:
    """The raw rows /stats needs, in DuckDB, plus a closure table computed here."""
    con = duckdb.connect()
    con.execute("CREATE TABLE units (id BIGINT, parent_id BIGINT)")
    con.execute("CREATE TABLE closure (unit_id BIGINT, ancestor_id BIGINT)")
    con.execute("CREATE TABLE members (id BIGINT, unit_id BIGINT)")
    con.execute(
        """CREATE TABLE referrals (id BIGINT, member_id BIGINT, unit_id BIGINT, org VARCHAR,
               status VARCHAR, introduced_on DATE, admitted_on DATE, decided_on DATE)"""
    )
    con.execute("CREATE TABLE targets (unit_id BIGINT, year INTEGER, value BIGINT)")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        parent = dict(conn.execute("SELECT id, parent_id FROM units"))
        _load(
            con,
            "units",
            {"id": "int", "parent_id": "int"},
            [[(u, p or 0) for u, p in parent.items()]],
        )
        pairs = []
        for unit in parent:
            up: int | None = unit
            while up is not None:
                pairs.append((unit, up))
                up = parent[up]
        _load(con, "closure", {"unit_id": "int", "ancestor_id": "int"}, [pairs])
        _load(
            con,
            "members",
            {"id": "int", "unit_id": "int"},
            _chunks(conn, "SELECT id, unit_id FROM members"),
        )
        _load(
            con,
            "referrals",
            {
                "id": "int",
                "member_id": "int",
                "unit_id": "int",
                "org": "str",
                "status": "str",
                "introduced_on": "date",
                "admitted_on": "date",
                "decided_on": "date",
            },
            _chunks(
                conn,
                """SELECT id, member_id, unit_id, org, status, introduced_on,
                          COALESCE(admitted_on, ''), COALESCE(decided_on, '')
                   FROM referrals""",
            ),
        )
        _load(
            con,
            "targets",
            {"unit_id": "int", "year": "int", "value": "int"},
            [conn.execute("SELECT unit_id, year, value FROM targets").fetchall() or [(0, 0, 0)]],
        )
    con.execute("DELETE FROM targets WHERE unit_id = 0")
    con.execute("UPDATE units SET parent_id = NULL WHERE parent_id = 0")
    return con


# The unit and its children; each one's figures are its whole subtree's (closure table).
# met: members with an admission in the period. A referral keeps the unit its member had when
# introducing, and members never change unit, so the referral's unit is the member's unit.
# target: per unit, the targets set for the year, or one per member where none was set.
# Two ways to write it; each case reports the faster, so the reference is DuckDB at its best.
_SUBTREES = """
WITH s AS (SELECT id FROM units WHERE id = $unit OR parent_id = $unit),
cl AS (SELECT c.unit_id, c.ancestor_id FROM closure c JOIN s ON c.ancestor_id = s.id),
goal AS (SELECT unit_id, sum(value) AS value FROM targets WHERE year = $year GROUP BY unit_id),
"""
_COUNTS = """
        count(*) FILTER (WHERE status = 'introduced') AS pending,
        count(*) FILTER (WHERE introduced_on BETWEEN $first AND $last) AS introduced,
        count(*) FILTER (WHERE status = 'admitted' AND org = 'doan'
                         AND admitted_on BETWEEN $first AND $last) AS admitted_doan,
        count(*) FILTER (WHERE status = 'admitted' AND org = 'hoi'
                         AND admitted_on BETWEEN $first AND $last) AS admitted_hoi,
        count(*) FILTER (WHERE status = 'declined'
                         AND decided_on BETWEEN $first AND $last) AS declined"""
_SELECT = """
SELECT s.id, coalesce(a.members, 0), coalesce(a.met, 0), coalesce(a.introduced, 0),
    coalesce(a.admitted_doan, 0), coalesce(a.admitted_hoi, 0), coalesce(a.declined, 0),
    coalesce(a.pending, 0), coalesce(a.target, 0)
FROM s LEFT JOIN agg a ON a.id = s.id
"""
DUCKDB_QUERIES = {
    # every raw row joined to each of its ancestors in the set, then grouped by ancestor
    "join": _SUBTREES
    + f"""
r AS (
    SELECT cl.ancestor_id AS id, {_COUNTS},
        count(DISTINCT member_id) FILTER (WHERE status = 'admitted'
                         AND admitted_on BETWEEN $first AND $last) AS met
    FROM referrals JOIN cl ON cl.unit_id = referrals.unit_id
    GROUP BY cl.ancestor_id),
per_unit AS (
    SELECT unit_id, count(*) AS n FROM members
    WHERE unit_id IN (SELECT unit_id FROM cl) GROUP BY unit_id),
m AS (
    SELECT cl.ancestor_id AS id, sum(coalesce(p.n, 0)) AS members,
        sum(coalesce(g.value, p.n, 0)) AS target
    FROM cl LEFT JOIN per_unit p ON p.unit_id = cl.unit_id
    LEFT JOIN goal g ON g.unit_id = cl.unit_id
    GROUP BY cl.ancestor_id),
agg AS (SELECT m.id, m.members, m.target, r.* EXCLUDE (id) FROM m LEFT JOIN r ON r.id = m.id)
"""
    + _SELECT,
    # the raw rows first counted per unit, the few per-unit rows then summed up the closure
    "per-unit": _SUBTREES
    + f"""
ru AS (
    SELECT unit_id, {_COUNTS}
    FROM referrals WHERE unit_id IN (SELECT unit_id FROM cl)
    GROUP BY unit_id),
mt AS (
    SELECT unit_id, count(*) AS met FROM (
        SELECT DISTINCT unit_id, member_id FROM referrals
        WHERE status = 'admitted' AND admitted_on BETWEEN $first AND $last
          AND unit_id IN (SELECT unit_id FROM cl))
    GROUP BY unit_id),
mu AS (
    SELECT unit_id, count(*) AS n FROM members
    WHERE unit_id IN (SELECT unit_id FROM cl) GROUP BY unit_id),
agg AS (
    SELECT cl.ancestor_id AS id, sum(coalesce(mu.n, 0)) AS members,
        sum(coalesce(goal.value, mu.n, 0)) AS target,
        sum(mt.met) AS met, sum(ru.introduced) AS introduced,
        sum(ru.admitted_doan) AS admitted_doan, sum(ru.admitted_hoi) AS admitted_hoi,
        sum(ru.declined) AS declined, sum(ru.pending) AS pending
    FROM cl LEFT JOIN mu ON mu.unit_id = cl.unit_id
    LEFT JOIN ru ON ru.unit_id = cl.unit_id
    LEFT JOIN mt ON mt.unit_id = cl.unit_id
    LEFT JOIN goal ON goal.unit_id = cl.unit_id
    GROUP BY cl.ancestor_id)
"""
    + _SELECT,
}


def duckdb_figures(
    con: duckdb.DuckDBPyConnection, query: str, unit: int, period: Period
) -> dict[int, tuple[int, ...]]:
    args = {
        "unit": unit,
        "first": period.first_day,
        "last": period.last_day,
        "year": period.year,
    }
    rows = con.execute(DUCKDB_QUERIES[query], args).fetchall()
    return {row[0]: tuple(int(v) for v in row[1:]) for row in rows}


# --- the run ---------------------------------------------------------------------------------


def compare(
    label: str, ours_: dict[int, tuple[int, ...]], theirs: dict[int, tuple[int, ...]]
) -> list[str]:
    problems = []
    if set(ours_) != set(theirs):
        problems.append(f"{label}: units differ: {sorted(set(ours_) ^ set(theirs))[:10]}")
    for unit in sorted(set(ours_) & set(theirs)):
        if ours_[unit] != theirs[unit]:
            diff = {
                name: (a, b)
                for name, a, b in zip(FIELDS, ours_[unit], theirs[unit], strict=True)
                if a != b
            }
            problems.append(f"{label}: unit {unit}: ours vs DuckDB {diff}")
    return problems


async def bench_scale(
    scale: str, folder: Path, runs: int, duck_runs: int, warmup: int, seed: int
) -> tuple[list[dict[str, Any]], list[str]]:
    path = await database_for(scale, folder, seed)
    root, commune, level = pick_units(path)
    log(f"[{scale}] root {root}, commune-level unit {commune} (depth {level})")
    results: list[dict[str, Any]] = []
    problems: list[str] = []
    async with Database(path) as db:
        timed: dict[tuple[int, Period], list[float]] = {}
        found: dict[tuple[int, Period], dict[int, tuple[int, ...]]] = {}
        for unit in (root, commune):
            for period in PERIODS:

                async def call(unit: int = unit, period: Period = period) -> Any:
                    return await report(db, unit, period)

                timed[(unit, period)] = await time_async(call, runs, warmup)
                got = await call()
                assert got is not None
                found[(unit, period)] = ours(got)
    log(f"[{scale}] loading DuckDB …")
    started = time.perf_counter()
    con = load_duckdb(path)
    log(f"[{scale}] DuckDB loaded in {time.perf_counter() - started:.1f} s")
    for unit in (root, commune):
        for period in PERIODS:
            label = f"{scale} unit {unit} {period.label()}"
            best: tuple[float, float, str] | None = None
            for query in DUCKDB_QUERIES:
                theirs = duckdb_figures(con, query, unit, period)
                problems += compare(f"{label} ({query})", found[(unit, period)], theirs)
                samples = time_sync(
                    lambda q=query, u=unit, p=period: duckdb_figures(con, q, u, p),
                    duck_runs,
                    min(warmup, 2),
                )
                med, p95 = summary(samples)
                log(f"[{scale}] DuckDB {query:8} {label}: {med:.1f} / {p95:.1f} ms")
                if best is None or med < best[0]:
                    best = (med, p95, query)
            assert best is not None
            results.append(
                {
                    "scale": scale,
                    "unit": "root" if unit == root else "commune",
                    "unit_id": unit,
                    "children": len(found[(unit, period)]) - 1,
                    "period": period.label(),
                    "ours": summary(timed[(unit, period)]),
                    "duckdb": best[:2],
                    "plan": best[2],
                }
            )
    con.close()
    return results, problems


def table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'scale':9} {'unit':8} {'id':>6} {'kids':>5} {'period':8} "
        f"{'ours med':>9} {'ours p95':>9} {'duck med':>9} {'duck p95':>9} {'duck/ours':>9}"
        f"  duck plan"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        (om, op), (dm, dp) = r["ours"], r["duckdb"]
        lines.append(
            f"{r['scale']:9} {r['unit']:8} {r['unit_id']:>6} {r['children']:>5} "
            f"{r['period']:8} {om:>9.2f} {op:>9.2f} {dm:>9.2f} {dp:>9.2f} {dm / om:>8.1f}x"
            f"  {r['plan']}"
        )
    return "\n".join(lines) + "\n(ms; median and 95th percentile; DuckDB: the faster plan)"


async def run(args: argparse.Namespace, folder: Path) -> int:
    results: list[dict[str, Any]] = []
    problems: list[str] = []
    before = os.getloadavg()[0]
    for scale in args.scales:
        found, wrong = await bench_scale(
            scale, folder, args.runs, min(args.runs, args.duckdb_runs), args.warmup, args.seed
        )
        results += found
        problems += wrong
    print(table(results))
    threads = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()
    print(
        f"runs: ours {args.runs}, DuckDB {min(args.runs, args.duckdb_runs)} "
        f"(threads: {threads[0]}); "
        f"load average {before:.1f} before, {os.getloadavg()[0]:.1f} after "
        f"on {os.cpu_count()} CPUs"
    )
    goal = [r for r in results if r["scale"] == "national" and r["unit"] == "root"]
    for r in goal:
        ok = r["ours"][0] < 50 and r["ours"][0] < r["duckdb"][0]
        print(
            f"goal (national root {r['period']}: < 50 ms and faster than DuckDB): "
            f"{'met' if ok else 'NOT MET'}"
        )
    if problems:
        print("\n!!! DuckDB's figures differ from storage.stats.report's !!!", file=sys.stderr)
        for problem in problems:
            print(f"!!! {problem}", file=sys.stderr)
        return 1
    print("figures: DuckDB and storage.stats.report agree for every unit compared")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scales",
        type=lambda text: text.split(","),
        default=["province", "national"],
        help="comma-separated: province,national",
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--duckdb-runs", type=int, default=20, help="DuckDB's national scans take seconds"
    )
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the databases here (and reuse them)")
    args = parser.parse_args(argv)
    unknown = [s for s in args.scales if s not in SCALES]
    if unknown:
        parser.error(f"unknown scale(s): {unknown}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return asyncio.run(run(args, args.keep))
    with tempfile.TemporaryDirectory(prefix="motcongmot-bench-") as folder:
        return asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())
