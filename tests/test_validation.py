"""What people type: names, phone numbers, birth dates and ages, checked with real inputs."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from storage.validation import (
    AgePolicy,
    AgeRange,
    Birth,
    MemberIn,
    Org,
    ReferralIn,
    error_code,
    mask_phone,
    name_key,
    normalize_name,
    normalize_phone,
    parse_birth,
    parse_day,
)

TONES = {
    "ngang": "",
    "huyền": "\u0300",
    "sắc": "\u0301",
    "ngã": "\u0303",
    "hỏi": "\u0309",
    "nặng": "\u0323",
}
VOWELS = "aăâeêioôơuưy"
CONSONANTS = "bcdđghklmnpqrstvx"


def _letters() -> list[str]:
    """Every Vietnamese vowel with every tone, and đ, in both cases, each one NFC character."""
    found = []
    for vowel in VOWELS:
        for mark in TONES.values():
            letter = unicodedata.normalize("NFC", vowel + mark)
            found += [letter, letter.upper()]
    return [*found, "đ", "Đ"]


ALL_LETTERS = _letters()


def code_of(call: Any, *args: Any) -> str:
    with pytest.raises(PydanticCustomError) as info:
        call(*args)
    return error_code(info.value)


# --- names -----------------------------------------------------------------------------------


def test_generated_letters_are_134_distinct_single_characters() -> None:
    # 12 vowels x 6 tones x 2 cases + đ Đ: a typo in the generator would hide missing letters.
    assert len(ALL_LETTERS) == 12 * 6 * 2 + 2
    assert len(set(ALL_LETTERS)) == len(ALL_LETTERS)
    assert all(len(letter) == 1 for letter in ALL_LETTERS)
    modified = {"ă", "Ă", "â", "Â", "đ", "Đ", "ê", "Ê", "ô", "Ô", "ơ", "Ơ", "ư", "Ư"}
    assert modified <= set(ALL_LETTERS)
    assert {"ẫ", "Ẫ", "ợ", "Ợ", "ừ", "Ừ", "ỷ", "Ỷ", "ệ", "Ệ"} <= set(ALL_LETTERS)


def test_every_vietnamese_letter_is_accepted_as_typed() -> None:
    wrong = {}
    for letter in ALL_LETTERS:
        name = f"{letter}{letter} Văn {letter}"
        capitalised = f"{letter.upper()}{letter.lower()} Văn {letter.upper()}"
        try:
            if normalize_name(name) != capitalised:
                wrong[letter] = normalize_name(name)
        except PydanticCustomError as exc:
            wrong[letter] = error_code(exc)
    assert wrong == {}


def test_every_letter_sent_decomposed_comes_back_composed() -> None:
    wrong = {}
    for letter in ALL_LETTERS:
        decomposed = unicodedata.normalize("NFD", f"Lê {letter}{letter}")
        result = normalize_name(decomposed)
        expected = f"Lê {letter.upper()}{letter.lower()}"
        if result != expected or not unicodedata.is_normalized("NFC", result):
            wrong[letter] = result
    assert wrong == {}


def test_name_key_ignores_case_of_every_letter() -> None:
    wrong = [
        letter
        for letter in ALL_LETTERS
        if name_key(f"An {letter.lower()}x") != name_key(f"AN {letter.upper()}X")
    ]
    assert wrong == []


def test_name_key_tells_every_letter_apart() -> None:
    # Case and tone placement aside, two different letters never share a key.
    keys = {name_key(f"X{letter}") for letter in ALL_LETTERS}
    assert len(keys) == len(ALL_LETTERS) // 2


REAL_NAMES = [
    "Nguyễn Thị Minh Khai",
    "Đặng Thùy Trâm",
    "Hoàng Văn Thụ",
    "Lê Thị Hồng Gấm",
    "Phạm Ngọc Thạch",
    "Võ Thị Sáu",
    "Trần Quốc Toản",
    "Nguyễn Văn Trỗi",
    "Lý Tự Trọng",
    "Bế Văn Đàn",
    "Nông Văn Dền",
    "Ưng Hoàng Phúc",
    "Ông Ích Khiêm",
    "Đinh Bộ Lĩnh",
    "Lương Thế Vinh",
    "H'Hen Niê",
    "Ksor H'Bia",
    "Y Ngông Niê Kdăm",
    "Rơ Mah H'Lan",
    "Nay Y Blang",
    "A Lăng Thị Hường",
]


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_pass_unchanged(name: str) -> None:
    assert normalize_name(name) == name


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_typed_decomposed_become_nfc(name: str) -> None:
    decomposed = unicodedata.normalize("NFD", name)
    if any(ord(c) > 127 and c not in "đĐ" for c in name):
        assert decomposed != name  # the input really is different bytes
    assert normalize_name(decomposed) == name
    assert name_key(decomposed) == name_key(name)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Nguyễn   Thị\tMinh  Khai \n", "Nguyễn Thị Minh Khai"),
        ("Nguyễn\u00a0Văn\u2003An", "Nguyễn Văn An"),  # no-break and em spaces from phones
        ("nguyễn văn an", "Nguyễn Văn An"),  # the normal capitalisation
        ("NGUYỄN VĂN AN", "Nguyễn Văn An"),
        ("đỗ thị kim chi", "Đỗ Thị Kim Chi"),
        ("h'hen niê", "H'Hen Niê"),
        ("H’Hen Niê", "H'Hen Niê"),  # the phone keyboard's curly apostrophe
        ("Ksor H’Bia", "Ksor H'Bia"),
        ("Nguyễn-Trần Bảo Anh", "Nguyễn-Trần Bảo Anh"),
        ("y út", "Y Út"),  # two words: the shortest name
    ],
)
def test_name_cleanup(typed: str, kept: str) -> None:
    assert normalize_name(typed) == kept


def test_name_length_limit_is_80_characters_after_cleanup() -> None:
    eighty = ("Nguyễn Thị Minh Khai " * 4)[:80]
    assert len(eighty) == 80
    assert not eighty.endswith(" ")
    assert normalize_name(eighty) == eighty
    assert code_of(normalize_name, eighty + "a") == "name_too_long"
    # Decomposed input is longer in code points than the name the user sees.
    decomposed = unicodedata.normalize("NFD", eighty)
    assert len(decomposed) > 80
    assert normalize_name(decomposed) == eighty
    # Extra spaces do not count.
    assert normalize_name("  " + eighty.replace(" ", "    ") + "  ") == eighty


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "name_too_short"),
        ("   ", "name_too_short"),
        ("A", "name_too_short"),
        (" Ư ", "name_too_short"),
        ("Nguyễn Văn 2", "name_invalid"),
        ("Nguyen Van A1", "name_invalid"),
        ("Lan 😊", "name_invalid"),
        ("Lan❤️", "name_invalid"),
        ("Lan!", "name_invalid"),
        ("Nguyễn_Văn", "name_invalid"),
        ("lan@gmail.com", "name_invalid"),
        ("Trần (Tí)", "name_invalid"),
        ("Иван Петров", "name_invalid"),
        ("Nguyễn Văn А", "name_invalid"),  # Cyrillic А that looks Latin
        ("王小明", "name_invalid"),
        ("Nguyễn 文", "name_invalid"),
        ("Müller", "name_invalid"),  # a diaeresis is not a Vietnamese mark
        ("Ｎguyễn", "name_invalid"),  # full-width letter
        ("H'", "name_invalid"),
        ("'Bia", "name_invalid"),
        ("H''Bia", "name_invalid"),
        ("Lan -", "name_invalid"),
        ("\u0301\u0301", "name_invalid"),  # bare tone marks
        ("a" * 81, "name_too_long"),
        ("Lan", "name_one_word"),  # a family name and a given name at least
        ("  nguyễn  ", "name_one_word"),
    ],
)
def test_names_refused(typed: str, code: str) -> None:
    assert code_of(normalize_name, typed) == code


@pytest.mark.parametrize("value", [None, 42, b"Lan", ["Lan"]])
def test_name_must_be_text(value: Any) -> None:
    assert code_of(normalize_name, value) == "name_invalid"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hòa", "Hoà"),
        ("Thủy", "Thuỷ"),
        ("Khóa", "Khoá"),
        ("Nguyễn Thị Thúy", "NGUYỄN THỊ THUÝ"),
        ("Đặng Thùy Trâm", "đặng thuỳ trâm"),
        ("Lê Văn Hòe", "Lê Văn Hoè"),
        ("Trần Thị Thụy", "Trần Thị Thuỵ"),
        ("Phạm Thanh Hỏa", "Phạm Thanh Hoả"),
        ("Hòa Bình", "Hoà   Bình"),
        ("Nguyễn Văn An", "nguyễn văn an"),
    ],
)
def test_name_key_equal_for_case_spacing_and_tone_placement(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)
    assert name_key(unicodedata.normalize("NFD", a)) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("An", "Ân"),
        ("Hoàng", "Hoang"),
        ("Hòa", "Hóa"),
        ("Thủy", "Thùy"),
        ("Đào", "Dao"),
        ("Quỳnh", "Quynh"),
        ("Toàn", "Toản"),
        ("Nguyễn Văn An", "Nguyễn Văn Ân"),
        ("Lê Thị Hồng Gấm", "Lê Thị Hồng Gầm"),
    ],
)
def test_name_key_keeps_different_names_apart(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_name_key_is_nfc_and_lowercase() -> None:
    key = name_key("NGUYỄN THỊ THUỶ")
    assert unicodedata.is_normalized("NFC", key)
    assert key == key.casefold()
    assert key == "nguyễn thị thủy"


# --- phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "+84912345678",
        "+84 912 345 678",
        "84912345678",
        "84-912-345-678",
        "+84 (912) 345 678",
        "(+84) 912.345.678",
        " 0912 345 678 ",
        "0912\u00a0345\u00a0678",
        "091 234 5678",
    ],
)
def test_phone_formats_become_one_normal_form(typed: str) -> None:
    assert normalize_phone(typed) == "0912345678"


# The carriers' mobile prefixes since the 2018 renumbering (Viettel, VinaPhone, MobiFone,
# Vietnamobile, Gmobile, Itelecom). 050, 071, 080… are not allocated: see the refusals below.
MOBILE_PREFIXES = [
    *(f"03{d}" for d in "23456789"),
    "056",
    "058",
    "059",
    "070",
    *(f"07{d}" for d in "6789"),
    *(f"08{d}" for d in "12345678"),
    *(f"09{d}" for d in "012345678"),
]


@pytest.mark.parametrize("prefix", MOBILE_PREFIXES)
def test_every_mobile_prefix_is_accepted(prefix: str) -> None:
    local = prefix + "1234567"
    assert normalize_phone(local) == local
    assert normalize_phone(f"+84 {local[1:4]} {local[4:7]} {local[7:]}") == local


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("024 3825 1234", "phone_invalid"),  # Hà Nội landline
        ("028 3829 5555", "phone_invalid"),  # TP.HCM landline
        ("0236 3821 111", "phone_invalid"),
        ("0212345678", "phone_invalid"),
        ("0412345678", "phone_invalid"),
        ("0612345678", "phone_invalid"),
        ("01234567890", "phone_invalid"),  # pre-2018 11-digit mobile
        ("091234567", "phone_invalid"),  # 9 digits
        ("09123456789", "phone_invalid"),  # 11 digits
        ("0912 345 67a", "phone_invalid"),
        ("không có", "phone_invalid"),
        ("", "phone_invalid"),
        ("912345678", "phone_invalid"),  # the 0 forgotten
        ("849123456", "phone_invalid"),  # the 0 of 084 forgotten, not the country code 84
        ("+8491234567", "phone_invalid"),  # short after +84
        ("+849123456789", "phone_invalid"),
        ("84 24 3825 1234", "phone_invalid"),
        ("+1 202 555 0100", "phone_not_vietnamese"),
        ("+44 20 7946 0958", "phone_not_vietnamese"),
        ("+856 20 5555 5555", "phone_not_vietnamese"),
        ("0912/345/678", "phone_invalid"),
        ("0501234567", "phone_invalid"),  # 050: no carrier has it
        ("0712345678", "phone_invalid"),  # 071: no carrier has it
        ("0801234567", "phone_invalid"),  # 080: no carrier has it
        ("+84 501 234 567", "phone_invalid"),
        ("0084 712 345 678", "phone_invalid"),
        ("0912345ABC", "phone_invalid"),  # letters are not a keypad's digits here
        ("0912345678 ext 12", "phone_invalid"),
        ("0912345678;ext=12", "phone_invalid"),
        ("0" * 300 + "912345678", "phone_invalid"),  # longer than any phone number
        ("001 202 555 0100", "phone_not_vietnamese"),  # 00: the international prefix
        ("0000000000", "phone_invalid"),  # 00 and then no country at all
        ("+0912345678", "phone_not_vietnamese"),
    ],
)
def test_phones_refused(typed: str, code: str) -> None:
    assert code_of(normalize_phone, typed) == code


@pytest.mark.parametrize(
    "typed",
    [
        "0084 912 345 678",  # 00 is how an international number is dialled from Việt Nam
        "0084912345678",
        "0084 0912 345 678",
        "+84 912 345 678",
        "＋84 912 345 678",  # full-width plus from a CJK keyboard
        "０９１２３４５６７８",  # full-width digits
        "０９１２\u3000３４５\u3000６７８",  # and the ideographic space
        "０９１２－３４５－６７８",  # and the full-width hyphen
        "+84\u202f912\u202f345\u202f678",  # narrow no-break spaces
    ],
)
def test_phone_international_and_full_width_forms(typed: str) -> None:
    assert normalize_phone(typed) == "0912345678"


@pytest.mark.parametrize("value", [None, 912345678, b"0912345678"])
def test_phone_must_be_text(value: Any) -> None:
    assert code_of(normalize_phone, value) == "phone_invalid"


def test_phone_with_non_ascii_digits_is_refused_or_made_ascii() -> None:
    try:
        result = normalize_phone("09١٢٣٤٥٦٧٨")  # Arabic-Indic digits after 09
    except PydanticCustomError:
        return
    assert result == "0912345678"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("0912345678", "091****678"), ("0387654321", "038****321"), ("0701234567", "070****567")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
    assert len(mask_phone(phone)) == 10


# --- birth dates -----------------------------------------------------------------------------

TODAY = date(2026, 5, 10)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("05/03/2008", date(2008, 3, 5)),
        ("5/3/2008", date(2008, 3, 5)),
        ("05-03-2008", date(2008, 3, 5)),
        ("05.03.2008", date(2008, 3, 5)),
        ("5.3.2008", date(2008, 3, 5)),
        ("  31/12/1999 ", date(1999, 12, 31)),
        ("29/02/2008", date(2008, 2, 29)),
        ("29/02/2000", date(2000, 2, 29)),
        ("1/1/1900", date(1900, 1, 1)),
        ("10/05/2026", TODAY),  # born today
    ],
)
def test_birth_dates_parse(typed: str, day: date) -> None:
    assert parse_birth(typed, TODAY) == Birth(day.year, day)


@pytest.mark.parametrize(("typed", "year"), [("2008", 2008), (" 1996 ", 1996), ("2026", 2026)])
def test_bare_year(typed: str, year: int) -> None:
    birth = parse_birth(typed, TODAY)
    assert birth == Birth(year, None)
    assert birth.day is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("29/02/2007", "birth_invalid"),
        ("29/02/1900", "birth_invalid"),  # 1900 was not a leap year
        ("31/04/2008", "birth_invalid"),
        ("31/06/2008", "birth_invalid"),
        ("30/02/2008", "birth_invalid"),
        ("00/01/2008", "birth_invalid"),
        ("15/13/2008", "birth_invalid"),
        ("15/00/2008", "birth_invalid"),
        ("31/12/1899", "birth_invalid"),
        ("1899", "birth_invalid"),
        ("0000", "birth_invalid"),
        ("11/05/2026", "birth_in_future"),
        ("01/01/2027", "birth_in_future"),
        ("2027", "birth_in_future"),
        ("2100", "birth_in_future"),
        ("05/03/08", "birth_format"),
        ("5/3/08", "birth_format"),
        ("2008-03-05", "birth_format"),
        ("2008/03/05", "birth_format"),
        ("08", "birth_format"),
        ("", "birth_format"),
        ("ngày 5 tháng 3 năm 2008", "birth_format"),
        ("05/03/2008 10:00", "birth_format"),
        ("05032008", "birth_format"),
        ("5 / 3 / 2008", "birth_format"),
        ("20088", "birth_format"),
    ],
)
def test_birth_refused(typed: str, code: str) -> None:
    assert code_of(parse_birth, typed, TODAY) == code


def test_leap_day_depends_on_the_year_being_typed() -> None:
    assert parse_birth("29/2/2024", TODAY).day == date(2024, 2, 29)
    assert code_of(parse_birth, "29/2/2023", TODAY) == "birth_invalid"


def test_birth_json_and_display_round_trip() -> None:
    full = Birth(2008, date(2008, 3, 5))
    year = Birth(2008)
    assert full.display() == "05/03/2008"
    assert year.display() == "2008"
    assert full.to_json() == "2008-03-05"
    assert year.to_json() == "2008"
    assert Birth.from_json(full.to_json()) == full
    assert Birth.from_json(year.to_json()) == year


# --- ages ------------------------------------------------------------------------------------


def test_age_is_16_on_the_16th_birthday_and_15_the_day_before() -> None:
    birth = Birth(2010, date(2010, 5, 10))
    assert birth.age_bounds(date(2026, 5, 10)) == (16, 16)
    assert birth.age_bounds(date(2026, 5, 9)) == (15, 15)
    assert birth.age_bounds(date(2026, 12, 31)) == (16, 16)
    assert birth.age_bounds(date(2027, 5, 9)) == (16, 16)


def test_age_of_someone_born_on_29_february() -> None:
    birth = Birth(2008, date(2008, 2, 29))
    assert birth.age_bounds(date(2024, 2, 28)) == (15, 15)
    assert birth.age_bounds(date(2024, 2, 29)) == (16, 16)
    assert birth.age_bounds(date(2025, 2, 28)) == (16, 16)
    assert birth.age_bounds(date(2025, 3, 1)) == (17, 17)


@pytest.mark.parametrize("today", [date(2026, 1, 1), TODAY, date(2026, 12, 31)])
def test_year_only_gives_a_range(today: date) -> None:
    assert Birth(2010).age_bounds(today) == (15, 16)
    assert Birth(1996).age_bounds(today) == (29, 30)
    assert Birth(2026).age_bounds(today) == (0, 0)


POLICY = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})


def born(years_ago: int, days_to_birthday: int = 0) -> Birth:
    """Someone who is `years_ago` on TODAY, whose birthday is `days_to_birthday` ahead."""
    day = date(TODAY.year - years_ago, TODAY.month, TODAY.day) + timedelta(days=days_to_birthday)
    return Birth(day.year, day)


@pytest.mark.parametrize(
    ("birth", "doan", "hoi", "child"),
    [
        (born(16), True, True, False),
        (born(16, days_to_birthday=1), False, True, True),  # 15, one day short of 16
        (born(15), False, True, True),
        (born(15, days_to_birthday=1), False, False, True),  # 14
        (born(30), True, True, False),
        (born(31), False, True, False),
        (born(30, days_to_birthday=-1), True, True, False),
        (born(31, days_to_birthday=1), True, True, False),  # still 30
        (born(35), False, True, False),
        (born(36), False, False, False),
        (Birth(2010), True, True, True),  # 15 or 16: may be admitted, may be a child
        (Birth(1996), True, True, False),  # 29 or 30
        (Birth(1995), True, True, False),  # 30 or 31
        (Birth(1994), False, True, False),  # 31 or 32
        (Birth(2012), False, False, True),  # 13 or 14
    ],
)
def test_age_policy(birth: Birth, doan: bool, hoi: bool, child: bool) -> None:
    assert POLICY.admits(Org.DOAN, birth, TODAY) is doan
    assert POLICY.admits(Org.HOI, birth, TODAY) is hoi
    assert POLICY.admits_any(birth, TODAY) is (doan or hoi)
    assert POLICY.may_be_child(birth, TODAY) is child


def test_age_policy_ranges_are_configurable() -> None:
    strict = AgePolicy({Org.DOAN: AgeRange(18, 25), Org.HOI: AgeRange(18, 25)}, child_below=18)
    assert not strict.admits(Org.DOAN, born(17), TODAY)
    assert strict.admits(Org.DOAN, born(18), TODAY)
    assert strict.may_be_child(born(17), TODAY)
    assert not strict.admits_any(born(26), TODAY)


# --- whole models ----------------------------------------------------------------------------

CONTEXT = {"today": TODAY, "ages": POLICY}


def referral(**fields: Any) -> ReferralIn:
    data: dict[str, Any] = {"full_name": "Nguyễn Văn An", "birth": born(18), "org": "doan"}
    data.update(fields)
    return ReferralIn.model_validate(data, context=CONTEXT)


def refused(**fields: Any) -> str:
    with pytest.raises(ValidationError) as info:
        referral(**fields)
    return error_code(info.value)


def test_referral_cleans_its_fields() -> None:
    youth = referral(full_name="  nguyễn   văn  an ", phone="+84 912 345 678", org="hoi")
    assert youth.full_name == "Nguyễn Văn An"
    assert youth.phone == "0912345678"
    assert youth.org is Org.HOI
    assert youth.guardian_consent is False


def test_referral_without_phone() -> None:
    assert referral().phone is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"birth": born(40)}, "age_out_of_range"),
        ({"birth": born(31)}, "age_out_of_range"),
        ({"birth": born(15)}, "age_out_of_range"),  # Đoàn starts at 16
        ({"birth": born(36), "org": "hoi"}, "age_out_of_range"),
        ({"birth": born(14), "org": "hoi", "guardian_consent": True}, "age_out_of_range"),
        ({"birth": born(15), "org": "hoi"}, "guardian_needed"),
        ({"birth": Birth(2010)}, "guardian_needed"),  # may be 15: a child under the law
        ({"full_name": "Lan 2"}, "name_invalid"),
        ({"full_name": "L"}, "name_too_short"),
        ({"phone": "024 3825 1234"}, "phone_invalid"),
        ({"phone": "+1 202 555 0100"}, "phone_not_vietnamese"),
    ],
)
def test_referral_refused_with_code(fields: dict[str, Any], code: str) -> None:
    assert refused(**fields) == code


def test_guardian_consent_lets_a_child_through() -> None:
    youth = referral(birth=born(15), org="hoi", guardian_consent=True)
    assert youth.guardian_consent is True
    assert referral(birth=Birth(2010), guardian_consent=True).birth == Birth(2010)


def test_referral_needs_today_and_ages_in_context() -> None:
    data = {"full_name": "Nguyễn Văn An", "birth": born(18), "org": "doan"}
    with pytest.raises(ValidationError):
        ReferralIn.model_validate(data)
    with pytest.raises(ValidationError):
        ReferralIn.model_validate(data, context={"today": TODAY})


def test_referral_is_frozen() -> None:
    youth = referral()
    with pytest.raises(ValidationError):
        youth.full_name = "Khác"  # type: ignore[misc]


def test_member_in() -> None:
    member = MemberIn(full_name=" Lê  Thị Hồng Gấm", membership=Org.HOI, phone="0912.345.678")
    assert (member.full_name, member.membership, member.phone) == (
        "Lê Thị Hồng Gấm",
        Org.HOI,
        "0912345678",
    )
    with pytest.raises(ValidationError) as info:
        MemberIn(full_name="Lê Thị 9", membership=Org.DOAN)
    assert error_code(info.value) == "name_invalid"


def test_error_code_of_a_bare_rejection() -> None:
    with pytest.raises(PydanticCustomError) as info:
        normalize_phone("12")
    assert error_code(info.value) == "phone_invalid"
    assert error_code(ValueError("plain")) == "invalid"


# --- properties ------------------------------------------------------------------------------

_letter = st.sampled_from(ALL_LETTERS + list(CONSONANTS + CONSONANTS.upper()))
_syllable = st.lists(_letter, min_size=1, max_size=6).map("".join)
# Minority names keep an apostrophe or a hyphen inside a word: H'Hen, Ksor H’Bia, Nguyễn-Trần.
_word = st.one_of(
    _syllable,
    st.tuples(_syllable, st.sampled_from(["'", "’", "-"]), _syllable).map("".join),
)
_gap = st.sampled_from([" ", "  ", "\t", "\u00a0", " \n "])


@st.composite
def typed_names(draw: st.DrawFn) -> str:
    words = draw(st.lists(_word, min_size=1, max_size=6))
    text = words[0]
    for word in words[1:]:
        text += draw(_gap) + word
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    return draw(_gap) + text + draw(_gap)


@settings(max_examples=150, deadline=None)
@given(typed_names())
def test_normalize_name_is_idempotent_on_typed_names(typed: str) -> None:
    try:
        once = normalize_name(typed)
    except PydanticCustomError as exc:
        assert error_code(exc) in {"name_too_short", "name_too_long", "name_one_word"}
        return
    assert normalize_name(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert "  " not in once
    assert once == once.strip()
    assert name_key(unicodedata.normalize("NFD", once)) == name_key(once)
    assert name_key(once.upper()) == name_key(once.lower())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_normalize_name_is_idempotent_on_anything_accepted(typed: str) -> None:
    try:
        once = normalize_name(typed)
    except PydanticCustomError:
        return
    assert normalize_name(once) == once


_digits = st.text(alphabet="0123456789", min_size=7, max_size=7)
_sep = st.sampled_from(["", "", " ", ".", "-", "  ", " - "])


@st.composite
def formatted_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    local = draw(st.sampled_from(MOBILE_PREFIXES)) + draw(_digits)
    prefix = draw(st.sampled_from(["0", "84", "+84", "+84 ", "84-", "(+84) ", "84.", " 0"]))
    rest = local[1:]
    text = prefix
    for digit in rest:
        text += draw(_sep) + digit if draw(st.booleans()) else digit
    return text, local


@settings(max_examples=200, deadline=None)
@given(formatted_mobiles())
def test_any_formatted_mobile_number_has_one_normal_form(case: tuple[str, str]) -> None:
    typed, local = case
    assert normalize_phone(typed) == local
    assert normalize_phone(local) == local


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.sampled_from(["/", "-", "."]),
    st.booleans(),
)
def test_any_real_past_date_round_trips(day: date, sep: str, padded: bool) -> None:
    pattern = "{d:02d}{s}{m:02d}{s}{y}" if padded else "{d}{s}{m}{s}{y}"
    typed = pattern.format(d=day.day, m=day.month, y=day.year, s=sep)
    birth = parse_birth(typed, TODAY)
    assert birth == Birth(day.year, day)
    assert parse_birth(birth.display(), TODAY) == birth
    assert Birth.from_json(birth.to_json()) == birth


def test_plus84_followed_by_the_habitual_zero_is_accepted() -> None:
    from storage.validation import normalize_phone as norm

    assert norm("+84 0912 345 678") == "0912345678"
    assert norm("840912345678") == "0912345678"


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("27/11/26", date(2026, 11, 27)),
        ("1.3.25", date(2025, 3, 1)),
        ("27/11/2026", date(2026, 11, 27)),
    ],
)
def test_an_admission_date_may_have_a_two_digit_year(typed: str, day: date) -> None:
    assert parse_day(typed) == day


def test_a_birth_date_needs_four_digits() -> None:
    with pytest.raises(ValueError, match="birth_format"):
        parse_birth("5/3/08", date(2026, 11, 27))
