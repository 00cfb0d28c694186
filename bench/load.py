"""Benchmark: many members doing referral journeys at once while an admin exports the whole
tree, through the fake Telegram Bot API, against a synthetic database (bench/gendemo.py).

Each simulated member sends the six steps of a referral journey (/gioithieu, name, birth, "bỏ
qua", Đoàn, ✅), each step after the bot's answer to the previous one; the latency of a step is
from the update being queued to the bot's answer reaching the API. Printed: p50/p99/max latency,
errors, the export's wall time, and peak RSS of this process (bot, fake API and clients).

    .venv/bin/python bench/load.py --members 1000                        # a province
    .venv/bin/python bench/load.py --members 1000 --db national.db       # a gendemo file
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gendemo import generate  # noqa: E402
from bot.app import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import members  # noqa: E402
from storage.conversations import ConversationKey  # noqa: E402
from storage.validation import MemberIn, Org  # noqa: E402
from tests.fakebotapi import FakeBotApi, TgUser  # noqa: E402

TOKEN = "123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz"
ADMIN = 77_000_001
FIRST = 78_000_000
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Hữu", "Thanh", "Quốc", "Kim"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Khoa", "Lan", "Mai", "Nam", "Phúc"]
WAIT = 600.0
LEAF = """SELECT id FROM units u WHERE parent_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_id = u.id) LIMIT 1"""
ROOT_CODE = "SELECT code FROM units WHERE parent_id IS NULL ORDER BY id LIMIT 1"


class Watched(FakeBotApi):
    """The fake Bot API, telling each waiting member the moment the bot's answer arrives (its
    own wait_until wakes every waiter on every call: with a thousand members that would
    measure the harness, not the bot)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.waiting: dict[int, asyncio.Future[float]] = {}

    def _commit(self, message: Any) -> Any:
        committed = super()._commit(message)
        waiter = self.waiting.pop(message.chat_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.perf_counter())
        return committed


async def _step(
    api: Watched, user: TgUser, latencies: list[float], text: str = "", data: str = ""
) -> None:
    answered = asyncio.get_running_loop().create_future()
    api.waiting[user.id] = answered
    started = time.perf_counter()
    if data:
        message = next(m for m in reversed(api.messages(user.id)) if m.buttons())
        label = next(t for row in message.buttons() for t, d in row if d.endswith(data))
        api.inject_callback(user, message.message_id, message.button_data(label))
    else:
        api.inject_message(user, text)
    latencies.append(await asyncio.wait_for(answered, WAIT) - started)


async def journey(api: Watched, n: int, youth: str, latencies: list[float]) -> None:
    user = TgUser(id=FIRST + n, first_name="Đoàn viên")
    for text in ("/gioithieu", youth, "2004", "bỏ qua"):
        await _step(api, user, latencies, text=text)
    await _step(api, user, latencies, data=":doan")
    await _step(api, user, latencies, data=":yes")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--db", type=Path, help="a gendemo database (copied; default: a province)")
    parser.add_argument("--no-export", action="store_true", help="the journeys alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "load.db"
        if args.db:
            shutil.copy(args.db, path)
        else:
            await generate(path, units=1500, members=60_000, referrals=20_000)
        api = Watched(TOKEN)
        await api.start()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=TOKEN,
            telegram_api_base_url=api.api_base_url,
            telegram_file_base_url=api.file_base_url,
            database_path=path,
            admin_ids=[ADMIN],
        )
        runtime = Runtime(settings)
        await runtime.start()
        try:
            db = runtime.deps.db
            async with db.read() as conn:
                async with conn.execute(LEAF) as cur:
                    branch = (await cur.fetchone())[0]
                async with conn.execute(ROOT_CODE) as cur:
                    root = (await cur.fetchone())[0]
            for n in range(args.members):
                name = f"{FAMILY[n % 10]} {MIDDLE[n // 10 % 10]} {GIVEN[n % 12]}"
                key = ConversationKey("telegram", str(FIRST + n), str(FIRST + n))
                data = MemberIn(full_name=name, membership=Org.DOAN)
                await members.register(db, key, branch, data, runtime.deps.clock)
            names = itertools.product(FAMILY, MIDDLE, MIDDLE, GIVEN)
            youths = [" ".join(next(names)) for _ in range(args.members)]
            latencies: list[float] = []
            admin = TgUser(id=ADMIN, first_name="Quản trị")
            export_seconds = None
            started = time.perf_counter()
            if not args.no_export:
                api.inject_message(admin, f"/xuat {root}")
                await asyncio.sleep(1.0)  # the export is under way
            tasks = [journey(api, n, youths[n], latencies) for n in range(args.members)]
            results = await asyncio.gather(*tasks, return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            if not args.no_export:
                await api.wait_until(
                    lambda: any(m.kind == "document" for m in api.messages(ADMIN)),
                    seconds=WAIT,
                    what="the export",
                )
                export_seconds = time.perf_counter() - started
        finally:
            await runtime.stop()
            await api.stop()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"steps answered: {len(latencies)}, journeys failed: {len(errors)}")
    mean = statistics.mean(latencies) * 1000
    print(
        f"latency ms: p50 {p(0.5):.0f}, p99 {p(0.99):.0f}, "
        f"max {latencies[-1] * 1000:.0f}, mean {mean:.0f}"
    )
    if export_seconds is not None:
        print(f"export answered after {export_seconds:.1f} s")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
