"""`python -m bot run` as a real process with Telegram and Zalo at once, on one database: a
Zalo member joins by a code from Telegram, refers a youth, a Telegram admin admits, and the Zalo
member hears it on Zalo."""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import sys
from pathlib import Path

from bot import texts
from tests.fakebotapi import FakeBotApi, TgUser
from tests.fakezalo import FakeZaloApi
from tests.harness import TOKEN, ZALO_TOKEN, code_in
from tests.test_run_process import ROOT, START_SECONDS, _env, _press, _say

ADMIN = TgUser(id=600_123, first_name="Quản trị")
MINH = "9f9f9f9f9f9f9f9f9f9f"


async def _zsay(zalo: FakeZaloApi, text: str, expect: int = 1) -> str:
    seen = len(zalo.messages(MINH))
    zalo.inject_text(MINH, text, display_name="Minh")
    sent = await zalo.wait_for_messages(MINH, seen + expect, seconds=START_SECONDS)
    return sent[-1].text or ""


async def _edited_to(api: FakeBotApi, user: TgUser, label: str, wanted: str) -> None:
    """Press a button that edits its own message, until the message shows `wanted`."""
    await _press(api, user, label, expect=0)
    await api.wait_until(lambda: wanted in (api.messages(user.id)[-1].text or ""), seconds=10)


async def test_one_process_serves_telegram_and_zalo_on_one_database(
    api: FakeBotApi, zalo: FakeZaloApi, tmp_path: Path
):
    db_path = tmp_path / "data" / "bot.db"
    env = _env(api, db_path)
    env.update(
        ZALO_BOT_TOKEN=ZALO_TOKEN,
        ZALO_API_BASE_URL=zalo.api_base_url,
        ADMIN_IDS=str(ADMIN.id),
        LOG_LEVEL="DEBUG",
    )
    units = ROOT / "data" / "sample_units.csv"
    imported = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "import-units", str(units), cwd=tmp_path, env=env
    )
    assert await imported.wait() == 0
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await api.wait_for_call("setMyCommands", 1, seconds=START_SECONDS)
        await zalo.wait_for_call("getUpdates", 1, seconds=START_SECONDS)

        # The Telegram admin gets the code of Chi đoàn thôn Tân Lập.
        await _say(api, ADMIN, "/moi")
        await _edited_to(api, ADMIN, "Tỉnh đoàn Mẫu", "Đơn vị: Tỉnh đoàn Mẫu")
        await _edited_to(api, ADMIN, "📂 Đoàn xã An Bình", "Đơn vị: Đoàn xã An Bình")
        await _edited_to(api, ADMIN, "📂 Chi đoàn thôn Tân Lập", "Đơn vị: Chi đoàn thôn Tân Lập")
        invite = await _press(api, ADMIN, texts.BTN_CHOOSE_HERE)
        code = code_in(invite)

        # A member on Zalo joins with it and refers a youth, answering by numbers.
        await _zsay(zalo, f"start {code}", 2)
        assert texts.invited_to("Chi đoàn thôn Tân Lập") in zalo.texts(MINH)[-2]
        await _zsay(zalo, "Lê Văn Minh")
        await _zsay(zalo, "1")  # Đoàn viên
        assert (await _zsay(zalo, "1")).startswith("Đã ghi danh")  # Bỏ qua
        await _zsay(zalo, "gioithieu")
        await _zsay(zalo, "Phạm Thu Hà")
        await _zsay(zalo, "2005")
        await _zsay(zalo, "1")  # no phone
        await _zsay(zalo, "vao doan")
        saved = await _zsay(zalo, "1")  # confirm
        number = int(re.search(r"giới thiệu số (\d+)", saved)[1])  # type: ignore[index]

        # The Telegram admin admits it; the Zalo member is told on Zalo.
        await _say(api, ADMIN, "/duyet")
        await _press(api, ADMIN, texts.BTN_ADMIT)
        seen = len(zalo.messages(MINH))
        await _press(api, ADMIN, texts.BTN_TODAY, expect=1)
        notice = (await zalo.wait_for_messages(MINH, seen + 1, seconds=START_SECONDS))[-1].text
        assert notice is not None and notice.startswith(
            f"Tin vui! Phạm Thu Hà (giới thiệu số {number})"
        )
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), START_SECONDS)
    assert proc.returncode == 0
    assert proc.stderr is not None
    stderr = await proc.stderr.read()
    for secret in (TOKEN.split(":")[1], ZALO_TOKEN.split(":")[1]):
        assert secret.encode() not in stderr
    assert "Phạm".encode() not in stderr and b"Traceback" not in stderr

    with sqlite3.connect(db_path) as conn:
        people = conn.execute("SELECT channel, user_ref FROM members").fetchall()
        status = conn.execute("SELECT status FROM referrals").fetchall()
    conn.close()
    assert people == [("zalo", MINH)]
    assert status == [("admitted",)]
