"""The database: one long-lived aiosqlite connection, versioned migrations, serialised writes."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

Migration = tuple[int, str, str]  # (version, name, SQL script)

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


# The update a channel is handling in this task, as (channel, update ref): every write
# transaction made while handling it also records it as handled, in the same transaction, so
# an update served again after a crash (Telegram, Zalo) never changes anything twice, and an
# update that changed nothing costs no write (see storage.seen).
HANDLING: ContextVar[tuple[str, str] | None] = ContextVar("handling", default=None)
_MARK_HANDLED = "INSERT OR IGNORE INTO seen_updates (channel, update_ref, seen_at) VALUES (?, ?, ?)"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")  # as storage.clock.to_db writes


class MigrationError(RuntimeError):
    """A migration failed; the database was left at its previous version."""


def bundled_migrations() -> list[Migration]:
    """The numbered SQL files shipped in storage/migrations, in order."""
    found: list[Migration] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations must be numbered 1..n without gaps, got {versions}")
    return found


class Database:
    """Owns the connection. Use `async with Database(path) as db:` or open()/close().

    Every unit of work runs under one asyncio lock, so two handlers can never interleave
    their transactions on the shared connection; writes use BEGIN IMMEDIATE … COMMIT.
    """

    def __init__(self, path: Path | str, migrations: Sequence[Migration] | None = None) -> None:
        self.path = Path(path)
        self._migrations = list(migrations) if migrations is not None else bundled_migrations()
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self) -> None:
        """Connect and upgrade the schema. Opening an open database does nothing."""
        if self._conn is not None:
            return
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            # Deleted rows are overwritten with zeros, so an erasure leaves no readable bytes
            # in the file's free pages or free space.
            await conn.execute("PRAGMA secure_delete = ON")
            await self._migrate(conn)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def close(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        async with self._lock:
            await conn.close()

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def schema_version(self) -> int:
        return len(self._migrations)

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        if current > len(self._migrations):
            raise MigrationError(
                f"database {self.path} is at version {current}, newer than this program "
                f"({len(self._migrations)})"
            )
        for version, name, script in self._migrations[current:]:
            # The version bump sits inside the same transaction as the script,
            # so a failure leaves both the schema and user_version untouched.
            try:
                await conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\n;PRAGMA user_version = {version};\nCOMMIT;"
                )
            except Exception as exc:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise MigrationError(f"migration {version:04d}_{name} failed: {exc}") from exc
            log.info("database upgraded to version %d (%s)", version, name)
        await self._counters_present(conn)

    async def _counters_present(self, conn: aiosqlite.Connection) -> None:
        """Counters start from a recount of what is there: after migration 4, and again if a
        crash came between that migration and its recount (data but no counters)."""
        if len(self._migrations) < 4:
            return
        sql = """SELECT NOT EXISTS (SELECT 1 FROM unit_stats)
                    AND EXISTS (SELECT 1 FROM members UNION ALL SELECT 1 FROM referrals)"""
        async with conn.execute(sql) as cur:
            row = await cur.fetchone()
        if row and row[0]:
            from storage import counters

            await conn.execute("BEGIN IMMEDIATE")
            await counters.rebuild(conn)
            await conn.execute("COMMIT")
            log.info("statistics counters recounted")

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: committed if the block ends, rolled back if it raises."""
        async with self._lock:
            conn = self._connection()
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                mark = HANDLING.get()
                if mark is not None:
                    await conn.execute(_MARK_HANDLED, (*mark, _now()))
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            try:
                await conn.execute("COMMIT")
            except BaseException:  # a full disk, an I/O error: never stay inside a transaction
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read-only connection of its own, for a long read (an export, a chart): WAL gives
        it one consistent snapshot while the bot goes on writing, and it never holds the shared
        connection's lock, so nobody waits for somebody else's report."""
        conn = await aiosqlite.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("BEGIN")  # one snapshot for the whole read
            yield conn
        finally:
            await conn.close()

    async def checkpoint(self) -> None:
        """Copy the WAL into the main file and empty it: old versions of pages (an erased
        member's name, say) would otherwise stay readable in the -wal file."""
        async with self._lock:
            conn = self._connection()
            async with conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                row = await cursor.fetchone()
        if row is not None and row[0]:
            log.warning("WAL checkpoint blocked by a reader; it completes at a later one")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Reads share the lock so they never see another task's unfinished transaction."""
        async with self._lock:
            yield self._connection()
