"""Benchmark: a reminder fan-out to N leaders against a fake Bot API that enforces 30 msg/s.

Reports messages a second achieved, 429s received (goal: none) and duplicates (must be none),
and, as the baseline measured in the same run, a plain send loop at the same pace without the
ledger, so the ratio shows what exactly-once bookkeeping costs.

    .venv/bin/python bench/fanout.py --leaders 10000
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram.ext import ExtBot  # noqa: E402

from bot.channels import telegram  # noqa: E402
from scheduler.fanout import FanoutPolicy, Pacer, deliver  # noqa: E402
from storage import reminders  # noqa: E402
from storage.clock import SystemClock, to_db  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.fakebotapi import FakeBotApi  # noqa: E402

TOKEN = "123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz"
FIRST_USER = 10_000_000


async def seed(db: Database, leaders: int) -> None:
    """One branch per leader, each leader holding the leader role on it."""
    now = to_db(datetime.now(UTC))
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO units (id, code, name, org) VALUES (1, 'ROOT', 'Tỉnh', 'doan')"
        )
        await conn.executemany(
            "INSERT INTO units (id, code, name, parent_id, org) VALUES (?, ?, ?, 1, 'doan')",
            [(i + 2, f"CD{i}", f"Chi đoàn {i}") for i in range(leaders)],
        )
        await conn.executemany(
            "INSERT INTO members (id, user_ref, unit_id, full_name, membership, registered_at)"
            " VALUES (?, ?, ?, ?, 'doan', ?)",
            [(i + 1, str(FIRST_USER + i), i + 2, f"Bí thư Số {i}", now) for i in range(leaders)],
        )
        await conn.executemany(
            "INSERT INTO roles (member_id, unit_id, role, granted_at) VALUES (?, ?, 'leader', ?)",
            [(i + 1, i + 2, now) for i in range(leaders)],
        )


class BotTransport:
    """The production delivery of one reminder through Telegram (bot.channels.telegram)."""

    def __init__(self, bot: ExtBot[None]) -> None:
        self.bot = bot

    async def send(self, channel: str, user_ref: str, text: str) -> tuple[object, float]:
        return await telegram.deliver(self.bot, user_ref, text)


def make_bot(api: FakeBotApi) -> ExtBot[None]:
    return ExtBot(
        TOKEN,
        base_url=api.api_base_url,
        base_file_url=api.file_base_url,
    )


async def ledger_run(leaders: int, per_second: float, workdir: Path) -> dict[str, float]:
    api = FakeBotApi(TOKEN)
    await api.start()
    api.rate_limit(30)
    try:
        async with Database(workdir / "bench.db") as db:
            await seed(db, leaders)
            clock = SystemClock()
            body = "⏰ Còn 7 ngày hết quý 4/2026. Chi đoàn: kết nạp 0/10 (0%), mốc cuối quý: 100%."
            recipients = [("telegram", str(FIRST_USER + i), body) for i in range(leaders)]
            await reminders.plan(db, "bench", "qwarn", clock.now(), recipients, clock)
            bot = make_bot(api)
            async with bot:
                policy = FanoutPolicy(per_second=per_second)
                started = time.perf_counter()
                counts = await deliver(
                    db, "bench", BotTransport(bot), clock, policy, pacer=Pacer(policy)
                )
                elapsed = time.perf_counter() - started
        sends = [c.params["chat_id"] for c in api.calls_to("sendMessage") if c.ok]
        duplicates = sum(n - 1 for n in collections.Counter(sends).values() if n > 1)
        return {
            "sent": counts.get("sent", 0),
            "seconds": elapsed,
            "rate": counts.get("sent", 0) / elapsed,
            "429s": api.stats.rate_limited,
            "duplicates": duplicates,
            "missing": leaders - len(set(sends)),
        }
    finally:
        await api.stop()


async def baseline_run(messages: int, per_second: float) -> dict[str, float]:
    """The same pacing and transport, without the ledger: the floor to compare against."""
    api = FakeBotApi(TOKEN)
    await api.start()
    api.rate_limit(30)
    try:
        bot = make_bot(api)
        async with bot:
            transport = BotTransport(bot)
            pacer = Pacer(FanoutPolicy(per_second=per_second))
            gate = asyncio.Semaphore(FanoutPolicy().concurrency)

            async def one(i: int) -> None:
                async with gate:
                    await pacer.wait_turn(str(i))
                    await transport.send("telegram", str(FIRST_USER + i), "baseline")

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(messages)))
            elapsed = time.perf_counter() - started
        return {
            "sent": messages,
            "seconds": elapsed,
            "rate": messages / elapsed,
            "429s": api.stats.rate_limited,
        }
    finally:
        await api.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaders", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000, help="messages in the baseline")
    parser.add_argument("--per-second", type=float, default=25.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = await baseline_run(args.baseline, args.per_second)
        run = await ledger_run(args.leaders, args.per_second, Path(tmp))
    print(
        f"baseline (no ledger): {base['sent']} messages in {base['seconds']:.1f} s = "
        f"{base['rate']:.2f}/s, 429s: {base['429s']}"
    )
    print(
        f"fan-out with ledger:  {run['sent']} messages in {run['seconds']:.1f} s = "
        f"{run['rate']:.2f}/s, 429s: {run['429s']}, duplicates: {run['duplicates']}, "
        f"missing: {run['missing']}"
    )
    print(f"ratio fan-out / baseline: {run['rate'] / base['rate']:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
