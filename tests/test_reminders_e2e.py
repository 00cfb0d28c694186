"""Scheduled reminders through the real Application, the real scheduler and the fake Bot API.

The clock is a ManualClock: nothing sleeps until a date; the bot is restarted at the moments
that matter, as it would be after being down.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import texts
from scheduler import jobs
from scheduler.calendar import ReminderConfig
from scheduler.fanout import Outcome
from storage import reminders
from storage.clock import ManualClock
from storage.db import Database
from storage.validation import Org
from tests.fakebotapi import FakeBotApi
from tests.harness import Person, RunningBot, refer, rows

# 08:00 on 25 December 2026 in Hà Nội: a week before Q4 ends.
Q4_WARNING = datetime(2026, 12, 25, 1, 0, tzinfo=UTC)


async def restart_at(bot: RunningBot, clock: ManualClock, moment: datetime) -> None:
    await bot.stop()
    clock.set(moment)
    await bot.start()
    await bot.idle()


def texts_to(p: Person) -> list[str]:
    return [m.text or "" for m in p.inbox()]


@pytest.fixture
async def branch_with_history(
    bot: RunningBot, branch: dict[str, Person], clock: ManualClock
) -> dict[str, Person]:
    """Lan has met 1+1, Tú has not; one referral waits for the leader."""
    leader, lan, tu = branch["leader"], branch["lan"], branch["tu"]
    await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)
    await refer(tu, "Đỗ Minh Châu", "2006", None, Org.DOAN)
    await leader.send("/duyet")
    await leader.press(texts.BTN_ADMIT)
    await leader.press(texts.BTN_TODAY)
    return branch


async def test_quarter_warning_reaches_leaders_and_nudges_members_once(
    api: FakeBotApi, bot: RunningBot, clock: ManualClock, branch_with_history: dict[str, Person]
):
    leader, lan, tu = (branch_with_history[k] for k in ("leader", "lan", "tu"))
    before = {p.user.id: len(p.inbox()) for p in (leader, lan, tu)}
    await restart_at(bot, clock, Q4_WARNING)

    warning = texts.quarter_warning(
        "2026-Q4", 7, "Chi đoàn thôn Tân Lập", 1, 3, 1.0, ["Hùng", "Tú"], 2, 1, 0
    )
    # Both go out at 08:00, in either order, at least a second apart (one chat).
    assert sorted(texts_to(leader)[before[leader.user.id] :]) == sorted(
        [warning, texts.MEMBER_NUDGE]
    )
    to_leader = [c for c in api.calls_to("sendMessage") if c.params["chat_id"] == leader.user.id]
    assert to_leader[-1].at - to_leader[-2].at >= 0.95
    assert texts_to(tu)[before[tu.user.id] :] == [texts.MEMBER_NUDGE]
    assert texts_to(lan)[before[lan.user.id] :] == [], "Lan met 1+1: no nudge"

    ledger = await rows(bot, "SELECT occurrence, status FROM reminder_deliveries ORDER BY 1")
    assert sorted((r["occurrence"], r["status"]) for r in ledger) == [
        ("nudge:2026-Q4", "sent"),
        ("nudge:2026-Q4", "sent"),
        ("qwarn:2026-Q4", "sent"),
    ]
    assert await rows(bot, "SELECT body FROM reminder_deliveries WHERE body IS NOT NULL") == []

    # Restarts, a second firing of the job, the next day: nothing is sent twice.
    sent = len(api.calls_to("sendMessage"))
    await restart_at(bot, clock, Q4_WARNING + timedelta(hours=3))
    machinery = bot.reminders
    occurrence = machinery.occurrence("qwarn:2026-Q4")
    assert occurrence is not None
    await asyncio.gather(machinery.run(occurrence), machinery.run(occurrence))
    await bot.idle()
    assert len(api.calls_to("sendMessage")) == sent


async def test_a_reminder_missed_while_down_goes_out_late_once(
    api: FakeBotApi,
    bot: RunningBot,
    clock: ManualClock,
    branch_with_history: dict[str, Person],
    caplog: pytest.LogCaptureFixture,
):
    leader = branch_with_history["leader"]
    caplog.set_level(logging.INFO)
    await restart_at(bot, clock, Q4_WARNING + timedelta(days=3))
    late = [r.getMessage() for r in caplog.records if "is late" in r.getMessage()]
    assert sorted(m.split()[1] for m in late) == ["nudge:2026-Q4", "qwarn:2026-Q4"]
    runs = await rows(bot, "SELECT occurrence, late FROM reminder_runs ORDER BY occurrence")
    assert runs == [
        {"occurrence": "nudge:2026-Q4", "late": 1},
        {"occurrence": "qwarn:2026-Q4", "late": 1},
    ]
    # Three days late, it says how many days are really left.
    assert sum("Còn 4 ngày hết quý 4/2026" in t for t in texts_to(leader)) == 1

    # Once the quarter is over, a missed warning is no longer worth sending.
    await bot.stop()
    await rows_exec(bot, "DELETE FROM reminder_runs")  # pretend it never ran
    clock.set(datetime(2027, 1, 1, 1, 0, tzinfo=UTC))
    await bot.start()
    await bot.idle()
    runs = await rows(bot, "SELECT occurrence FROM reminder_runs ORDER BY occurrence")
    assert [r["occurrence"] for r in runs] == ["qres:2026-Q4", "sum:2026-12-31"]
    # The quarter's result: 1 admitted in Q4, 1 in the year, against 3 (one per member).
    result = texts.quarter_result("2026-Q4", "Chi đoàn thôn Tân Lập", 1, 1, 3, 1.0)
    assert result in texts_to(leader)


async def rows_exec(bot: RunningBot, sql: str) -> None:
    from storage.db import Database

    async with Database(bot.settings.database_path) as db, db.write() as conn:
        await conn.execute(sql)


async def test_jobs_are_registered_with_ids_at_the_right_time(bot: RunningBot):
    await bot.idle()
    jobs = {job.name: job for job in bot.runtime.scheduler.get_jobs()}
    assert jobs["qwarn:2026-Q4"].next_run_time == datetime(2026, 12, 25, 1, 0, tzinfo=UTC)
    assert jobs["sum:2026-12-01"].next_run_time == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert jobs["qres:2026-Q4"].next_run_time == datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    assert "reschedule" in jobs
    assert jobs["qwarn:2026-Q4"].id == "qwarn:2026-Q4"


async def test_summary_lists_child_units_weakest_first(
    bot: RunningBot, clock: ManualClock, branch_with_history: dict[str, Person], admin: Person
):
    await restart_at(bot, clock, datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    tinh, hoi = admin.last_text.split("\n\n")
    assert tinh.splitlines()[0] == "📋 Nhắc việc cuối năm 2026 – Tỉnh đoàn Mẫu (yếu trước):"
    assert hoi.splitlines() == [
        "📋 Nhắc việc cuối năm 2026 – Hội LHTN Việt Nam tỉnh Mẫu (yếu trước):",
        "1. Hội LHTN xã An Bình: 0/0 (–)",
    ]
    assert tinh.splitlines()[1:] == [
        "1. Đoàn phường Hòa Lạc: 0/0 (–)",
        "2. Đoàn trường THPT Nguyễn Thị Minh Khai: 0/0 (–)",
        "3. Đoàn xã An Bình: 1/3 (33%)",
    ]


async def test_blocked_rate_limited_and_failing_chats(
    api: FakeBotApi, bot: RunningBot, clock: ManualClock, branch_with_history: dict[str, Person]
):
    leader, tu = branch_with_history["leader"], branch_with_history["tu"]
    api.block(tu.user.id)  # Tú blocked the bot: 403
    api.fail_next("sendMessage", status=429, retry_after=1, chat_id=leader.user.id)
    api.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=leader.user.id)
    await restart_at(bot, clock, Q4_WARNING)
    got = await rows(
        bot, "SELECT occurrence, user_ref, status FROM reminder_deliveries ORDER BY 1, 2"
    )
    statuses = {(r["occurrence"], r["user_ref"]): r["status"] for r in got}
    assert statuses[("nudge:2026-Q4", str(tu.user.id))] == "unreachable"
    assert statuses[("qwarn:2026-Q4", str(leader.user.id))] == "sent"
    assert statuses[("nudge:2026-Q4", str(leader.user.id))] == "sent"
    unreachable = await rows(bot, "SELECT full_name FROM members WHERE unreachable_at IS NOT NULL")
    assert unreachable == [{"full_name": "Mai Văn Tú"}]
    assert api.stats.rate_limited + api.stats.injected_failures >= 2

    # The next fan-out does not wait on Tú, and the leader hears how many were not reached.
    await restart_at(bot, clock, datetime(2027, 1, 1, 1, 0, tzinfo=UTC))
    result = await rows(
        bot, "SELECT user_ref FROM reminder_deliveries WHERE occurrence = 'qres:2026-Q4'"
    )
    assert [r["user_ref"] for r in result] == [str(leader.user.id)]
    # Tú writes again: reachable again.
    api.unblock(tu.user.id)
    await tu.send("/help")
    assert await rows(bot, "SELECT 1 FROM members WHERE unreachable_at IS NOT NULL") == []


async def test_warning_counts_unreachable_members(
    api: FakeBotApi, bot: RunningBot, clock: ManualClock, branch_with_history: dict[str, Person]
):
    leader, tu = branch_with_history["leader"], branch_with_history["tu"]
    await rows_exec(bot, f"UPDATE members SET unreachable_at = 'x' WHERE user_ref = '{tu.user.id}'")
    await restart_at(bot, clock, Q4_WARNING)
    warning = next(t for t in texts_to(leader) if t.startswith("⏰"))
    assert warning.endswith("Không nhắn được: 1 đồng chí (đã chặn bot)")
    nudged = await rows(
        bot, "SELECT user_ref FROM reminder_deliveries WHERE occurrence LIKE 'nudge%'"
    )
    assert str(tu.user.id) not in [r["user_ref"] for r in nudged]


async def test_leader_nudges_now_once_a_day(
    bot: RunningBot, clock: ManualClock, branch_with_history: dict[str, Person]
):
    leader, lan, tu = (branch_with_history[k] for k in ("leader", "lan", "tu"))
    replies = await leader.send("/nhacnho")
    assert replies[-1].text == texts.nudging(1)
    await bot.idle()
    assert tu.last_text == texts.MANUAL_NUDGE
    assert texts.MANUAL_NUDGE not in texts_to(lan)
    assert leader.last_text == texts.nudged(1, 0, 0)
    assert (await leader.send("/nhacnho"))[-1].text == texts.ALREADY_NUDGED_TODAY
    clock.advance(timedelta(days=1))
    assert (await leader.send("/nhacnho"))[-1].text == texts.nudging(1)
    await bot.idle()
    assert texts_to(tu).count(texts.MANUAL_NUDGE) == 2
    # Members cannot nudge.
    assert (await tu.send("/nhacnho"))[-1].text == texts.NOT_A_LEADER


async def test_schedule_shows_next_and_last(
    bot: RunningBot, clock: ManualClock, branch_with_history: dict[str, Person]
):
    leader = branch_with_history["leader"]
    await restart_at(bot, clock, Q4_WARNING)
    text = (await leader.send("/lichnhac"))[-1].text
    lines = text.splitlines()
    assert lines[0] == "🗓 Lịch nhắc sắp tới:"
    assert lines[1] == texts.schedule_next("sum", "31/12/2026 08:00")
    assert lines[2] == texts.schedule_next("qres", "01/01/2027 08:00")
    assert texts.schedule_last("qwarn", "25/12/2026 08:00", 1, 0, False) in lines
    assert (await branch_with_history["tu"].send("/lichnhac"))[-1].text == texts.NOT_A_LEADER


def test_a_long_reminder_is_cut_to_fit_telegram() -> None:
    from scheduler.compose import MESSAGE_LIMIT, fit

    parts = [f"Chi đoàn {i}\n" + "x" * 300 for i in range(30)]
    text = fit(parts)
    assert len(text) <= 4096
    assert len(text) <= MESSAGE_LIMIT + len(texts.more_units(30))
    kept = text.count("Chi đoàn ")
    assert text.endswith(texts.more_units(30 - kept))
    assert fit(parts[:3]) == "\n\n".join(parts[:3])


async def test_an_api_refusal_the_transport_does_not_know_is_retried(
    api: FakeBotApi, bot: RunningBot, clock: ManualClock, branch_with_history: dict[str, Person]
):
    tu = branch_with_history["tu"]
    api.fail_next("sendMessage", status=401, description="Unauthorized", chat_id=tu.user.id)
    await restart_at(bot, clock, Q4_WARNING)
    assert texts_to(tu).count(texts.MEMBER_NUDGE) == 1
    unfinished = await rows(bot, "SELECT occurrence FROM reminder_runs WHERE finished_at IS NULL")
    assert unfinished == []


class _Flaky:
    """A channel whose first send raises something nobody expected (a stand-in for Zalo)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.failed = False

    async def send(self, channel: str, user_ref: str, text: str) -> tuple[Outcome, float]:
        if not self.failed:
            self.failed = True
            raise RuntimeError("boom")
        self.sent.append(user_ref)
        return Outcome.SENT, 0.0


async def test_a_fan_out_stopped_by_an_unexpected_error_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    clock = ManualClock(Q4_WARNING)
    async with Database(tmp_path / "bot.db") as db:
        recipients = [("telegram", str(n), "nhắc") for n in (1, 2, 3)]
        await reminders.plan(db, "manual:1:x", "manual", clock.now(), recipients, clock)
        transport = _Flaky()
        machinery = jobs.Reminders(db, clock, ReminderConfig(), None, transport)
        machinery.resume_after = 0.01
        machinery.started.set()
        machinery.spawn("manual:1:x")
        await asyncio.wait_for(machinery.idle(), 10)
        counts = await reminders.counts(db, "manual:1:x")
    assert any("interrupted" in r.getMessage() for r in caplog.records)
    # The one caught mid-send is never resent; the others go out after the restart of the task.
    assert counts == {"uncertain": 1, "sent": 2}
    assert sorted(transport.sent) == ["2", "3"]


async def test_a_member_gets_one_manual_nudge_a_day_whoever_asks(
    bot: RunningBot, branch: dict[str, Person]
):
    leader, admin, lan, tu = (branch[k] for k in ("leader", "admin", "lan", "tu"))
    assert (await leader.send("/nhacnho"))[-1].text == texts.nudging(2)  # Lan and Tú
    await bot.idle()
    # The province admin nudges the whole province the same day: Hùng (the leader) is nudged,
    # Lan and Tú were already and are not nudged again.
    await admin.send("/nhacnho")
    await admin.press("Tỉnh đoàn Mẫu")
    replies = await admin.press(texts.BTN_CHOOSE_HERE)
    assert replies[-1].text == texts.nudging(1, 2)
    await bot.idle()
    assert texts_to(lan).count(texts.MANUAL_NUDGE) == 1
    assert texts_to(tu).count(texts.MANUAL_NUDGE) == 1
    assert texts_to(leader).count(texts.MANUAL_NUDGE) == 1
