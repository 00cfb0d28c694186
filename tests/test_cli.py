"""The real command line, run as the operator runs it: `python -m bot …` in a fresh process.

Every start of the program costs a third of a second, so the cases that only look at one
run each are started side by side once per module, and each test then checks its own run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample_units.csv"
GOOD_TOKEN = "987654321:AAHk-secret_value_abcdefghijklmnop"
HEADER = "code,name,parent_code,org\n"
DB = Path("db") / "bot.db"
# Settings the program reads: none may leak in from the machine running the tests.
_OWN_VARIABLES = {
    "DATABASE_PATH",
    "TIMEZONE",
    "LOG_LEVEL",
    "ADMIN_IDS",
    "LINK_SECRET",
    "DOAN_AGE_MIN",
    "DOAN_AGE_MAX",
    "HOI_AGE_MIN",
    "HOI_AGE_MAX",
}


def _environment(workdir: Path, env: dict[str, str]) -> dict[str, str]:
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("TELEGRAM_") and name.upper() not in _OWN_VARIABLES
    }
    clean.update(
        PYTHONPATH=str(ROOT),
        DATABASE_PATH=str(workdir / DB),
        PYTHONIOENCODING="utf-8",
        PYTHONDONTWRITEBYTECODE="1",
        # Should a run ever get past its configuration, it must not reach the real Telegram.
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",
        TELEGRAM_FILE_BASE_URL="http://127.0.0.1:9/file/bot",
    )
    clean.update(env)
    return clean


def start(workdir: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=workdir,
        env=_environment(workdir, env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the program did not stop: {err}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def run_cli(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return finish(start(workdir, *args, **env))


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def export(workdir: Path, **env: str) -> str:
    done = run_cli(workdir, "export-units", **env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def dump(database: Path) -> list[str]:
    """Everything in the database, as SQL: compared before and after a refused import."""
    conn = sqlite3.connect(database)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database the real CLI filled with data/sample_units.csv, to copy into each test."""
    workdir = tmp_path_factory.mktemp("template")
    done = run_cli(workdir, "import-units", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Đã nạp 14 đơn vị: 14 mới, 0 thay đổi."
    return workdir / DB


def _workdir(base: Path, loaded_db: Path | None = None) -> Path:
    (base / "data").mkdir(parents=True)
    shutil.copy(SAMPLE, base / "data" / "sample_units.csv")
    if loaded_db is not None:
        (base / DB).parent.mkdir(parents=True)
        shutil.copy(loaded_db, base / DB)
    return base


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return _workdir(tmp_path)


@pytest.fixture
def loaded(tmp_path: Path, loaded_db: Path) -> Path:
    """A working directory whose database already holds the sample tree."""
    return _workdir(tmp_path, loaded_db)


@dataclass
class Case:
    env: dict[str, str]
    dotenv: str | None = None
    file: tuple[str, bytes] | None = None  # (name, content) for import-units


@dataclass
class Ran:
    done: subprocess.CompletedProcess[str]
    before: list[str]
    after: list[str]

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr


def _run_side_by_side(
    base: Path, cases: dict[str, Case], args: Iterable[str], loaded_db: Path | None
) -> dict[str, Ran]:
    started = {}
    before = {}
    for name, case in cases.items():
        workdir = _workdir(base / name, loaded_db)
        if case.dotenv is not None:
            (workdir / ".env").write_text(case.dotenv, encoding="utf-8")
        command = list(args)
        if case.file is not None:
            (workdir / case.file[0]).write_bytes(case.file[1])
            command.append(case.file[0])
        before[name] = dump(workdir / DB) if loaded_db else []
        started[name] = (workdir, start(workdir, *command, **case.env))
    ran = {}
    for name, (workdir, process) in started.items():
        done = finish(process)
        ran[name] = Ran(done, before[name], dump(workdir / DB) if loaded_db else [])
    return ran


# --- run: configuration problems -------------------------------------------------------------

_GOOD = {"TELEGRAM_BOT_TOKEN": GOOD_TOKEN}
CONFIG_CASES = {
    "no-token": Case({}),
    "token-short": Case({"TELEGRAM_BOT_TOKEN": "123456:short-secret-value"}),
    "token-half": Case({"TELEGRAM_BOT_TOKEN": "AAHk-secret_value_abcdefghijklmnop"}),
    "token-spaces": Case({"TELEGRAM_BOT_TOKEN": "987654321:AAHk secret value with spaces"}),
    "timezone": Case({**_GOOD, "TIMEZONE": "Mars/Olympus_Mons"}),
    "timezone-offset": Case({**_GOOD, "TIMEZONE": "GMT+7"}),
    "admin-ids": Case({**_GOOD, "ADMIN_IDS": "12345,abc"}),
    "admin-handle": Case({**_GOOD, "ADMIN_IDS": "@bithu_tinhdoan"}),
    "api-url": Case({**_GOOD, "TELEGRAM_API_BASE_URL": "api.telegram.org"}),
    "dotenv-timezone": Case({}, f"TELEGRAM_BOT_TOKEN={GOOD_TOKEN}\nTIMEZONE=Asia/Sai_Gon\n"),
    "dotenv-token": Case({}, "TELEGRAM_BOT_TOKEN=42:tiny-secret\n"),
}


@pytest.fixture(scope="module")
def config_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    return _run_side_by_side(tmp_path_factory.mktemp("config"), CONFIG_CASES, ["run"], None)


def test_run_without_token(config_runs: dict[str, Ran]) -> None:
    ran = config_runs["no-token"]
    assert ran.done.returncode == 2
    line = one_line(ran.done.stderr)
    assert "TELEGRAM_BOT_TOKEN" in line
    assert "chưa đặt" in line
    assert ran.done.stdout == ""


@pytest.mark.parametrize("case", ["token-short", "token-half", "token-spaces", "dotenv-token"])
def test_malformed_token_is_named_and_never_shown(config_runs: dict[str, Ran], case: str) -> None:
    ran = config_runs[case]
    token = CONFIG_CASES[case].env.get("TELEGRAM_BOT_TOKEN", "42:tiny-secret")
    assert ran.done.returncode == 2
    line = one_line(ran.done.stderr)
    assert "TELEGRAM_BOT_TOKEN" in line
    assert "không đúng dạng" in line  # read, and judged: not "chưa đặt"
    assert token not in ran.output
    assert token.split(":")[-1] not in ran.output


@pytest.mark.parametrize(
    ("case", "variable"),
    [
        ("timezone", "TIMEZONE"),
        ("timezone-offset", "TIMEZONE"),
        ("admin-ids", "ADMIN_IDS"),
        ("admin-handle", "ADMIN_IDS"),
        ("api-url", "TELEGRAM_API_BASE_URL"),
        ("dotenv-timezone", "TIMEZONE"),  # and no complaint about the token: .env was read
    ],
)
def test_one_bad_variable_gives_one_line_naming_it(
    config_runs: dict[str, Ran], case: str, variable: str
) -> None:
    ran = config_runs[case]
    assert ran.done.returncode == 2
    line = one_line(ran.done.stderr)
    assert line.startswith("Cấu hình sai:")
    assert f" {variable}:" in line
    assert GOOD_TOKEN.split(":")[1] not in ran.output
    value = CONFIG_CASES[case].env.get(variable)
    if value:
        assert value not in ran.output


# --- import-units / export-units -------------------------------------------------------------


def test_import_prints_counts_and_is_idempotent(workdir: Path) -> None:
    first = run_cli(workdir, "import-units", "data/sample_units.csv")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "Đã nạp 14 đơn vị: 14 mới, 0 thay đổi."
    assert "Traceback" not in first.stderr
    assert (workdir / DB).exists()

    again = run_cli(workdir, "import-units", "data/sample_units.csv", LOG_LEVEL="WARNING")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "Đã nạp 14 đơn vị: 0 mới, 0 thay đổi."
    assert again.stderr == ""


def test_import_reports_changes(loaded: Path) -> None:
    (loaded / "edited.csv").write_text(
        HEADER + "CD-HL-KP3,Chi đoàn khu phố 3 (mới),P-HOA-LAC,doan\n"
        "CD-HL-KP9,Chi đoàn khu phố 9,P-HOA-LAC,doan\n",
        encoding="utf-8",
    )
    done = run_cli(loaded, "import-units", "edited.csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Đã nạp 2 đơn vị: 1 mới, 1 thay đổi."
    exported = export(loaded)
    # The official headcount column is always written (empty: none known).
    assert "CD-HL-KP3,Chi đoàn khu phố 3 (mới),P-HOA-LAC,doan,\n" in exported
    assert "CD-HL-KP9,Chi đoàn khu phố 9,P-HOA-LAC,doan,\n" in exported


def test_export_to_file_then_reimport_is_idempotent(loaded: Path) -> None:
    done = run_cli(loaded, "export-units", "--out", "f.csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    written = (loaded / "f.csv").read_text(encoding="utf-8")
    assert written.splitlines()[0] == HEADER.strip() + ",members"
    assert len(written.splitlines()) == 15
    rows = {line.split(",")[0] for line in written.splitlines()[1:]}
    assert {"TD-MAU", "CD-AB-THON1", "HOI-TINH", "CH-AB-THON2"} <= rows
    before = dump(loaded / DB)

    same_db = start(loaded, "import-units", "f.csv")
    other = str(loaded / "other" / "copy.db")
    new_db = start(loaded, "import-units", "f.csv", DATABASE_PATH=other)
    again, fresh = finish(same_db), finish(new_db)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "Đã nạp 14 đơn vị: 0 mới, 0 thay đổi."
    assert dump(loaded / DB) == before
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.strip() == "Đã nạp 14 đơn vị: 14 mới, 0 thay đổi."
    assert export(loaded, DATABASE_PATH=other) == written


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


BAD_FILES = {
    "bad-org": (
        Case(
            {}, file=("bad.csv", _utf8(HEADER + "NEW-1,Chi đoàn mới,X-AN-BINH,doan\n\nN2,Hai,,x\n"))
        ),
        4,
    ),
    "unknown-parent": (
        Case(
            {},
            file=(
                "bad.csv",
                _utf8(
                    HEADER + "CD-HL-KP3,Chi đoàn khu phố 3 SỬA,P-HOA-LAC,doan\n"
                    "NEW-2,Chi đoàn mới,KHONG-CO,doan\n"
                ),
            ),
        ),
        3,
    ),
    "cycle": (
        Case(
            {},
            file=(
                "bad.csv",
                _utf8(HEADER + "NEW-1,Mới,,doan\nTD-MAU,Tỉnh đoàn,CD-AB-THON1,doan\n"),
            ),
        ),
        3,
    ),
    "header": (Case({}, file=("bad.csv", _utf8("ma,ten\nNEW-1,Mới\n"))), 1),
    # Excel on Windows saves "CSV" in the Vietnamese code page (tones as combining marks)
    # or, as "Unicode text", in UTF-16.
    "cp1258": (
        Case(
            {},
            file=(
                "excel.csv",
                (HEADER + "NEW-1,Chi đoàn thôn Đông Ho\u0300a,X-AN-BINH,doan\n").encode("cp1258"),
            ),
        ),
        None,
    ),
    "utf-16": (
        Case({}, file=("excel.csv", (HEADER + "NEW-1,Chi đoàn,,doan\n").encode("utf-16"))),
        None,
    ),
}


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory, loaded_db: Path) -> dict[str, Ran]:
    cases = {name: case for name, (case, _) in BAD_FILES.items()}
    return _run_side_by_side(tmp_path_factory.mktemp("bad"), cases, ["import-units"], loaded_db)


@pytest.mark.parametrize("case", ["bad-org", "unknown-parent", "cycle", "header"])
def test_bad_csv_names_the_line_and_changes_nothing(bad_runs: dict[str, Ran], case: str) -> None:
    ran = bad_runs[case]
    line = BAD_FILES[case][1]
    assert ran.done.returncode != 0
    message = one_line(ran.done.stderr)
    assert f"bad.csv, dòng {line}:" in message
    assert "Không nạp gì" in message
    assert ran.done.stdout == ""
    assert len(ran.before) > 14
    assert ran.after == ran.before


@pytest.mark.parametrize("case", ["cp1258", "utf-16"])
def test_file_not_in_utf8_gives_one_clear_line(bad_runs: dict[str, Ran], case: str) -> None:
    ran = bad_runs[case]
    assert ran.done.returncode != 0
    message = one_line(ran.done.stderr)
    assert "UTF-8" in message
    assert "excel.csv" in message
    assert ran.done.stdout == ""
    assert ran.after == ran.before


def test_missing_file_gives_one_clear_line(workdir: Path) -> None:
    done = run_cli(workdir, "import-units", "khong-co.csv")
    assert done.returncode != 0
    message = one_line(done.stderr)
    assert "khong-co.csv" in message
    assert not (workdir / DB).exists()
