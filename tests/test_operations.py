"""Running it for years: /healthz, daily backups, backup and restore around a crash."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot import texts
from bot.settings import Settings
from storage import backup
from storage.clock import ManualClock
from tests.fakebotapi import FakeBotApi, TgUser
from tests.fakezalo import FakeZaloApi
from tests.harness import RunningBot, free_port, make_settings
from tests.test_run_process import ROOT, BotProcess, _env, _press, _say


@pytest.fixture
def settings(api: FakeBotApi, db_path: Path, tmp_path: Path) -> Settings:
    port = free_port()
    return make_settings(
        api,
        db_path,
        webhook_listen=f"127.0.0.1:{port}",
        backup_dir=tmp_path / "backups",
        backup_keep=2,
    )


async def test_healthz_says_what_works_and_503_when_something_does_not(bot: RunningBot):
    url = f"http://{bot.settings.webhook_listen}/healthz"
    async with httpx.AsyncClient() as client:
        answer = await client.get(url)
        assert answer.status_code == 200
        report = answer.json()
        assert report["ok"] is True
        assert report["database"] == "ok" and report["scheduler"] == "running"
        assert report["channels"]["telegram"]["ok"] is True
        assert report["channels"]["telegram"]["mode"] == "polling"
        assert report["channels"]["telegram"]["last_contact"] is not None
        bot.runtime.scheduler.shutdown(wait=False)
        answer = await client.get(url)
        assert answer.status_code == 503
        assert answer.json()["scheduler"] == "stopped"


async def test_the_daily_backup_is_verified_and_keeps_the_newest(
    bot: RunningBot, clock: ManualClock, tmp_path: Path
):
    jobs = {job.id: job for job in bot.runtime.scheduler.get_jobs()}
    assert jobs["backup"].trigger.fields[5].expressions[0].first == 2  # BACKUP_HOUR: 02:00
    for _ in range(3):
        await bot.runtime.daily_backup()
        clock.advance(timedelta(days=1))
    kept = sorted((tmp_path / "backups").iterdir())
    assert len(kept) == 2
    for path in kept:
        await backup.verify(path)


async def _cli(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _register(api: FakeBotApi, user: TgUser, name: str) -> None:
    await _say(api, user, "/start", expect=2)
    for label in ("📂 Tỉnh đoàn Mẫu", "📂 Đoàn xã An Bình"):
        await _press(api, user, label, expect=0)
        await api.wait_until(lambda n=label[2:]: n in api.messages(user.id)[-1].text, seconds=10)
    await _press(api, user, "Chi đoàn thôn Tân Lập")
    await _say(api, user, name)
    await _press(api, user, "Đoàn viên")
    assert (await _say(api, user, "Bỏ qua")).startswith("Đã ghi danh")


@pytest.fixture
async def running(api: FakeBotApi, tmp_path: Path) -> AsyncIterator[BotProcess]:
    db_path = tmp_path / "data" / "bot.db"
    code, _, _ = await _cli(
        "import-units",
        str(ROOT / "data" / "sample_units.csv"),
        env=_env(api, db_path),
        cwd=tmp_path,
    )
    assert code == 0
    process = BotProcess(api, tmp_path, db_path)
    yield process
    if process.proc is not None and process.proc.returncode is None:
        await process.kill()


async def test_backup_while_running_then_a_crash_and_a_restore(
    api: FakeBotApi, running: BotProcess, tmp_path: Path
):
    env = _env(api, running.db_path)
    await running.start()
    await _register(api, TgUser(id=801, first_name="Lan"), "Trần Thị Lan")
    copy = tmp_path / "backups" / "before.db"
    code, out, err = await _cli("backup", str(copy), env=env, cwd=tmp_path)
    assert code == 0, err
    assert out.startswith("Đã sao lưu và kiểm tra")
    await _register(api, TgUser(id=802, first_name="Tú"), "Mai Văn Tú")
    await running.kill()  # while the bot holds the database

    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database at all" * 100)
    code, _, err = await _cli("restore", str(broken), env=env, cwd=tmp_path)
    assert code == 1 and err.strip() == texts.backup_refused("not-sqlite")

    code, out, err = await _cli("restore", str(copy), env=env, cwd=tmp_path)
    assert code == 0, err
    assert "Bản cũ được giữ lại" in out
    code, out, _ = await _cli("check", env=env, cwd=tmp_path)
    assert code == 0, out
    with sqlite3.connect(running.db_path) as conn:
        names = [name for (name,) in conn.execute("SELECT full_name FROM members")]
    conn.close()
    assert names == ["Trần Thị Lan"]

    await running.start()  # the restored database runs
    lan = TgUser(id=801, first_name="Lan")
    assert (await _say(api, lan, "/start")).startswith("Chào đồng chí Trần Thị Lan")
    await running.terminate()


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_a_refused_token_is_one_line_and_never_printed(
    api: FakeBotApi, zalo: FakeZaloApi, tmp_path: Path, level: str
):
    """Both APIs answer 401 to a token they do not know: one line naming the variable, no
    traceback, and neither the token nor its secret half anywhere in the output."""
    env = _env(api, tmp_path / "bot.db")
    wrong = "987654321:WRONG-token_abcdefghijklmnopqrstuv"
    env.update(TELEGRAM_BOT_TOKEN=wrong, LOG_LEVEL=level)
    code, out, err = await _cli("run", env=env, cwd=tmp_path)
    assert code == 1
    assert err.strip().splitlines()[-1] == texts.channel_problem("telegram", True, "")
    assert "Traceback" not in err
    assert wrong.split(":")[1] not in out + err
    zalo_wrong = "1459232241454765289:WRONG-zalo-secret-0123"
    env.pop("TELEGRAM_BOT_TOKEN")
    env.update(ZALO_BOT_TOKEN=zalo_wrong, ZALO_API_BASE_URL=zalo.api_base_url)
    code, out, err = await _cli("run", env=env, cwd=tmp_path)
    assert code == 1
    assert err.strip().splitlines()[-1] == texts.channel_problem("zalo", True, "")
    assert zalo_wrong.split(":")[1] not in out + err and "Traceback" not in err


def test_the_log_filter_hides_every_configured_secret() -> None:
    import io
    import logging

    from bot.logs import REDACTED, RedactSecrets

    settings = make_settings(
        None,
        Path("unused.db"),
        zalo=None,
        telegram_bot_token="123456789:SECRET-telegram_abcdefghijklmnop",
        zalo_bot_token="1459232241454765289:SECRET-zalo-abcdef",
        link_secret="SECRET-link-0123456789",
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(settings.secrets))
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    try:
        logger.warning("POST https://api/bot%s/getMe", "123456789:SECRET-telegram_abcdefghijklmnop")
        try:
            raise RuntimeError("zalo said SECRET-zalo-abcdef and SECRET-link-0123456789")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    printed = stream.getvalue()
    assert "SECRET" not in printed
    assert printed.count(REDACTED) == 5  # the URL, and both secrets in the line and the message


@pytest.mark.parametrize("style", ["kv", "json"])
def test_log_lines_are_one_line_per_event(style: str) -> None:
    import io
    import json
    import logging

    from bot.logs import OneLine

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLine(style))
    logger = logging.getLogger("motcongmot.test")
    logger.addHandler(handler)
    try:
        logger.warning("zalo: getUpdates failed (%s); retrying in %.0f s", "ConnectError", 4)
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("error while handling update %s", 42)
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # the traceback is folded into its event's line
    if style == "json":
        first, second = (json.loads(line) for line in lines)
        assert first["level"] == "WARNING" and "retrying in 4 s" in first["msg"]
        assert "ValueError: boom" in second["exc"]
    else:
        assert lines[0].startswith("time=") and 'level="WARNING"' in lines[0]
        assert "ValueError: boom" in lines[1]
