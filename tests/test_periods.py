"""Periods typed after /stats and /xuat: only sane years, never a crash further down."""

from __future__ import annotations

from datetime import date

import pytest

from storage.periods import YEAR_MAX, YEAR_MIN, Period, parse_period, period_words, read_period


@pytest.mark.parametrize(
    "typed",
    [
        "0000",  # "Thống kê năm 0", or a ValueError building its dates
        "0001",
        "1999",
        "2101",
        "9999",
        "9999-Q4",  # its last day would be in year 10000
        "9999-H2",
        "0000-Q1",
        "2026-Q5",
        "2026-Q0",
        "2026-H3",
        "2026-H0",
        "2026-",
        "26",
        "",
        "năm nay",
    ],
)
def test_bad_periods_are_refused(typed: str) -> None:
    assert parse_period(typed) is None


@pytest.mark.parametrize(
    ("typed", "period", "first", "last"),
    [
        ("2026", Period(2026), date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-H1", Period(2026, "H1"), date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-h2", Period(2026, "H2"), date(2026, 7, 1), date(2026, 12, 31)),
        ("2026-Q3", Period(2026, "Q3"), date(2026, 7, 1), date(2026, 9, 30)),
        (" 2026-q1 ", Period(2026, "Q1"), date(2026, 1, 1), date(2026, 3, 31)),
        ("2000", Period(2000), date(2000, 1, 1), date(2000, 12, 31)),
        ("2100-Q4", Period(2100, "Q4"), date(2100, 10, 1), date(2100, 12, 31)),
    ],
)
def test_good_periods_parse(typed: str, period: Period, first: date, last: date) -> None:
    parsed = parse_period(typed)
    assert parsed is not None
    assert parsed == period
    assert (parsed.first_day, parsed.last_day) == (first, last)


def test_year_bounds_are_inclusive() -> None:
    assert (YEAR_MIN, YEAR_MAX) == (2000, 2100)
    assert parse_period(str(YEAR_MIN)) == Period(YEAR_MIN)
    assert parse_period(str(YEAR_MAX)) == Period(YEAR_MAX)
    assert parse_period(str(YEAR_MIN - 1)) is None
    assert parse_period(str(YEAR_MAX + 1)) is None


@pytest.mark.parametrize(
    ("typed", "period"),
    [
        ("2026-Q3", Period(2026, "Q3")),
        ("2026", Period(2026)),
        ("năm 2025", Period(2025)),
        ("Q3/2026", Period(2026, "Q3")),
        ("2026Q3", Period(2026, "Q3")),
        ("q3-2026", Period(2026, "Q3")),
        ("2026/q3", Period(2026, "Q3")),
        ("2026.Q3", Period(2026, "Q3")),
        ("H1/2026", Period(2026, "H1")),
        ("h2 2025", Period(2025, "H2")),
        ("quý 3", Period(2027, "Q3")),  # no year: this year's
        ("q3", Period(2027, "Q3")),
        ("QUÝ 3 năm 2026", Period(2026, "Q3")),
        ("quy 1/2026", Period(2026, "Q1")),
        ("năm 2026 quý 4", Period(2026, "Q4")),
    ],
)
def test_common_spellings_are_read(typed: str, period: Period) -> None:
    assert read_period(typed, 2027) == period
    assert parse_period(typed) in (None, period)  # the strict form stays strict


@pytest.mark.parametrize(
    "typed", ["Q5/2026", "quý 5", "h3/2026", "q3/1999", "3/2026", "2026-", "q", "quý", "CD-Q3"]
)
def test_wrong_spellings_are_refused(typed: str) -> None:
    assert read_period(typed, 2026) is None


@pytest.mark.parametrize(
    ("words", "periods", "others"),
    [
        (["Q3/2026", "TD-MAU"], ["Q3/2026"], ["TD-MAU"]),
        (["quý", "3", "khu", "pho", "3"], ["quý 3"], ["khu", "pho", "3"]),
        (["q3", "X-AN-BINH", "2026"], ["q3 2026"], ["X-AN-BINH"]),  # part and year apart
        (["quý", "3", "năm", "2026"], ["quý 3 năm 2026"], []),
        (["2026", "2025"], ["2026", "2025"], []),  # two periods: the caller says so
        (["q5-2026"], ["q5-2026"], []),  # wrong, yet meant as a period
        (["III/2026"], ["III/2026"], []),
        # Unit codes and names stay names: "10/1" is a class, "Quy Nhơn" a city.
        (
            ["CD-AB-THON1", "X-AN-BINH", "TD-MAU", "CD-HL-KP3"],
            [],
            ["CD-AB-THON1", "X-AN-BINH", "TD-MAU", "CD-HL-KP3"],
        ),
        (["10/1", "quy", "nhon", "q5", "20"], [], ["10/1", "quy", "nhon", "q5", "20"]),
        (["viet", "nam", "2026"], ["2026"], ["viet", "nam"]),
    ],
)
def test_the_words_meant_as_a_period(
    words: list[str], periods: list[str], others: list[str]
) -> None:
    assert period_words(words) == (periods, others)
