"""Campaign periods (year, H1/H2, Q1–Q4) in local time, and the share of the target expected."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_PERIOD = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]))?$", re.IGNORECASE)
# A campaign year people may type: "0000" or "9999-Q4" would give nonsense figures or a
# ValueError building the period's dates (year 0, year 10000).
YEAR_MIN, YEAR_MAX = 2000, 2100


@dataclass(frozen=True)
class Period:
    year: int
    part: str = ""  # "", "H1", "H2", "Q1" … "Q4"

    @property
    def months(self) -> tuple[int, int]:
        """First and last month, inclusive."""
        if not self.part:
            return 1, 12
        n = int(self.part[1])
        size = 6 if self.part[0] == "H" else 3
        return (n - 1) * size + 1, n * size

    @property
    def first_day(self) -> date:
        return date(self.year, self.months[0], 1)

    @property
    def last_day(self) -> date:
        last = self.months[1]
        following = date(self.year + 1, 1, 1) if last == 12 else date(self.year, last + 1, 1)
        return date.fromordinal(following.toordinal() - 1)

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the local period."""
        start = datetime.combine(self.first_day, datetime.min.time(), tz)
        end_day = date.fromordinal(self.last_day.toordinal() + 1)
        end = datetime.combine(end_day, datetime.min.time(), tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    @property
    def expected_share(self) -> float:
        """The share of the year's target due by the period's end: 25 % a quarter."""
        return self.months[1] / 12

    def label(self) -> str:
        return f"{self.year}-{self.part}" if self.part else str(self.year)


def parse_period(text: str) -> Period | None:
    match = _PERIOD.match(text.strip())
    if not match:
        return None
    year = int(match[1])
    if not YEAR_MIN <= year <= YEAR_MAX:
        return None
    return Period(year, (match[2] or "").upper())


def quarter_of(day: date) -> Period:
    return Period(day.year, f"Q{(day.month - 1) // 3 + 1}")


def expected_share_on(day: date) -> float:
    """What is due by the end of the current quarter: 25 % in Q1, 50 % in Q2, …"""
    return quarter_of(day).expected_share
