from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.settings import Settings
from storage import counters, units
from storage.clock import ManualClock
from storage.db import Database
from storage.validation import Org
from tests.fakebotapi import FakeBotApi, TgUser
from tests.fakezalo import FakeZaloApi
from tests.harness import (
    TAN_LAP,
    TOKEN,
    ZALO_TOKEN,
    Person,
    RunningBot,
    ZaloPerson,
    appointed,
    make_settings,
    payload_in,
)

SAMPLE_UNITS = Path(__file__).resolve().parent.parent / "data" / "sample_units.csv"
_user_ids = itertools.count(700_001)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi(TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloApi]:
    server = FakeZaloApi(ZALO_TOKEN)
    await server.start()
    yield server
    await server.stop()
    assert server.internal_errors == []


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
async def sample_units(db_path: Path) -> None:
    """The province tree shipped in data/sample_units.csv, loaded the way the CLI loads it."""
    async with Database(db_path) as db:
        await units.import_rows(db, units.parse_csv(SAMPLE_UNITS.read_text(encoding="utf-8")))


ADMIN_ID = 600_001
# Thursday 26 November 2026, 09:00 in Hà Nội: fixed, so ages and periods never drift.
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def settings(api: FakeBotApi, db_path: Path) -> Settings:
    return make_settings(api, db_path, admin_ids=[ADMIN_ID])


@pytest.fixture
async def bot(
    settings: Settings, sample_units: None, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    running = RunningBot(settings, clock)
    await running.start()
    yield running
    await running.stop()
    # process_update swallows handler exceptions: any one of them fails the test.
    assert running.errors == [], running.errors
    # Whatever the test did, the maintained /stats counters equal a recount of the rows.
    async with Database(settings.database_path) as db, db.read() as conn:
        assert await counters.differences(conn) == []


@pytest.fixture
def person(api: FakeBotApi, bot: RunningBot) -> Callable[..., Person]:
    def make(first_name: str = "Lan", user_id: int | None = None, **kwargs: Any) -> Person:
        uid = user_id if user_id is not None else next(_user_ids)
        return Person(api, bot, TgUser(id=uid, first_name=first_name, **kwargs))

    return make


@pytest.fixture(autouse=True)
def _no_token_in_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """Whatever a test does, the bot token never reaches a log record."""
    caplog.set_level(logging.DEBUG)
    yield
    secrets = [TOKEN.split(":", 1)[1], ZALO_TOKEN.split(":", 1)[1]]
    leaked = [r.getMessage() for r in caplog.records if any(s in r.getMessage() for s in secrets)]
    assert not leaked, leaked


_zalo_ids = itertools.count(1)


@pytest.fixture
def zperson(zalo: FakeZaloApi, bot: RunningBot) -> Callable[..., ZaloPerson]:
    """A Zalo user of this test's bot (the test's settings must give the bot a Zalo token)."""

    def make(name: str = "Ted", user_id: str | None = None) -> ZaloPerson:
        return ZaloPerson(zalo, bot, user_id or f"{next(_zalo_ids):020x}", name)

    return make


@pytest.fixture
def admin(person: Callable[..., Person]) -> Person:
    return person("Quản trị", user_id=ADMIN_ID)


@pytest.fixture
async def branch(admin: Person, person: Callable[..., Person]) -> dict[str, Person]:
    """An appointed leader of Chi đoàn thôn Tân Lập and two members who joined by its link."""
    leader = await appointed(admin, person("Hùng"), TAN_LAP, "Nguyễn Văn Hùng")
    invite = payload_in((await leader.send("/moi"))[-1].text)
    people = {"leader": leader, "admin": admin}
    for key, name in (("lan", "Trần Thị Lan"), ("tu", "Mai Văn Tú")):
        p = person(name.split()[-1])
        await p.send(f"/start {invite}")
        await p.send(name)
        await p.press(texts.BTN_MEMBERSHIP[Org.DOAN])
        await p.send(texts.BTN_SKIP)
        people[key] = p
    return people
