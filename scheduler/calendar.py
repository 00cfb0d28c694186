"""The reminder calendar: which reminders fall when, in local time, from defaults or a file.

The defaults follow the campaign's rhythm: branches report quarterly, higher levels every six
months and at year end. REMINDERS_FILE (TOML) may change any of it without code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storage.periods import Period


class Kind(StrEnum):
    QUARTER_WARNING = "qwarn"  # leaders: a week before the quarter ends
    QUARTER_RESULT = "qres"  # leaders: the day after it ended
    SUMMARY = "sum"  # admins and leaders of units with children: child units, weakest first
    NUDGE = "nudge"  # members who have not met 1+1


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    time: str = "08:00"

    @field_validator("time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError("time must be HH:MM")
        return f"{int(hours):02d}:{int(minutes):02d}"

    @property
    def at(self) -> time:
        hours, minutes = self.time.split(":")
        return time(int(hours), int(minutes))


class QuarterWarning(_Part):
    days_before_end: int = Field(7, ge=1, le=60)


class Summaries(_Part):
    # MM-DD: after H1, the 1 December warning, the 31 December closing.
    dates: list[str] = ["07-01", "12-01", "12-31"]

    @field_validator("dates")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        for item in value:
            month, _, day = item.partition("-")
            date(2023, int(month), int(day))  # a common year: 02-29 would vanish 3 years in 4
        return value


class ChannelPace(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_second: float = Field(5, gt=0, le=30)


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_days: int = Field(7, ge=0, le=90)  # how late a missed reminder may still go out
    per_second: float = Field(25, gt=0, le=30)  # Telegram allows about 30 a second in bulk
    # Zalo publishes no rate; its quota is per month. [delivery.zalo] per_second = …
    zalo: ChannelPace = ChannelPace()

    def rates(self) -> dict[str, float]:
        return {"telegram": self.per_second, "zalo": self.zalo.per_second}


class ReminderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quarter_warning: QuarterWarning = QuarterWarning()
    quarter_result: _Part = _Part()
    summaries: Summaries = Summaries()
    member_nudge: _Part = _Part()
    delivery: Delivery = Delivery()

    @classmethod
    def load(cls, path: Path | None) -> ReminderConfig:
        if path is None:
            return cls()
        with path.open("rb") as handle:
            return cls.model_validate(tomllib.load(handle))


@dataclass(frozen=True)
class Occurrence:
    id: str  # unique and stable: the ledger and the job id
    kind: Kind
    due: datetime  # UTC
    period: Period  # what the figures are about
    relevant_until: datetime  # UTC; after this a missed reminder is not sent any more
    label: str  # e.g. "2026-Q4", "2026-12-01"


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tz).astimezone(UTC)


def occurrences(config: ReminderConfig, year: int, tz: ZoneInfo) -> list[Occurrence]:
    """Every reminder of one calendar year, in time order."""
    grace = timedelta(days=config.delivery.grace_days)
    found: list[Occurrence] = []
    for q in range(1, 5):
        quarter = Period(year, f"Q{q}")
        ends = _at(quarter.last_day + timedelta(days=1), time(0), tz)
        warn_day = quarter.last_day - timedelta(days=config.quarter_warning.days_before_end - 1)
        label = quarter.label()
        if config.quarter_warning.enabled:
            due = _at(warn_day, config.quarter_warning.at, tz)
            found.append(
                Occurrence(f"qwarn:{label}", Kind.QUARTER_WARNING, due, quarter, ends, label)
            )
        if config.member_nudge.enabled:
            due = _at(warn_day, config.member_nudge.at, tz)
            found.append(Occurrence(f"nudge:{label}", Kind.NUDGE, due, quarter, ends, label))
        if config.quarter_result.enabled:
            due = _at(quarter.last_day + timedelta(days=1), config.quarter_result.at, tz)
            found.append(
                Occurrence(f"qres:{label}", Kind.QUARTER_RESULT, due, quarter, due + grace, label)
            )
    if config.summaries.enabled:
        for item in config.summaries.dates:
            month, _, day = item.partition("-")
            when = date(year, int(month), int(day))
            period = (
                Period(year, "H1") if when.month <= 7 and when < date(year, 8, 1) else Period(year)
            )
            due = _at(when, config.summaries.at, tz)
            label = when.isoformat()
            found.append(Occurrence(f"sum:{label}", Kind.SUMMARY, due, period, due + grace, label))
    return sorted(found, key=lambda o: (o.due, o.id))


def upcoming(config: ReminderConfig, now: datetime, tz: ZoneInfo, count: int) -> list[Occurrence]:
    local_year = now.astimezone(tz).year
    both = occurrences(config, local_year, tz) + occurrences(config, local_year + 1, tz)
    return [o for o in both if o.due > now][:count]


def due_or_missed(config: ReminderConfig, now: datetime, tz: ZoneInfo) -> list[Occurrence]:
    """Occurrences whose time has come and that are still worth sending."""
    local_year = now.astimezone(tz).year
    both = occurrences(config, local_year - 1, tz) + occurrences(config, local_year, tz)
    return [o for o in both if o.due <= now < o.relevant_until]
