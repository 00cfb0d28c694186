"""Full names: at least two words, stored in the normal Vietnamese capitalisation, for members,
youths and the admissions a unit imports from its records."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from bot import texts
from storage import admissions_import
from storage.units import CsvError
from storage.validation import AgePolicy, AgeRange, Org, error_code, name_key, normalize_name

_VOWELS = "aăâeêioôơuưy"
_TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
_LETTERS = sorted(
    {unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES}
    | set("bcdđghklmnpqrstvx")
)
_letter = st.sampled_from(_LETTERS).flatmap(
    lambda c: st.sampled_from([c, c.upper()])  # typed in any case
)
_part = st.lists(_letter, min_size=1, max_size=7).map("".join)
_word = st.one_of(_part, st.tuples(_part, st.sampled_from(["'", "’", "-"]), _part).map("".join))
_gap = st.sampled_from([" ", "  ", "\t", "\u00a0"])


@st.composite
def full_names(draw: st.DrawFn, words: int = 2) -> str:
    typed = draw(st.lists(_word, min_size=words, max_size=max(words, 5)))
    text = typed[0]
    for word in typed[1:]:
        text += draw(_gap) + word
    return unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), text)


def _parts(name: str) -> list[str]:
    return [p for w in name.split(" ") for p in w.replace("-", "'").split("'")]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("đỗ thị kim chi", "Đỗ Thị Kim Chi"),
        ("NGUYỄN VĂN AN", "Nguyễn Văn An"),
        ("nGUYỄN vĂN aN", "Nguyễn Văn An"),
        ("h'hen niê", "H'Hen Niê"),
        ("KSOR H’BIA", "Ksor H'Bia"),
        ("ưng hoàng phúc", "Ưng Hoàng Phúc"),
        ("  lê   thị  hồng gấm ", "Lê Thị Hồng Gấm"),
        ("y út", "Y Út"),
    ],
)
def test_names_are_stored_capitalised(typed: str, stored: str) -> None:
    assert normalize_name(typed) == stored


@pytest.mark.parametrize("typed", ["Lan", "  nguyễn ", "H'Hen", "ĐỖ"])
def test_one_word_is_not_a_full_name(typed: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        normalize_name(typed)
    assert error_code(caught.value) == "name_one_word"
    assert texts.invalid("name_one_word") == "Xin ghi đủ họ và tên, ví dụ: Nguyễn Văn An."


@settings(max_examples=200, deadline=None)
@given(full_names())
def test_every_word_starts_upper_case_and_goes_on_lower_case(typed: str) -> None:
    try:
        name = normalize_name(typed)
    except PydanticCustomError as exc:
        assert error_code(exc) == "name_too_long"
        return
    assert unicodedata.is_normalized("NFC", name)
    assert len(name.split(" ")) == len(typed.split())  # the words typed, none lost or made
    for part in _parts(name):
        assert part[0] == part[0].upper() and part[1:] == part[1:].lower(), name
    assert normalize_name(name) == name  # idempotent
    # Duplicates are still found whatever the case typed.
    assert name_key(name) == name_key(" ".join(typed.replace("’", "'").split()))


@settings(max_examples=200, deadline=None)
@given(full_names())
def test_the_case_typed_does_not_matter(typed: str) -> None:
    try:
        name = normalize_name(typed)
    except PydanticCustomError:
        return
    assert normalize_name(typed.upper()) == name
    assert normalize_name(typed.lower()) == name


@settings(max_examples=100, deadline=None)
@given(_word, st.sampled_from(["", " ", "  "]))
def test_a_single_word_is_always_refused(word: str, pad: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        normalize_name(pad + word + pad)
    assert error_code(caught.value) in {"name_one_word", "name_too_short", "name_too_long"}


# --- the admissions a unit imports -----------------------------------------------------------

AGES = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})
TODAY = date(2026, 11, 20)
HEADER = "youth,birth,org,introducer,admitted_on,unit_code\n"


def test_an_import_stores_names_capitalised() -> None:
    text = HEADER + "nguyễn văn hải,2005,doan,TRẦN THỊ LAN,15/03/2026,CD-AB-THON1\n"
    (row,) = admissions_import.parse_csv(text, TODAY, AGES)
    assert (row.full_name, row.introducer) == ("Nguyễn Văn Hải", "Trần Thị Lan")


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("Hải,2005,doan,,15/03/2026,CD-AB-THON1", "adm_youth"),
        ("Nguyễn Văn Hải,2005,doan,Lan,15/03/2026,CD-AB-THON1", "adm_introducer"),
    ],
)
def test_a_one_word_name_in_an_import_is_named_by_line(line: str, code: str) -> None:
    good = "Lê Thị Mai,2007,hoi,,20/04/2026,CH-AB-THON1\n"
    with pytest.raises(CsvError) as caught:
        admissions_import.parse_csv(HEADER + good + line + "\n", TODAY, AGES)
    assert (caught.value.line, caught.value.code) == (3, code)
    message = texts.csv_problem("ket-nap.csv", 3, code, caught.value.detail)
    assert message.startswith("ket-nap.csv, dòng 3: ")
