"""The reminder calendar: the right local time for every default occurrence, and the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.calendar import Kind, ReminderConfig, due_or_missed, occurrences, upcoming

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def _local(o) -> str:  # type: ignore[no-untyped-def]
    return o.due.astimezone(HANOI).strftime("%Y-%m-%d %H:%M")


def test_default_year() -> None:
    found = [(o.id, _local(o)) for o in occurrences(ReminderConfig(), 2026, HANOI)]
    assert found == [
        ("nudge:2026-Q1", "2026-03-25 08:00"),
        ("qwarn:2026-Q1", "2026-03-25 08:00"),
        ("qres:2026-Q1", "2026-04-01 08:00"),
        ("nudge:2026-Q2", "2026-06-24 08:00"),
        ("qwarn:2026-Q2", "2026-06-24 08:00"),
        ("qres:2026-Q2", "2026-07-01 08:00"),
        ("sum:2026-07-01", "2026-07-01 08:00"),
        ("nudge:2026-Q3", "2026-09-24 08:00"),
        ("qwarn:2026-Q3", "2026-09-24 08:00"),
        ("qres:2026-Q3", "2026-10-01 08:00"),
        ("sum:2026-12-01", "2026-12-01 08:00"),
        ("nudge:2026-Q4", "2026-12-25 08:00"),
        ("qwarn:2026-Q4", "2026-12-25 08:00"),
        ("sum:2026-12-31", "2026-12-31 08:00"),
        ("qres:2026-Q4", "2027-01-01 08:00"),
    ]
    # 08:00 in Hà Nội is 01:00 UTC, all year (no daylight saving time).
    assert {o.due.hour for o in occurrences(ReminderConfig(), 2026, HANOI)} == {1}
    assert all(o.due.tzinfo is UTC for o in occurrences(ReminderConfig(), 2026, HANOI))


def test_periods_and_relevance() -> None:
    by_id = {o.id: o for o in occurrences(ReminderConfig(), 2026, HANOI)}
    warning = by_id["qwarn:2026-Q4"]
    assert warning.kind is Kind.QUARTER_WARNING
    assert warning.period.label() == "2026-Q4"
    # A warning is pointless once its quarter is over.
    assert warning.relevant_until == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    result = by_id["qres:2026-Q4"]
    assert result.relevant_until - result.due == timedelta(days=7)
    assert by_id["sum:2026-07-01"].period.label() == "2026-H1"
    assert by_id["sum:2026-12-31"].period.label() == "2026"


def test_due_or_missed_and_upcoming() -> None:
    config = ReminderConfig()
    just_after = datetime(2026, 12, 25, 1, 0, tzinfo=UTC)
    assert [o.id for o in due_or_missed(config, just_after, HANOI)] == [
        "nudge:2026-Q4",
        "qwarn:2026-Q4",
    ]
    two_days_late = just_after + timedelta(days=2)
    assert [o.id for o in due_or_missed(config, two_days_late, HANOI)] == [
        "nudge:2026-Q4",
        "qwarn:2026-Q4",
    ]
    after_quarter = datetime(2027, 1, 2, 0, 0, tzinfo=UTC)  # 07:00 on 2 January in Hà Nội
    assert [o.id for o in due_or_missed(config, after_quarter, HANOI)] == [
        "sum:2026-12-31",
        "qres:2026-Q4",
    ]
    assert [o.id for o in upcoming(config, just_after, HANOI, 3)] == [
        "sum:2026-12-31",
        "qres:2026-Q4",
        "nudge:2027-Q1",
    ]


def test_a_file_changes_the_calendar(tmp_path: Path) -> None:
    path = tmp_path / "reminders.toml"
    path.write_text(
        """
[quarter_warning]
days_before_end = 10
time = "7:30"

[member_nudge]
enabled = false

[summaries]
dates = ["06-30"]

[delivery]
grace_days = 2
per_second = 20
""",
        encoding="utf-8",
    )
    config = ReminderConfig.load(path)
    found = [(o.id, _local(o)) for o in occurrences(config, 2026, HANOI)]
    assert ("qwarn:2026-Q1", "2026-03-22 07:30") in found
    assert not [f for f in found if f[0].startswith("nudge")]
    assert [f for f in found if f[0].startswith("sum")] == [("sum:2026-06-30", "2026-06-30 08:00")]
    assert config.delivery.per_second == 20


@pytest.mark.parametrize(
    "text",
    [
        '[quarter_warning]\ntime = "25:00"\n',
        "[unknown]\nx = 1\n",
        '[summaries]\ndates = ["02-30"]\n',
    ],
)
def test_a_bad_file_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "reminders.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        ReminderConfig.load(path)


def test_a_leap_day_summary_is_refused(tmp_path: Path) -> None:
    """It would vanish three years in four and take every other reminder with it."""
    path = tmp_path / "reminders.toml"
    path.write_text('[summaries]\ndates = ["02-29"]\n', encoding="utf-8")
    with pytest.raises(ValueError):
        ReminderConfig.load(path)
