"""Benchmark: how many updates a second the real bot handles, against a bare PTB echo bot in
the same run, both offline (an HTTP layer that answers at once, no network).

The bot is the production one: bot.channels.telegram's Application, the router and journeys,
a real SQLite file with the durable settings of production (WAL, synchronous=FULL). Updates go
through `Application.process_update` one after another, for: unknown text from a member,
/cuatoi, and every step of a referral journey (/gioithieu, name, birth, "bỏ qua", Đoàn, ✅).

    .venv/bin/python bench/pipeline.py --updates 2000 --journeys 200
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData  # noqa: E402

from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.common import Deps  # noqa: E402
from storage import members, units  # noqa: E402
from storage.clock import SystemClock  # noqa: E402
from storage.conversations import ConversationKey  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.validation import MemberIn, Org  # noqa: E402

TOKEN = "123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz"
BOT = {"id": 123456789, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
FIRST_USER = 50_000_000
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Hữu", "Thanh", "Quốc", "Kim"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Khoa", "Lan", "Mai", "Nam", "Phúc"]


class Offline(BaseRequest):
    """Answers every Bot API call at once; remembers the last buttons shown in each chat."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.buttons: dict[int, list[str]] = {}

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        result: Any = True
        if endpoint == "getMe":
            result = BOT
        elif endpoint in ("sendMessage", "editMessageText"):
            chat = int(params.get("chat_id") or 0)
            markup = params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if markup and "inline_keyboard" in markup:
                self.buttons[chat] = [
                    b["callback_data"] for r in markup["inline_keyboard"] for b in r
                ]
            result = {
                "message_id": next(self.ids),
                "date": 0,
                "chat": {"id": chat, "type": "private"},
                "text": params.get("text", ""),
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _user(uid: int) -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": "Đoàn viên"}


class Updates:
    def __init__(self, bot: Any) -> None:
        self.bot, self.ids = bot, itertools.count(1)

    def text(self, uid: int, text: str) -> Update:
        message: dict[str, Any] = {
            "message_id": next(self.ids),
            "date": 0,
            "chat": {"id": uid, "type": "private"},
            "from": _user(uid),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return Update.de_json({"update_id": next(self.ids), "message": message}, self.bot)

    def press(self, uid: int, data: str) -> Update:
        query = {
            "id": str(next(self.ids)),
            "from": _user(uid),
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": uid, "type": "private"},
                "text": "…",
            },
        }
        return Update.de_json({"update_id": next(self.ids), "callback_query": query}, self.bot)


async def _timed(app: Application, updates: list[Update]) -> float:  # type: ignore[type-arg]
    started = time.perf_counter()
    for update in updates:
        await app.process_update(update)
    return time.perf_counter() - started


async def echo_rate(count: int, pressing: bool = False) -> float:
    """A bare PTB bot: echo every text, answer every button."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("ok")

    request = Offline()
    app = ApplicationBuilder().token(TOKEN).request(request).updater(None).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(answer))
    async with app:
        made = Updates(app.bot)
        updates = [
            made.press(FIRST_USER + i % 50, "x")
            if pressing
            else made.text(FIRST_USER + i % 50, "hi")
            for i in range(count)
        ]
        return count / await _timed(app, updates)


async def bot_rates(workdir: Path, count: int, journeys: int) -> dict[str, float]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        database_path=workdir / "bench.db",
    )
    deps = Deps(Database(settings.database_path), settings, SystemClock())
    request = Offline()
    channel = TelegramChannel(deps, request=request)
    deps.channels = {"telegram": channel}
    await deps.db.open()
    try:
        csv = (ROOT / "data" / "sample_units.csv").read_text(encoding="utf-8")
        await units.import_rows(deps.db, units.parse_csv(csv))
        async with deps.db.read() as conn:
            branch = await units.get_by_code(conn, "CD-AB-THON1")
        assert branch is not None
        people = [FIRST_USER + i for i in range(50)]
        for n, uid in enumerate(people):
            name = f"{FAMILY[n % 10]} {MIDDLE[n // 10 % 10]} {GIVEN[n % 12]}"
            key = ConversationKey("telegram", str(uid), str(uid))
            data = MemberIn(full_name=name, membership=Org.DOAN)
            await members.register(deps.db, key, branch.id, data, deps.clock)
        await channel.app.initialize()
        made = Updates(channel.app.bot)
        rates = {}
        updates = [made.text(people[i % 50], "xin chào") for i in range(count)]
        rates["unknown text"] = count / await _timed(channel.app, updates)
        updates = [made.text(people[i % 50], "/cuatoi") for i in range(count)]
        rates["/cuatoi"] = count / await _timed(channel.app, updates)
        rates["referral step"] = await _journeys(channel.app, made, request, people, journeys)
        await channel.app.shutdown()
        return rates
    finally:
        await deps.db.close()


async def _journeys(
    app: Application,  # type: ignore[type-arg]
    made: Updates,
    request: Offline,
    people: list[int],
    journeys: int,
) -> float:
    names = itertools.product(FAMILY, MIDDLE, MIDDLE, GIVEN)
    steps = 0
    elapsed = 0.0
    for j in range(journeys):
        uid = people[j % len(people)]
        family, middle, second, given = next(names)
        youth = f"{family} {middle} {second} {given}"
        for text in ("/gioithieu", youth, "2004", "bỏ qua"):
            elapsed += await _timed(app, [made.text(uid, text)])
            steps += 1
        for pick in (":doan", ":yes"):
            data = next(d for d in request.buttons[uid] if d.endswith(pick))
            elapsed += await _timed(app, [made.press(uid, data)])
            steps += 1
    return steps / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--journeys", type=int, default=200)
    args = parser.parse_args()
    echo_text = await echo_rate(args.updates)
    echo_press = await echo_rate(args.updates, pressing=True)
    with tempfile.TemporaryDirectory() as tmp:
        rates = await bot_rates(Path(tmp), args.updates, args.journeys)
    print(f"PTB echo (text):   {echo_text:8.0f} updates/s")
    print(f"PTB echo (button): {echo_press:8.0f} updates/s")
    echo_mixed = (4 / echo_text + 2 / echo_press) / 6  # a journey: 4 texts, 2 buttons
    for name, rate in rates.items():
        base = 1 / echo_mixed if name == "referral step" else echo_text
        print(f"motcongmot {name:<14} {rate:8.0f} updates/s  ratio to echo {rate / base:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
