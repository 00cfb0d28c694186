"""Campaign periods (year, H1/H2, Q1–Q4) in local time, and the share of the target expected."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_PERIOD = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]))?$", re.IGNORECASE)
# The spellings people type for a period, read after casefold and NFC, spaces single:
# "2026-Q3", "2026q3", "2026/Q3", "2026 quý 3", "năm 2026 quý 3"; "Q3/2026", "q3-2026",
# "quý 3 năm 2026", "H1/2026"; "q3", "quý 3" (the year given apart, or else this year).
_PART = r"(?P<kind>h|q|quý|quy)\s?[-.]?\s?(?P<n>\d+)"
_YEAR = r"(?:năm )?(?P<year>\d{4})"
_TYPED = (
    re.compile(rf"^{_YEAR}(?:(?: |\s?[-/.]\s?)?{_PART})?$"),
    re.compile(rf"^{_PART}(?:(?: |\s?[-/.]\s?){_YEAR})?$"),
)
# One word meant as a period: four digits first, "q3", "q5-2026", "quý3", "/" before a year
# ("III/2026"). Unit codes (letters, digits, ".", "_", "-") never hold "/", and start with
# four digits or read "Q1"…"H4" only if a unit were named so on purpose; a class named
# "10/1" in a unit's name has no year after its "/".
_TRY = re.compile(r"^(?:\d{4}|(?:h|q|quý|quy)(?:[1-4]|\d\d?[-/.]?\d{4})$|\S*/\d{4})")
_SEASON_WORDS = {"quý", "quy"}  # "quý 3": two words, one period
_YEAR_ONLY = re.compile(r"^(?:năm )?\d{4}$")
_PART_ONLY = re.compile(rf"^{_PART}$")
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


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text.casefold()).split())


def read_period(text: str, this_year: int) -> Period | None:
    """A period as people type it (see _TYPED); a quarter or half without a year is this
    year's. None when it names no period that exists."""
    for pattern in _TYPED:
        match = pattern.match(_normal(text))
        if match:
            break
    else:
        return None
    year = int(match["year"]) if match["year"] else this_year
    if not match["kind"]:
        return parse_period(str(year))
    kind = "H" if match["kind"] == "h" else "Q"
    return parse_period(f"{year}-{kind}{match['n']}")


def period_words(words: Iterable[str]) -> tuple[list[str], list[str]]:
    """Of the words typed after a command, those meant as periods (each as typed, "quý 3"
    and "năm 2026" joined into one; a part and a year typed apart joined when they are the
    only ones: "q3 2026") and the others, in order."""
    given = list(words)
    periods: list[str] = []
    others: list[str] = []
    i = 0
    while i < len(given):
        word, following = _normal(given[i]), given[i + 1] if i + 1 < len(given) else ""
        season = word in _SEASON_WORDS and following[:1].isdigit()  # "quý 3"
        if season or (word == "năm" and re.match(r"\d{4}", following)):
            periods.append(f"{given[i]} {following}")
            i += 2
        elif _TRY.match(word):
            periods.append(given[i])
            i += 1
        else:
            others.append(given[i])
            i += 1
    if len(periods) == 2:
        first, second = (_normal(p) for p in periods)
        if (_YEAR_ONLY.match(first) and _PART_ONLY.match(second)) or (
            _PART_ONLY.match(first) and _YEAR_ONLY.match(second)
        ):
            periods = [" ".join(periods)]
    return periods, others


def quarter_of(day: date) -> Period:
    return Period(day.year, f"Q{(day.month - 1) // 3 + 1}")


def expected_share_on(day: date) -> float:
    """What is due by the end of the current quarter: 25 % in Q1, 50 % in Q2, …"""
    return quarter_of(day).expected_share
