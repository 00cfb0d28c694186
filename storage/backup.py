"""Backups while the bot runs, each verified before it counts; a restore that refuses bad files.

make_backup() copies with SQLite's online backup API from a separate connection: in WAL mode it
reads one committed snapshot while the bot keeps writing. The copy is a single self-contained
file (rollback journal, no -wal beside it), readable only by its owner (it holds names and
phone numbers), and it only takes its final name once verified: integrity_check, a schema
version this program knows, and the maintained counters equal to a recount.

restore() is for a STOPPED bot: a running bot holds the old file open (and its -wal), so the
old database cannot be checkpointed and would keep being written after the swap.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import shutil
import sqlite3
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import aiosqlite

from storage import counters
from storage.db import Database, bundled_migrations

log = logging.getLogger(__name__)

PREFIX = "motcongmot-"
_STAMP = "%Y%m%d-%H%M%S"
_HEADER = b"SQLite format 3\x00"
_SIDECARS = ("-wal", "-shm", "-journal")
_COUNTED = ("units", "members", "referrals")

T = TypeVar("T")


class BackupError(Exception):
    """A backup or restore was refused; `code` says why in one word, for logs and the CLI."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int  # bytes
    rows: dict[str, int]  # table -> row count, for units, members, referrals
    seconds: float


def backup_name(now: datetime, prefix: str = PREFIX) -> str:
    """`<prefix>YYYYmmdd-HHMMSS.db` in UTC, so names sort in time order whatever the zone."""
    if now.tzinfo is None:
        raise ValueError("backup_name needs an aware datetime")
    return f"{prefix}{now.astimezone(UTC).strftime(_STAMP)}.db"


# --- verification ------------------------------------------------------------------------------


def _ro_uri(path: Path) -> str:
    # mode=ro: verifying must never create, migrate or otherwise touch the file.
    return f"{path.resolve().as_uri()}?mode=ro"


def _check_header(path: Path) -> None:
    """A SQLite file at all, and not shorter than its header says (a truncated copy)."""
    if not path.is_file():
        raise BackupError("missing", f"{path} is not a file")
    with path.open("rb") as f:
        header = f.read(100)
    # An empty file is a valid empty database to SQLite: refuse it here, it holds nothing.
    if len(header) < 100 or not header.startswith(_HEADER):
        raise BackupError("not-sqlite", f"{path} is not a SQLite database")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages, change, valid_for = (struct.unpack(">I", header[i : i + 4])[0] for i in (28, 24, 92))
    if change == valid_for and path.stat().st_size < pages * page_size:
        raise BackupError("integrity", f"{path} is shorter than its header says: truncated")


async def _one(conn: aiosqlite.Connection, sql: str) -> list[sqlite3.Row]:
    async with conn.execute(sql) as cur:
        return list(await cur.fetchall())


async def _check_integrity(conn: aiosqlite.Connection, path: Path) -> None:
    try:
        result = [row[0] for row in await _one(conn, "PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise BackupError("integrity", f"{path}: {exc}") from exc
    if result != ["ok"]:
        raise BackupError("integrity", f"{path}: integrity_check: {'; '.join(result[:5])}")


async def _check_version(conn: aiosqlite.Connection, path: Path) -> None:
    version = (await _one(conn, "PRAGMA user_version"))[0][0]
    known = len(bundled_migrations())
    if version > known:
        raise BackupError("version", f"{path} is at version {version}, newer than {known}")
    if version < 1:  # restoring it would start the bot on an empty database
        raise BackupError("version", f"{path} is not a motcongmot database (version 0)")


async def _check_counters(conn: aiosqlite.Connection, path: Path) -> None:
    # Before migration 4 there are no counters; opening such a file later recounts them.
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'unit_stats'"
    if not await _one(conn, sql):
        return
    try:
        wrong = await counters.differences(conn)
    except sqlite3.DatabaseError as exc:  # e.g. a schema the recount does not know
        raise BackupError("counters", f"{path}: cannot recount: {exc}") from exc
    if wrong:
        raise BackupError("counters", f"{path}: {len(wrong)} counters differ from a recount")


async def _verified_rows(path: Path) -> dict[str, int]:
    """Every check of verify(); returns the row counts the report shows."""
    _check_header(path)
    async with aiosqlite.connect(_ro_uri(path), uri=True) as conn:
        await _check_integrity(conn, path)
        await _check_version(conn, path)
        await _check_counters(conn, path)
        return {t: (await _one(conn, f"SELECT count(*) FROM {t}"))[0][0] for t in _COUNTED}


async def verify(path: Path) -> None:
    """Raise BackupError unless `path` is a sound motcongmot database this program can run."""
    await _verified_rows(path)


# --- making a backup ---------------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: the directory entry itself must reach the disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as f:
        os.fsync(f.fileno())


def _remove(path: Path) -> None:
    for name in (path, *(Path(f"{path}{s}") for s in _SIDECARS)):
        name.unlink(missing_ok=True)


def _temp_beside(target: Path) -> Path:
    """An owner-only empty file next to `target` (same filesystem, so rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    return temp


async def _in_thread(fn: Callable[..., T], *args: object) -> T:
    """asyncio.to_thread, but a cancelled caller still waits for the thread (which cannot be
    stopped) so that cleanup never races a thread still writing the same files."""
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the cancellation is what the caller sees
        raise


def _online_copy(source: Path, dest: Path) -> None:
    """Runs in a thread. pages=-1 copies everything in one step, under one read transaction:
    a stepwise copy would restart each time the bot commits and might never finish."""
    if not source.is_file():
        raise BackupError("missing", f"no database at {source}")
    # mode=rw: never create an empty database where the live one should be.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst, pages=-1)
            # The copy inherits WAL from the source; a rollback journal keeps it one file.
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    _fsync_file(dest)


def _publish(temp: Path, dest: Path) -> int:
    """The verified copy takes its final name; returns its size."""
    os.replace(temp, dest)
    _fsync_dir(dest.parent)
    return dest.stat().st_size


async def make_backup(db: Database, dest: Path) -> BackupReport:
    """A verified, consistent copy of `db` at `dest`, taken while the bot keeps running.

    Only `db.path` is used; the copy is read through its own connection, so the bot's lock
    is never held. A copy that fails verification is deleted and BackupError is raised.
    """
    started = time.monotonic()
    temp = _temp_beside(dest)
    try:
        await _in_thread(_online_copy, db.path, temp)
        rows = await _verified_rows(temp)
        size = _publish(temp, dest)
    except BaseException:
        _remove(temp)
        raise
    report = BackupReport(dest, size, rows, time.monotonic() - started)
    log.info("backup %s: %d bytes in %.2fs", dest.name, report.size, report.seconds)
    return report


# --- restore -----------------------------------------------------------------------------------


def _aside_name(db_path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
    n = 1
    while any(Path(f"{aside}{s}").exists() for s in ("", *_SIDECARS)):
        n += 1
        aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}-{n}")
    return aside


def _swap_in(src: Path, db_path: Path) -> Path | None:
    """Runs in a thread: copy first (a failure here changes nothing), then two renames."""
    temp = _temp_beside(db_path)
    try:
        shutil.copyfile(src, temp)
        if db_path.exists():
            shutil.copymode(db_path, temp)  # whoever runs the bot must still be able to open it
        _fsync_file(temp)
        aside = _aside_name(db_path) if db_path.exists() else None
        if aside is not None:
            # Its -wal may hold committed rows (a crash); a stale -wal or hot -journal left
            # beside the restored file would be replayed into it.
            for suffix in _SIDECARS:
                if Path(f"{db_path}{suffix}").exists():
                    os.replace(f"{db_path}{suffix}", f"{aside}{suffix}")
            os.replace(db_path, aside)
        os.replace(temp, db_path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(db_path.parent)
    return aside


def _refuse_unsafe(src: Path, db_path: Path) -> None:
    if src.resolve() == db_path.resolve():
        raise BackupError("same-file", f"{src} is the database itself")
    wal = Path(f"{src}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        # Verification would read those rows, the file copy would lose them.
        raise BackupError("wal", f"{src} has a -wal beside it: open and close it once first")


async def restore(src: Path, db_path: Path) -> Path | None:
    """Put the backup `src` in place of the database at `db_path`. For a stopped bot only.

    `src` is verified first: a bad file raises BackupError and nothing is changed. The current
    database (with its -wal/-shm) is kept as `<db_path>.before-restore-<UTC stamp>`, whose
    path is returned; None when there was no database to keep (a restore on a new machine).
    """
    _refuse_unsafe(src, db_path)
    await verify(src)
    aside = await _in_thread(_swap_in, src, db_path)
    log.info("restored %s; previous database kept as %s", src.name, aside)
    return aside


# --- rotation ----------------------------------------------------------------------------------


def _stamp_of(name: str, prefix: str) -> datetime | None:
    match = re.fullmatch(re.escape(prefix) + r"(\d{8}-\d{6})\.db", name)
    if match is None:
        return None
    try:
        return datetime.strptime(match[1], _STAMP)
    except ValueError:  # digits in the right places but no real date: not one of ours
        return None


def rotate(directory: Path, keep: int, prefix: str = PREFIX) -> list[Path]:
    """Delete all but the newest `keep` backups named `<prefix>YYYYmmdd-HHMMSS.db` (newest by
    the name's timestamp, not the file's mtime); other files are never touched."""
    if keep < 1:
        raise ValueError("rotate must keep at least one backup")
    found = [
        (stamp, path)
        for path in directory.iterdir()
        if (stamp := _stamp_of(path.name, prefix)) is not None and path.is_file()
    ]
    found.sort(reverse=True)
    old = sorted(path for _, path in found[keep:])
    for path in old:
        path.unlink()
    return old
