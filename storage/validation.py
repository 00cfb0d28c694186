"""What comes in from people: names, phone numbers, birth dates, ages.

Every rejection is a `PydanticCustomError` whose type is a short code; the text catalog
(bot/texts.py) turns the code into the Vietnamese sentence the user sees.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import phonenumbers
from phonenumbers import CountryCodeSource, PhoneNumber, PhoneNumberType
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError


class Org(StrEnum):
    """The organisation a member belongs to or a youth is to join."""

    DOAN = "doan"  # Đoàn TNCS Hồ Chí Minh
    HOI = "hoi"  # Hội LHTN Việt Nam


def invalid(code: str) -> PydanticCustomError:
    return PydanticCustomError(code, code)


def error_code(exc: ValueError) -> str:
    """The code of a rejection, whether raised alone or inside a model's ValidationError."""
    if isinstance(exc, ValidationError):
        return str(exc.errors()[0]["type"])
    return str(getattr(exc, "type", "invalid"))


# --- names -----------------------------------------------------------------------------------

# The combining marks Vietnamese uses: the five tones and the three letter modifiers
# (â ê ô: circumflex, ă: breve, ơ ư: horn). Anything else is not a Vietnamese letter.
_VIETNAMESE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b"}
NAME_MIN, NAME_MAX = 2, 80
REASON_MIN, REASON_MAX = 5, 300  # a decision's reason (declining, reopening), kept in the audit


def normalize_reason(value: str) -> str | None:
    """A reason with its spaces collapsed; None when too short or too long to keep."""
    reason = " ".join(value.split())
    return reason if REASON_MIN <= len(reason) <= REASON_MAX else None


def _is_vietnamese_letter(char: str) -> bool:
    if char in "đĐ":
        return True
    base, *marks = unicodedata.normalize("NFD", char)
    return base.isascii() and base.isalpha() and all(m in _VIETNAMESE_MARKS for m in marks)


def _is_name_word(word: str) -> bool:
    # Ethnic-minority names keep apostrophes and hyphens inside a word: H'Hen Niê, Ksor H'Bia.
    parts = re.split(r"['’-]", word)
    return all(part and all(_is_vietnamese_letter(c) for c in part) for part in parts)


def _capitalise(word: str) -> str:
    """Nguyễn, not NGUYỄN or nguyễn; each part after an apostrophe or a hyphen too (H'Hen)."""
    parts = re.split(r"(['-])", word)
    return "".join(part[:1].upper() + part[1:].lower() for part in parts)


def normalize_name(value: Any) -> str:
    """Collapse spaces, refuse anything that is not a full name (at least two words), and
    return it in the normal Vietnamese capitalisation: Đỗ Thị Kim Chi, H'Hen Niê."""
    if not isinstance(value, str):
        raise invalid("name_invalid")
    text = " ".join(unicodedata.normalize("NFC", value).split())
    text = text.replace("’", "'")
    if len(text) < NAME_MIN:
        raise invalid("name_too_short")
    if len(text) > NAME_MAX:
        raise invalid("name_too_long")
    words = text.split(" ")
    if not all(_is_name_word(word) for word in words):
        raise invalid("name_invalid")
    if len(words) < 2:
        raise invalid("name_one_word")
    return unicodedata.normalize("NFC", " ".join(_capitalise(word) for word in words))


# Old-style and new-style tone placement both occur (Hòa / Hoà, Thủy / Thuỷ):
# the key puts the tone on the first vowel of "oa", "oe", "uy" so both compare equal.
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_GLIDE_PAIRS = re.compile(r"([ou])(a|e|y)([\u0300\u0301\u0303\u0309\u0323])(?![a-zăâêôơư])")


def name_key(full_name: str) -> str:
    """A normal form for duplicate checks: NFC, case-folded, one tone placement."""
    text = unicodedata.normalize("NFD", " ".join(full_name.split()).casefold())
    text = _GLIDE_PAIRS.sub(lambda m: m[1] + m[3] + m[2], text)
    return unicodedata.normalize("NFC", text)


PersonName = Annotated[str, BeforeValidator(normalize_name)]

# The Vietnamese alphabet's order: ă and â after a, đ after d, ê after e, ô ơ after o, ư after u;
# tones only break ties.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_MARKS = {"\u0302", "\u0306", "\u031b"}
_TONE_ORDER = ["", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"]  # ngang huyền hỏi ngã sắc nặng


@lru_cache(maxsize=200_000)  # unit names repeat on every /stats; normalising is the cost
def sort_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Order names as a Vietnamese reader expects, case-insensitively."""
    primary: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFC", text.casefold()):
        base, *marks = unicodedata.normalize("NFD", char)
        letter = unicodedata.normalize(
            "NFC", base + "".join(m for m in marks if m in _LETTER_MARKS)
        )
        tone = next((m for m in marks if m in _TONE_ORDER), "")
        rank = _ALPHABET.find(letter)
        primary.append(1000 + rank if rank >= 0 else ord(letter))
        tones.append(_TONE_ORDER.index(tone))
    return tuple(primary), tuple(tones)


def person_sort_key(full_name: str) -> tuple[object, ...]:
    """Vietnamese lists order people by given name (the last word), then the rest."""
    words = full_name.split()
    return (sort_key(words[-1] if words else ""), sort_key(full_name))


# --- phone numbers ---------------------------------------------------------------------------

# Which numbers are mobile, and which prefixes a carrier really has, is phonenumbers' metadata
# (050, 071, 080… match the shape of a mobile number but reach no one).
_VN_REGION, _VN_CODE = "VN", 84
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# E.164 numbers have at most 15 digits; with "00" or "+" in front, 17 characters at most.
_PHONE_MAX = 17


def _phone_text(value: Any) -> str:
    """The typed number without separators: "+" and ASCII digits only, else phone_invalid."""
    if not isinstance(value, str):
        raise invalid("phone_invalid")
    # NFKC: full-width digits, plus and hyphen from CJK keyboards become ASCII.
    text = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    # ASCII digits only: phonenumbers would read letters as a keypad's (0912 345 67a) and
    # accept extensions ("ext 12"), neither of which is a number we can call back.
    if len(text) > _PHONE_MAX or not re.fullmatch(r"\+?[0-9]+", text):
        raise invalid("phone_invalid")
    return text


def _parse_phone(text: str) -> PhoneNumber:
    try:
        number = phonenumbers.parse(text, _VN_REGION, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        raise invalid("phone_invalid") from None
    # Without "+", "00" or "84" a number must start with its 0: "912345678" is a digit short
    # of what was meant, and phonenumbers would take it as complete.
    national = number.country_code_source == CountryCodeSource.FROM_DEFAULT_COUNTRY
    if national and not text.startswith("0"):
        raise invalid("phone_invalid")
    return number


def normalize_phone(value: Any) -> str:
    """Accept 0912 345 678, +84912345678, 0084 912 345 678, ０９１２…; return 0912345678."""
    text = _phone_text(value)
    # Any "+" but +84 is another country's, even one phonenumbers does not know (+999).
    if text.startswith("+") and not text.startswith(f"+{_VN_CODE}"):
        raise invalid("phone_not_vietnamese")
    number = _parse_phone(text)
    if number.country_code != _VN_CODE:  # dialled with 00, the international prefix
        raise invalid("phone_not_vietnamese")
    if not phonenumbers.is_valid_number(number) or (
        phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise invalid("phone_invalid")
    # The national form without spaces, as stored since the first version: 0 + 9 digits.
    return "0" + phonenumbers.national_significant_number(number)


def mask_phone(phone: str) -> str:
    """091****678: enough for a leader to recognise, not enough to call a stranger."""
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]


VnPhone = Annotated[str, BeforeValidator(normalize_phone)]


# --- birth dates and ages --------------------------------------------------------------------


@dataclass(frozen=True)
class Birth:
    """A birth date, or only the year when that is all the member knows."""

    year: int
    day: date | None = None

    def age_bounds(self, today: date) -> tuple[int, int]:
        """The youngest and oldest age the youth can be today."""
        if self.day is not None:
            had_birthday = (today.month, today.day) >= (self.day.month, self.day.day)
            age = today.year - self.day.year - (0 if had_birthday else 1)
            return age, age
        reached = today.year - self.year  # the age they reach this year
        return max(reached - 1, 0), reached

    def display(self) -> str:
        return self.day.strftime("%d/%m/%Y") if self.day else str(self.year)

    def to_json(self) -> str:
        return self.day.isoformat() if self.day else str(self.year)

    @classmethod
    def from_json(cls, text: str) -> Birth:
        if len(text) == 4:
            return cls(int(text))
        day = date.fromisoformat(text)
        return cls(day.year, day)


_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})$")
_YEAR = re.compile(r"^\d{4}$")
OLDEST_YEAR = 1900


def parse_day(text: str, *, short_year: bool = True) -> date:
    """d/m/yyyy or dd/mm/yyyy (also with - or .), and d/m/yy for 20yy when `short_year` (an
    admission typed as 27/11/26); raises date_format or date_invalid."""
    match = _DATE.match(text.strip())
    if not match or (len(match[3]) == 2 and not short_year):
        raise invalid("date_format")
    year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
    try:
        return date(year, int(match[2]), int(match[1]))
    except ValueError:
        raise invalid("date_invalid") from None


def parse_birth(text: str, today: date) -> Birth:
    """dd/mm/yyyy, d/m/yyyy (also with - or .), or a bare year; never in the future."""
    text = text.strip()
    if _YEAR.match(text):
        year = int(text)
        if year > today.year:
            raise invalid("birth_in_future")
        if year < OLDEST_YEAR:
            raise invalid("birth_invalid")
        return Birth(year)
    try:
        day = parse_day(text, short_year=False)  # 5/3/08: 1908 or 2008? ask for four digits
    except ValueError as exc:
        code = "birth_format" if error_code(exc) == "date_format" else "birth_invalid"
        raise invalid(code) from None
    if day > today:
        raise invalid("birth_in_future")
    if day.year < OLDEST_YEAR:
        raise invalid("birth_invalid")
    return Birth(day.year, day)


@dataclass(frozen=True)
class AgeRange:
    low: int
    high: int

    def admits(self, birth: Birth, today: date) -> bool:
        youngest, oldest = birth.age_bounds(today)
        return oldest >= self.low and youngest <= self.high


@dataclass(frozen=True)
class AgePolicy:
    """Who may be admitted where; both ranges come from the settings."""

    ranges: dict[Org, AgeRange]
    child_below: int = 16  # under 16 a youth is a child under the personal-data law

    def admits(self, org: Org, birth: Birth, today: date) -> bool:
        return self.ranges[org].admits(birth, today)

    def admits_any(self, birth: Birth, today: date) -> bool:
        return any(self.admits(org, birth, today) for org in self.ranges)

    def may_be_child(self, birth: Birth, today: date) -> bool:
        return birth.age_bounds(today)[0] < self.child_below


# --- what a conversation hands to storage ----------------------------------------------------


class MemberIn(BaseModel):
    model_config = ConfigDict(frozen=True)

    full_name: PersonName
    membership: Org
    phone: VnPhone | None = None


class ReferralIn(BaseModel):
    """A referred youth, validated as a whole; context: {"today": date, "ages": AgePolicy}."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    full_name: PersonName
    birth: Birth
    phone: VnPhone | None = None
    org: Org
    guardian_consent: bool = False

    @model_validator(mode="after")
    def _check_age(self, info: ValidationInfo) -> ReferralIn:
        context = info.context or {}
        today: date | None = context.get("today")
        ages: AgePolicy | None = context.get("ages")
        if today is None or ages is None:
            raise ValueError("ReferralIn needs today and ages in the validation context")
        if not ages.admits(self.org, self.birth, today):
            raise invalid("age_out_of_range")
        if ages.may_be_child(self.birth, today) and not self.guardian_consent:
            raise invalid("guardian_needed")
        return self
