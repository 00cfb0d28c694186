"""`motcongmot import-admissions`: a unit's admissions from before the bot, from its records.

A province that starts in November still has its March admissions in its books. The file
(UTF-8 CSV) has the header youth,birth,org,introducer,admitted_on,unit_code: the youth's full
name, birth date (dd/mm/yyyy) or year, doan or hoi, the introducing member's name if known
(linked to the member when exactly one of that name is registered in the unit), the admission
date (from 1 January of the previous year to today) and the code of the unit that admitted them.

Every row is checked, then all are written in one transaction: a bad line is named by number and
nothing of the file is written. Importing the same file again adds nothing; a youth the bot
already knows otherwise (introduced in the chat, or imported with other details) is refused as
in the chat, without saying by whom.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import aiosqlite
from pydantic import ValidationError

from storage import referrals, units
from storage.clock import Clock
from storage.db import Database
from storage.referrals import Referral, Status
from storage.units import CsvError
from storage.validation import (
    AgePolicy,
    Birth,
    Org,
    name_key,
    normalize_name,
    parse_birth,
    parse_day,
)

HEADER = ["youth", "birth", "org", "introducer", "admitted_on", "unit_code"]
_ORGS = {"doan": Org.DOAN, "đoàn": Org.DOAN, "hoi": Org.HOI, "hội": Org.HOI}


@dataclass(frozen=True)
class AdmissionRow:
    line: int  # 1-based physical line in the file (the header is line 1)
    full_name: str
    birth: Birth
    org: Org
    introducer: str | None
    admitted_on: date
    unit_code: str


@dataclass(frozen=True)
class Imported:
    created: int
    already: int  # rows of an earlier import of the same records


def _name(cell: str, line: int, code: str) -> str:
    try:
        return normalize_name(cell)
    except (ValueError, ValidationError):
        raise CsvError(line, code, cell.strip()) from None


def _row(record: list[str], line: int, today: date, ages: AgePolicy) -> AdmissionRow:
    youth, birth_text, org_text, introducer, day_text, unit_code = (c.strip() for c in record)
    full_name = _name(youth, line, "adm_youth")
    try:
        birth = parse_birth(birth_text, today)
    except ValueError:
        raise CsvError(line, "adm_birth", birth_text) from None
    org = _ORGS.get(unicodedata.normalize("NFC", org_text.casefold()))
    if org is None:
        raise CsvError(line, "csv_org", org_text)
    try:
        admitted_on = parse_day(day_text)
    except ValueError:
        raise CsvError(line, "adm_date", day_text) from None
    if not referrals.earliest_admission(today) <= admitted_on <= today:
        raise CsvError(line, "adm_date_range", day_text)
    if not ages.admits(org, birth, admitted_on):  # the charter's ages on the admission day
        raise CsvError(line, "adm_age", birth_text)
    if not unit_code:
        raise CsvError(line, "adm_unit")
    named = _name(introducer, line, "adm_introducer") if introducer else None
    return AdmissionRow(line, full_name, birth, org, named, admitted_on, unit_code)


def _same(a: AdmissionRow, b: AdmissionRow) -> bool:
    """The same youth, by the chat's rule: a bare birth year matches any date in that year."""
    births_match = a.birth.day is None or b.birth.day is None or a.birth.day == b.birth.day
    return (
        name_key(a.full_name) == name_key(b.full_name)
        and a.birth.year == b.birth.year
        and births_match
    )


def parse_csv(text: str, today: date, ages: AgePolicy) -> list[AdmissionRow]:
    """Check every row of an admissions file; raise CsvError naming the first bad line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != HEADER:
        raise CsvError(1, "adm_header")
    rows: list[AdmissionRow] = []
    seen: dict[tuple[str, int], list[AdmissionRow]] = {}  # by name and birth year
    for record in reader:
        line = reader.line_num  # where the record ends: a quoted cell may span lines
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(HEADER):
            raise CsvError(line, "adm_columns")
        row = _row(record, line, today, ages)
        same = seen.setdefault((name_key(row.full_name), row.birth.year), [])
        first = next((r for r in same if _same(r, row)), None)
        if first is not None:
            raise CsvError(line, "adm_twice", str(first.line))
        same.append(row)
        rows.append(row)
    return rows


def _already_imported(found: Referral, row: AdmissionRow, unit_id: int) -> bool:
    return (
        found.source == "import"
        and found.status is Status.ADMITTED
        and found.unit_id == unit_id
        and found.org is row.org
        and found.birth == row.birth
        and found.admitted_on == row.admitted_on
    )


async def _introducer(
    conn: aiosqlite.Connection, unit_id: int, name: str | None
) -> tuple[int | None, str | None]:
    """(member id, None) when exactly one member of that name is registered in the unit, so the
    admission counts for their 1+1; else (None, the name as the records give it)."""
    if name is None:
        return None, None
    sql = "SELECT id, full_name FROM members WHERE unit_id = ?"
    async with conn.execute(sql, (unit_id,)) as cur:
        found = [r[0] for r in await cur.fetchall() if name_key(r[1]) == name_key(name)]
    return (found[0], None) if len(found) == 1 else (None, name)


async def import_rows(
    db: Database, rows: list[AdmissionRow], clock: Clock, tz: ZoneInfo
) -> Imported:
    """Write every row in one transaction (nothing if one is refused), counters included."""
    created = already = 0
    async with db.write() as conn:
        for row in rows:
            unit = await units.get_by_code(conn, row.unit_code)
            if unit is None:
                raise CsvError(row.line, "adm_unit", row.unit_code)
            known = await referrals.same_youth(conn, row.full_name, row.birth)
            if any(_already_imported(found, row, unit.id) for found in known):
                already += 1
                continue
            if known:
                raise CsvError(row.line, "adm_known")
            member_id, introducer = await _introducer(conn, unit.id, row.introducer)
            await referrals.insert_admission(
                conn,
                unit_id=unit.id,
                member_id=member_id,
                introducer=introducer,
                full_name=row.full_name,
                birth=row.birth,
                org=row.org,
                admitted_on=row.admitted_on,
                clock=clock,
                tz=tz,
            )
            created += 1
    return Imported(created, already)
