"""motcongmot's command line: run the bot, load and dump the unit tree."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from pydantic import create_model

from bot import logs, texts
from bot.channels import ChannelUnavailable
from bot.settings import ConfigError, Settings, StorageSettings, load_settings
from storage import admissions_import, counters, units
from storage.clock import Clock, SystemClock, local_today
from storage.db import Database, MigrationError
from storage.units import CsvError
from storage.validation import AgePolicy, AgeRange, Org


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcongmot", description="Trợ lý phong trào 1+1")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="chạy bot trên mọi kênh đã đặt mã (Telegram, Zalo)")
    sub.add_parser("try", help="chạy thử cả bot trong cửa sổ lệnh, không cần mã bot")
    imp = sub.add_parser("import-units", help="nạp cây đơn vị từ tệp CSV")
    imp.add_argument("file", type=Path)
    adm = sub.add_parser(
        "import-admissions", help="nạp các trường hợp đã kết nạp trước khi dùng bot (CSV)"
    )
    adm.add_argument("file", type=Path)
    exp = sub.add_parser("export-units", help="xuất cây đơn vị ra CSV")
    exp.add_argument("--out", type=Path, help="tệp đích (mặc định: màn hình)")
    sub.add_parser("check", help="so số liệu thống kê lưu sẵn với số đếm lại từ dữ liệu gốc")
    backup = sub.add_parser("backup", help="sao lưu cơ sở dữ liệu (được cả khi bot đang chạy)")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser("restore", help="khôi phục từ bản sao lưu (dừng bot trước)")
    restore.add_argument("file", type=Path)
    report = sub.add_parser("export", help="xuất báo cáo kiểm tra (XLSX)")
    report.add_argument("--period", required=True, help="2026, 2026-H1 hoặc 2026-Q3")
    report.add_argument("--unit", help="mã đơn vị (không có: mọi đơn vị gốc, Đoàn và Hội)")
    report.add_argument(
        "--org", choices=["doan", "hoi"], help="không có --unit: chỉ Đoàn hoặc chỉ Hội"
    )
    report.add_argument("--out", type=Path, required=True, help="tệp .xlsx")
    link = sub.add_parser("invite-link", help="đường dẫn mời đoàn viên vào một đơn vị")
    link.add_argument("code")
    link.add_argument("--bot-username", default="", help="tên bot, không có @")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run()
        if args.command == "try":
            return _try()
        storage_settings = load_settings(StorageSettings)
        logs.configure(storage_settings.log_level, style=storage_settings.log_format)
        if args.command == "import-units":
            return _import_units(storage_settings, args.file)
        if args.command == "import-admissions":
            return _import_admissions(args.file)
        if args.command == "export-units":
            return _export_units(storage_settings, args.out)
        if args.command == "check":
            return asyncio.run(_check(storage_settings))
        if args.command == "backup":
            return asyncio.run(_backup(storage_settings, args.file))
        if args.command == "restore":
            return asyncio.run(_restore(storage_settings, args.file))
        if args.command == "export":
            return _export_report(storage_settings, args.period, args.unit, args.org, args.out)
        if args.command == "invite-link":
            settings = load_settings(Settings)
            return asyncio.run(_invite_link(settings, args.code, args.bot_username))
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    except MigrationError as exc:
        print(texts.database_problem(str(exc)), file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:  # not a database, locked, read-only…
        print(texts.database_problem(str(exc)), file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(texts.NOT_UTF8, file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that does not exist, no permission…
        print(
            texts.file_problem(exc.filename or "", exc.strerror or type(exc).__name__),
            file=sys.stderr,
        )
        return 1
    except ChannelUnavailable as exc:  # a revoked token, a platform out of reach at startup
        print(texts.channel_problem(exc.channel, exc.refused, exc.kind), file=sys.stderr)
        return 1
    return 2


def _run() -> int:
    # Opt in to PTB's coming behaviour (RetryAfter.retry_after as a timedelta) and its warning.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    settings = load_settings(Settings)
    logs.configure(settings.log_level, settings.secrets, settings.log_format)
    from bot.app import Runtime

    print(texts.STARTING, file=sys.stderr)
    asyncio.run(Runtime(settings).run())
    return 0


def _try() -> int:
    """The whole bot in the terminal, on a scratch database: no token, nothing to set up."""
    import tempfile

    from pydantic import SecretStr

    from bot.app import Runtime

    workdir = Path(tempfile.mkdtemp(prefix="motcongmot-try-"))
    logs.configure("WARNING")
    # Built without validation on purpose: no channel token is wanted here.
    settings = Settings.model_construct(
        database_path=workdir / "try.db",
        admin_ids=["console:admin"],
        link_secret=SecretStr("motcongmot-try"),
        log_level="WARNING",
    )
    asyncio.run(Runtime(settings, console=workdir).run())
    return 0


def _import_units(settings: StorageSettings, path: Path) -> int:
    try:
        raw = path.read_bytes()
    except OSError:
        print(texts.file_missing(str(path)), file=sys.stderr)
        return 1
    try:
        rows = units.parse_csv(raw.decode("utf-8"))
        created, updated = asyncio.run(_import_rows(settings, rows))
    except UnicodeDecodeError:
        print(texts.csv_problem(str(path), 1, "csv_encoding", ""), file=sys.stderr)
        return 1
    except CsvError as exc:
        print(texts.csv_problem(str(path), exc.line, exc.code, exc.detail), file=sys.stderr)
        return 1
    print(texts.units_imported(len(rows), created, updated))
    return 0


_AGE_FIELDS = ("doan_age_min", "doan_age_max", "hoi_age_min", "hoi_age_max")


def _admission_settings() -> tuple[StorageSettings, AgePolicy]:
    """The storage settings and the bot's own age ranges (DOAN_AGE_*, HOI_AGE_*), read as the
    bot reads them (same fields, same limits) but without needing a bot token."""
    fields: dict[str, Any] = {name: (int, Settings.model_fields[name]) for name in _AGE_FIELDS}
    found = load_settings(create_model("AdmissionSettings", __base__=StorageSettings, **fields))
    low_doan, high_doan, low_hoi, high_hoi = (getattr(found, name) for name in _AGE_FIELDS)
    ranges = {Org.DOAN: AgeRange(low_doan, high_doan), Org.HOI: AgeRange(low_hoi, high_hoi)}
    return found, AgePolicy(ranges)


def _import_admissions(path: Path) -> int:
    """A unit's earlier admissions: every line checked, then all written or none."""
    settings, ages = _admission_settings()
    try:
        raw = path.read_bytes()
    except OSError:
        print(texts.file_missing(str(path)), file=sys.stderr)
        return 1
    clock = SystemClock()
    try:
        today = local_today(clock, settings.tz)
        rows = admissions_import.parse_csv(raw.decode("utf-8"), today, ages)
        done = asyncio.run(_import_admission_rows(settings, rows, clock))
    except UnicodeDecodeError:
        print(texts.csv_problem(str(path), 1, "csv_encoding", ""), file=sys.stderr)
        return 1
    except CsvError as exc:
        print(texts.csv_problem(str(path), exc.line, exc.code, exc.detail), file=sys.stderr)
        return 1
    print(texts.admissions_imported(len(rows), done.created, done.already))
    return 0


async def _import_admission_rows(
    settings: StorageSettings, rows: list[admissions_import.AdmissionRow], clock: Clock
) -> admissions_import.Imported:
    async with Database(settings.database_path) as db:
        return await admissions_import.import_rows(db, rows, clock, settings.tz)


async def _import_rows(settings: StorageSettings, rows: list[units.UnitRow]) -> tuple[int, int]:
    async with Database(settings.database_path) as db:
        return await units.import_rows(db, rows)


async def _dump_units(settings: StorageSettings) -> str:
    async with Database(settings.database_path) as db:
        return await units.export_csv(db)


def _export_units(settings: StorageSettings, out: Path | None) -> int:
    text = asyncio.run(_dump_units(settings))
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
    return 0


def _export_report(
    settings: StorageSettings, period_text: str, code: str | None, org: str | None, out: Path
) -> int:
    from storage.periods import parse_period

    period = parse_period(period_text)
    if period is None:
        print(texts.period_invalid(period_text), file=sys.stderr)
        return 2
    written = asyncio.run(_write_report(settings, period, code, org, out))
    if written is None:
        print(texts.unit_missing(code or ""), file=sys.stderr)
        return 1
    if not written:
        print(texts.REPORT_NO_UNITS, file=sys.stderr)
        return 1
    print(texts.exported(str(out)))
    return 0


async def _write_report(
    settings: StorageSettings, period: object, code: str | None, org: str | None, out: Path
) -> list[object] | None:
    """The report of one unit, or of every root (Đoàn first, then Hội) written to `out`, row
    by row; None for an unknown code."""
    from bot import reports
    from storage import report_rows
    from storage.periods import Period

    assert isinstance(period, Period)
    async with Database(settings.database_path) as db:
        if code is not None:
            async with db.read() as conn:
                unit = await units.get_by_code(conn, code)
            if unit is None:
                return None
            ids = [unit.id]
        else:
            tops = sorted(await report_rows.roots(db), key=lambda u: list(Org).index(u.org))
            ids = [u.id for u in tops if org is None or u.org == org]
        today = local_today(SystemClock(), settings.tz)
        heading = reports.Heading(today, settings.report_place, settings.report_signer_title)
        return list(await reports.write_report(out, db, ids, period, heading))


async def _backup(settings: StorageSettings, dest: Path) -> int:
    """A consistent copy while the bot may be running, verified before it is kept."""
    from storage import backup

    async with Database(settings.database_path) as db:
        try:
            report = await backup.make_backup(db, dest)
        except backup.BackupError as exc:
            print(texts.backup_refused(exc.code), file=sys.stderr)
            return 1
    print(texts.backup_done(str(report.path), report.size, report.rows, report.seconds))
    return 0


async def _restore(settings: StorageSettings, src: Path) -> int:
    from storage import backup

    try:
        aside = await backup.restore(src, settings.database_path)
    except backup.BackupError as exc:
        print(texts.backup_refused(exc.code), file=sys.stderr)
        return 1
    print(texts.restored(str(src), str(aside) if aside else None))
    return 0


async def _check(settings: StorageSettings) -> int:
    """Exit 0 when every maintained counter equals the recount, 1 (listing them) otherwise."""
    async with Database(settings.database_path) as db, db.read() as conn:
        wrong = await counters.differences(conn)
    for (unit_id, bucket, metric), kept, fresh in wrong[:50]:
        print(texts.counter_mismatch(unit_id, bucket or "-", metric, kept, fresh))
    print(texts.check_result(len(wrong)))
    return 1 if wrong else 0


async def _invite_link(settings: Settings, code: str, bot_username: str) -> int:
    from handlers.common import Deps
    from storage import codes, invites
    from storage.clock import SystemClock

    async with Database(settings.database_path) as db:
        async with db.read() as conn:
            unit = await units.get_by_code(conn, code)
        if unit is None:
            print(texts.unit_missing(code), file=sys.stderr)
            return 1
        secret = Deps(db, settings, SystemClock()).link_secret
        payload = invites.unit_payload(secret, unit)
        invite_code = await invites.remember_unit_code(db, secret, unit)
    link = invites.link(bot_username or "<ten_bot>", payload)
    print(texts.invite_link(unit.name, link, codes.display(invite_code)))
    return 0
