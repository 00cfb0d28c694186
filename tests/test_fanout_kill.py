"""A fan-out killed with SIGKILL halfway completes after a restart, without a duplicate."""

from __future__ import annotations

import asyncio
import collections
import signal
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from bot import texts
from scheduler.fanout import FanoutPolicy
from storage import units
from storage.clock import to_db
from storage.db import Database
from tests.conftest import SAMPLE_UNITS
from tests.fakebotapi import FakeBotApi, TgUser
from tests.test_run_process import START_SECONDS, BotProcess

LEADER = 801
MEMBERS = list(range(900, 960))


async def _seed(db_path: Path) -> None:
    now = to_db(datetime.now(UTC))
    async with Database(db_path) as db:
        await units.import_rows(db, units.parse_csv(SAMPLE_UNITS.read_text(encoding="utf-8")))
        async with db.read() as conn:
            branch = await units.get_by_code(conn, "CD-AB-THON1")
        assert branch is not None
        async with db.write() as conn:
            people = [(LEADER, "Nguyễn Văn Hùng")] + [(m, f"Đoàn Viên Số {m}") for m in MEMBERS]
            await conn.executemany(
                "INSERT INTO members (user_ref, unit_id, full_name, membership, registered_at)"
                " VALUES (?, ?, ?, 'doan', ?)",
                [(str(ref), branch.id, name, now) for ref, name in people],
            )
            await conn.execute(
                "INSERT INTO roles (member_id, unit_id, role, granted_at)"
                " SELECT id, ?, 'leader', ? FROM members WHERE user_ref = ?",
                (branch.id, now, str(LEADER)),
            )


async def test_sigkill_in_the_middle_of_a_fanout(api: FakeBotApi, tmp_path: Path):
    db_path = tmp_path / "data" / "bot.db"
    await _seed(db_path)
    process = BotProcess(api, tmp_path, db_path)
    await process.start()
    try:
        leader = TgUser(id=LEADER, first_name="Hùng")
        api.inject_message(leader, "/nhacnho")
        reply = await api.wait_for_message(LEADER, 1, seconds=START_SECONDS)
        assert reply.text == texts.nudging(len(MEMBERS))

        def nudges() -> list[int]:
            return [
                call.params["chat_id"]
                for call in api.calls_to("sendMessage")
                if call.ok and call.params.get("text") == texts.MANUAL_NUDGE
            ]

        await api.wait_until(lambda: len(nudges()) >= 20, seconds=START_SECONDS, what="20 sent")
        await process.kill()
        before_restart = len(nudges())
        assert before_restart < len(MEMBERS), "the kill came too late to test anything"

        await process.start()
        done = texts.nudged(0, 0, 0).split(":")[0]
        await api.wait_until(
            lambda: any((m.text or "").startswith(done) for m in api.messages(LEADER)),
            seconds=START_SECONDS,
            what="the leader's report",
        )
        await process.terminate()
    finally:
        if process.proc is not None and process.proc.returncode is None:
            await process.kill()

    per_chat = collections.Counter(nudges())
    assert max(per_chat.values()) == 1, "nobody is nudged twice"
    with sqlite3.connect(db_path) as conn:
        statuses = dict(
            conn.execute(
                "SELECT user_ref, status FROM reminder_deliveries WHERE occurrence LIKE 'manual:%'"
            ).fetchall()
        )
    conn.close()
    assert set(statuses) == {str(m) for m in MEMBERS}
    uncertain = {ref for ref, status in statuses.items() if status == "uncertain"}
    # Only a delivery caught mid-request can be uncertain, at most one per concurrent sender.
    assert len(uncertain) <= FanoutPolicy().concurrency
    assert {ref for ref, status in statuses.items() if status not in ("sent", "uncertain")} == set()
    never_arrived = {str(m) for m in MEMBERS} - {str(c) for c in per_chat}
    assert never_arrived <= uncertain, "every certain delivery arrived"
    # And nothing is uncertain that never left: each one reached the API (arrived, or was
    # arriving when the process died). Waiting for the pacer or a 429 is not sending.
    reached = {
        str(call.params["chat_id"])
        for call in api.calls_to("sendMessage")
        if call.params.get("text") == texts.MANUAL_NUDGE
    }
    assert uncertain <= reached, sorted(uncertain - reached)
    report = [m.text for m in api.messages(LEADER) if (m.text or "").startswith(done)]
    sent = sum(1 for s in statuses.values() if s == "sent")
    assert report == [texts.nudged(sent, 0, len(uncertain))]


async def test_sigterm_while_a_long_429_waits_stops_within_10_s(api: FakeBotApi, tmp_path: Path):
    """A 429 with retry_after=40 on every member: SIGTERM still stops the bot within 10 s, and
    every waiting delivery is back to pending (nothing was sent, nothing is uncertain)."""
    db_path = tmp_path / "data" / "bot.db"
    await _seed(db_path)
    for member in MEMBERS:
        api.fail_next("sendMessage", status=429, retry_after=40, chat_id=member)
    process = BotProcess(api, tmp_path, db_path)
    await process.start()
    try:
        api.inject_message(TgUser(id=LEADER, first_name="Hùng"), "/nhacnho")
        await api.wait_for_message(LEADER, 1, seconds=START_SECONDS)

        def refused() -> int:
            return sum(1 for c in api.calls_to("sendMessage") if c.params["chat_id"] != LEADER)

        await api.wait_until(lambda: refused() >= 8, seconds=START_SECONDS, what="8 429s")
        assert process.proc is not None
        started = time.monotonic()
        process.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.proc.wait(), 30)
        took = time.monotonic() - started
    finally:
        if process.proc is not None and process.proc.returncode is None:
            await process.kill()
    assert took < 10, took
    assert process.proc.returncode == 0
    with sqlite3.connect(db_path) as conn:
        statuses = collections.Counter(
            status
            for (status,) in conn.execute(
                "SELECT status FROM reminder_deliveries WHERE occurrence LIKE 'manual:%'"
            )
        )
    conn.close()
    assert statuses == {"pending": len(MEMBERS)}
