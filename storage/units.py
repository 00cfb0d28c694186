"""Units (đơn vị): the tree, its CSV import/export, and searches over it."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass

import aiosqlite

from storage import counters
from storage.db import Database
from storage.validation import Org, sort_key

CSV_HEADER = ["code", "name", "parent_code", "org"]
# The optional fifth column: the official number of đoàn viên / hội viên of the unit's subtree.
MEMBERS_COLUMN = "members"
HEADCOUNT_MAX = 10_000_000
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
UNIT_NAME_MAX = 150


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str
    parent_id: int | None
    org: Org
    invite_generation: int = 1

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Unit:
        return cls(
            id=row["id"],
            code=row["code"],
            name=row["name"],
            parent_id=row["parent_id"],
            org=Org(row["org"]),
            invite_generation=row["invite_generation"],
        )


@dataclass(frozen=True)
class UnitRow:
    line: int
    code: str
    name: str
    parent_code: str
    org: Org
    headcount: int | None = None  # empty cell: no official figure
    has_headcount: bool = False  # the file has the members column (old files keep theirs)


class CsvError(ValueError):
    """A bad row: `line` is the 1-based line number in the file (the header is line 1)."""

    def __init__(self, line: int, code: str, detail: str = "") -> None:
        super().__init__(f"line {line}: {code} {detail}".strip())
        self.line = line
        self.code = code
        self.detail = detail


_COLUMNS = "id, code, name, parent_id, org, invite_generation"

# The units below a JSON list of unit ids, the listed ones included; bind json.dumps(ids).
SUBTREE = """WITH RECURSIVE sub(id) AS (
                 SELECT value FROM json_each(?)
                 UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)"""


async def get(conn: aiosqlite.Connection, unit_id: int) -> Unit | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM units WHERE id = ?", (unit_id,)) as cur:
        row = await cur.fetchone()
    return Unit.from_row(row) if row else None


async def get_by_code(conn: aiosqlite.Connection, code: str) -> Unit | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM units WHERE code = ?", (code,)) as cur:
        row = await cur.fetchone()
    return Unit.from_row(row) if row else None


async def children(conn: aiosqlite.Connection, parent_id: int | None) -> list[Unit]:
    """Sorted the Vietnamese way (SQLite's NOCASE folds only ASCII letters)."""
    sql = f"SELECT {_COLUMNS} FROM units WHERE parent_id IS ?"
    async with conn.execute(sql, (parent_id,)) as cur:
        found = [Unit.from_row(row) for row in await cur.fetchall()]
    return sorted(found, key=lambda u: (sort_key(u.name), u.code))


async def has_children(conn: aiosqlite.Connection, unit_id: int) -> bool:
    async with conn.execute("SELECT 1 FROM units WHERE parent_id = ? LIMIT 1", (unit_id,)) as cur:
        return await cur.fetchone() is not None


async def ancestors(conn: aiosqlite.Connection, unit_id: int) -> list[Unit]:
    """The unit and its parents, root last."""
    sql = f"""
        WITH RECURSIVE up(id, depth) AS (
            SELECT ?, 0
            UNION ALL
            SELECT u.parent_id, up.depth + 1 FROM units u JOIN up ON u.id = up.id
            WHERE u.parent_id IS NOT NULL
        )
        SELECT {_COLUMNS} FROM units JOIN up USING (id) ORDER BY up.depth
    """
    async with conn.execute(sql, (unit_id,)) as cur:
        return [Unit.from_row(row) for row in await cur.fetchall()]


def _fold(text: str) -> str:
    """Case- and accent-insensitive form, so "phuong 1" finds "Phường 1"."""
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


# --- search by name --------------------------------------------------------------------------
#
# Each unit keeps, next to its name, what the search needs precomputed (migration 0007):
# search_text, the folded "name code" that a word typed must be a substring of, indexed by an
# FTS5 trigram table; order_letters and order_tones, validation.sort_key(name) as two strings
# whose binary order is the key's order, so ORDER BY … LIMIT gives the same page as sorting in
# Python. SQL cannot fold Vietnamese, so Python fills them: import_rows as it writes, and
# refresh_search_text() for any row left NULL (rows from before 0007, rows written elsewhere,
# renames, which a trigger marks NULL). Changing _fold or sort_key therefore needs a migration
# that sets search_text to NULL everywhere: the next search recomputes every row.

_TRIGRAM = 3  # shorter words match nothing through the trigram index
_SEARCH_COLUMNS = "search_text, order_letters, order_tones"
_SEARCH_SET = "search_text = ?, order_letters = ?, order_tones = ?"


def _search_columns(code: str, name: str) -> tuple[str, str, str]:
    """(search_text, order_letters, order_tones) of a unit."""
    letters, tones = sort_key(name)
    # chr() keeps the order of the integers, and SQLite compares UTF-8 text in code point order.
    return _fold(name + " " + code), "".join(map(chr, letters)), "".join(map(str, tones))


async def refresh_search_text(conn: aiosqlite.Connection) -> int:
    """Compute the search columns left NULL; returns how many rows were filled."""
    sql = "SELECT id, code, name FROM units WHERE search_text IS NULL"
    async with conn.execute(sql) as cur:
        stale = [(row["id"], row["code"], row["name"]) for row in await cur.fetchall()]
    if not stale:
        return 0
    # A savepoint works both in autocommit (search runs under db.read()) and inside db.write().
    await conn.execute("SAVEPOINT unit_search")
    try:
        await conn.executemany(
            # Unless renamed since the SELECT (another process may write the file).
            f"UPDATE units SET {_SEARCH_SET} WHERE id = ? AND code = ? AND name = ?",
            [(*_search_columns(code, name), id_, code, name) for id_, code, name in stale],
        )
    except BaseException:
        await conn.execute("ROLLBACK TO unit_search")
        await conn.execute("RELEASE unit_search")
        raise
    await conn.execute("RELEASE unit_search")
    return len(stale)


def _search_sql(
    words: list[str],
    limit: int,
    *,
    leaves: bool = True,
    roots: list[int] | None = None,
    whole: str | None = None,
) -> tuple[str, list[object]]:
    """The query for units whose search_text contains every word, in order: leaves only, or
    units of any level; with `roots`, only within those units' subtrees; with `whole`, only
    units whose folded name is exactly that."""
    columns = ", ".join(f"u.{c.strip()}" for c in _COLUMNS.split(","))
    # instr() decides for every word (exact substring, as Python's `in`); the trigram MATCH
    # only narrows the rows to look at, when a word is long enough to use it.
    where = ["instr(u.search_text, ?) > 0" for _ in words]
    params: list[object] = list(words)
    long_words = [w for w in words if len(w) >= _TRIGRAM]
    if long_words:
        # CROSS JOIN keeps the FTS table outside: visit only its matches, never all units.
        source = "unit_search s CROSS JOIN units u ON u.id = s.rowid"
        where.insert(0, "unit_search MATCH ?")
        params.insert(0, " ".join('"' + w.replace('"', '""') + '"' for w in long_words))
    else:
        # Nothing to look up: walk units_order, which stops once `limit` units matched.
        source = "units u"
    prefix = ""
    if leaves:
        where.append("NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_id = u.id)")
    if roots is not None:
        prefix = SUBTREE
        params.insert(0, json.dumps(roots))
        where.append("u.id IN (SELECT id FROM sub)")
    if whole is not None:
        # search_text is the folded "name code", and codes are ASCII: lower() folds them.
        where.append("u.search_text = ? || ' ' || lower(u.code)")
        params.append(whole)
    sql = f"""{prefix}
              SELECT {columns} FROM {source}
              WHERE {" AND ".join(where)}
              ORDER BY u.order_letters, u.order_tones, u.code
              LIMIT ?"""
    return sql, [*params, max(limit, 0)]


async def search_leaves(conn: aiosqlite.Connection, query: str, limit: int) -> list[Unit]:
    """Branches (units without children) whose name or code contains every word typed,
    in Vietnamese order, at most `limit`."""
    words = _fold(query).split()
    if not words:
        return []
    await refresh_search_text(conn)
    sql, params = _search_sql(words, limit)
    async with conn.execute(sql, params) as cur:
        return [Unit.from_row(row) for row in await cur.fetchall()]


async def _within(conn: aiosqlite.Connection, unit_id: int, roots: list[int]) -> bool:
    return any(u.id in roots for u in await ancestors(conn, unit_id))


async def search_within(
    conn: aiosqlite.Connection, query: str, roots: list[int], limit: int
) -> list[Unit]:
    """Units of any level inside the subtrees of `roots` that `query` names: the unit whose
    code it is; else the one whose whole name it is; else those whose name or code contains
    every word typed, in Vietnamese order, at most `limit`. Units outside those subtrees are
    never found, whatever is typed."""
    text = query.strip()
    words = _fold(text).split()
    if not words or not roots:
        return []
    # Codes are ASCII, mostly upper case, typed in any case: the forms the unique index finds.
    sql = f"SELECT {_COLUMNS} FROM units WHERE code IN (?, ?, ?) ORDER BY code"
    async with conn.execute(sql, (text, text.upper(), text.lower())) as cur:
        coded = [Unit.from_row(row) for row in await cur.fetchall()]
    exact = [u for u in coded if await _within(conn, u.id, roots)]
    if exact:
        return exact[: max(limit, 0)]
    await refresh_search_text(conn)
    async with conn.execute("SELECT id FROM units WHERE parent_id IS NULL") as cur:
        everywhere = {row[0] for row in await cur.fetchall()} <= set(roots)
    # Reading a whole subtree costs time at national scale: not when it is the whole tree.
    reach = None if everywhere else roots
    for whole in (" ".join(words), None):
        sql, params = _search_sql(words, limit, leaves=False, roots=reach, whole=whole)
        async with conn.execute(sql, params) as cur:
            found = [Unit.from_row(row) for row in await cur.fetchall()]
        if found:
            return found
    return []


async def tops(conn: aiosqlite.Connection, unit_ids: list[int]) -> list[Unit]:
    """Of these units, those not inside another one's subtree, in Vietnamese order."""
    held = set(unit_ids)
    found = []
    for unit_id in held:
        chain = await ancestors(conn, unit_id)
        if chain and not any(u.id in held for u in chain[1:]):
            found.append(chain[0])
    return sorted(found, key=lambda u: (sort_key(u.name), u.code))


async def bump_invite_generation(conn: aiosqlite.Connection, unit_id: int) -> int:
    await conn.execute(
        "UPDATE units SET invite_generation = invite_generation + 1 WHERE id = ?", (unit_id,)
    )
    unit = await get(conn, unit_id)
    assert unit is not None
    return unit.invite_generation


# --- CSV import / export ---------------------------------------------------------------------


def _headcount(cell: str, line: int) -> int | None:
    text = cell.replace(" ", "").replace(".", "")  # "1 250" and "1.250" are how people write it
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > HEADCOUNT_MAX:
        raise CsvError(line, "csv_members", cell.strip())
    return int(text)


def parse_csv(text: str) -> list[UnitRow]:
    """Check every row of a units file; raise CsvError naming the first bad line.

    The header is code,name,parent_code,org, optionally followed by members."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    names = [h.strip().lower() for h in header] if header is not None else []
    if names not in (CSV_HEADER, [*CSV_HEADER, MEMBERS_COLUMN]):
        raise CsvError(1, "csv_header")
    with_members = len(names) > len(CSV_HEADER)
    rows: list[UnitRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        # The physical line where this record ends: a quoted cell may span several lines.
        index = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(names):
            raise CsvError(index, "csv_columns")
        code, name, parent_code, org = (cell.strip() for cell in record[:4])
        name = " ".join(name.split())
        if not _CODE.match(code):
            raise CsvError(index, "csv_code", code)
        if code in seen:
            raise CsvError(index, "csv_duplicate", code)
        if not name or len(name) > UNIT_NAME_MAX:
            raise CsvError(index, "csv_name")
        if org.lower() not in {o.value for o in Org}:
            raise CsvError(index, "csv_org", org)
        if parent_code == code:
            raise CsvError(index, "csv_cycle", code)
        headcount = _headcount(record[4], index) if with_members else None
        seen[code] = index
        rows.append(
            UnitRow(index, code, name, parent_code, Org(org.lower()), headcount, with_members)
        )
    return rows


async def import_rows(db: Database, rows: list[UnitRow]) -> tuple[int, int]:
    """Create or update units by code, all in one transaction; returns (created, updated).

    Units that are already in the database but not in the file are left alone, so a branch's
    members are never orphaned by a partial file.
    """
    async with db.write() as conn:
        existing = {u.code: u for u in await _all(conn)}
        code_of = {u.id: u.code for u in existing.values()}
        parents = {u.code: code_of.get(u.parent_id or 0) for u in existing.values()}
        known = existing.keys() | {row.code for row in rows}  # once: per row it was O(n²)
        for row in rows:
            if row.parent_code and row.parent_code not in known:
                raise CsvError(row.line, "csv_parent", row.parent_code)
            parents[row.code] = row.parent_code or None
        line_of = {row.code: row.line for row in rows}
        for row in rows:
            loop = _cycle(row.code, parents)
            if loop:
                # Name a row that is itself part of the loop, the first in the file.
                line, code = min((line_of[c], c) for c in loop if c in line_of)
                raise CsvError(line, "csv_cycle", code)
        created = updated = 0
        changed: set[str] = set()
        heads = await _headcounts(conn)
        recount_tree = False
        for row in rows:
            if row.has_headcount and heads.get(row.code) != row.headcount:
                recount_tree = True
                if row.code in existing:
                    changed.add(row.code)  # a new figure is a change of the unit
            if row.code in existing:
                unit = existing[row.code]
                before_parent = code_of.get(unit.parent_id or 0)
                if (unit.name, unit.org, before_parent) != (
                    row.name,
                    row.org,
                    row.parent_code or None,
                ):
                    changed.add(row.code)
                await conn.execute(
                    f"UPDATE units SET name = ?, org = ?, {_SEARCH_SET} WHERE code = ?",
                    (row.name, row.org.value, *_search_columns(row.code, row.name), row.code),
                )
            else:
                created += 1
                await conn.execute(
                    f"INSERT INTO units (code, name, org, {_SEARCH_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (row.code, row.name, row.org.value, *_search_columns(row.code, row.name)),
                )
        updated = len(changed)
        moved = any(
            code_of.get(existing[row.code].parent_id or 0) != (row.parent_code or None)
            for row in rows
            if row.code in existing
        )
        for row in rows:
            await conn.execute(
                "UPDATE units SET parent_id = (SELECT id FROM units WHERE code = ?) WHERE code = ?",
                (row.parent_code or None, row.code),
            )
            if row.has_headcount:
                await conn.execute(
                    "UPDATE units SET headcount = ? WHERE code = ?", (row.headcount, row.code)
                )
        if moved:  # subtree figures follow the new tree
            await counters.rebuild(conn)
        elif recount_tree:  # official headcounts feed the headcounts and default targets above
            await counters.refresh_tree(conn)
    return created, updated


async def _headcounts(conn: aiosqlite.Connection) -> dict[str, int | None]:
    async with conn.execute("SELECT code, headcount FROM units") as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


def _cycle(start: str, parents: dict[str, str | None]) -> list[str]:
    """The codes of the loop that `start`'s chain of parents runs into, if any."""
    path: list[str] = []
    current: str | None = start
    while current is not None:
        if current in path:
            return path[path.index(current) :]
        path.append(current)
        current = parents.get(current)
    return []


async def _all(conn: aiosqlite.Connection) -> list[Unit]:
    async with conn.execute(f"SELECT {_COLUMNS} FROM units ORDER BY id") as cur:
        return [Unit.from_row(row) for row in await cur.fetchall()]


async def export_csv(db: Database) -> str:
    """The whole tree in the import format, parents before children, with the official
    headcounts (an empty cell: none known), so exporting and importing again changes nothing."""
    async with db.read() as conn:
        units = await _all(conn)
        heads = await _headcounts(conn)
    by_id = {u.id: u for u in units}
    kids: dict[int | None, list[Unit]] = {}
    for unit in units:
        kids.setdefault(unit.parent_id, []).append(unit)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_HEADER, MEMBERS_COLUMN])
    stack = sorted(kids.get(None, []), key=lambda u: u.code, reverse=True)
    while stack:
        unit = stack.pop()
        parent = by_id[unit.parent_id].code if unit.parent_id else ""
        head = heads.get(unit.code)
        writer.writerow(
            [unit.code, unit.name, parent, unit.org.value, "" if head is None else head]
        )
        stack.extend(sorted(kids.get(unit.id, []), key=lambda u: u.code, reverse=True))
    return out.getvalue()
