"""Render the inspection files the README shows, from a sample database, into docs/samples/.

    .venv/bin/python docs/render_samples.py

- bao-cao-2026.xlsx: the report of the sample province (data/sample_units.csv), Đoàn and Hội
  together, on 27/11/2026, from a few dozen members and referrals made through storage;
- bao-cao-2026.pdf and bao-cao-2026-<page>.png: that workbook printed by LibreOffice
  (`soffice`, Debian: apt-get install --no-install-recommends libreoffice-calc) and cut into
  pages by poppler (`pdftoppm`, Debian: poppler-utils); skipped, with a line saying so, when
  either is missing;
- bieu-do-tinh.png: the /stats chart of the sample province;
- bieu-do-100-don-vi.png: the chart of a province of 100 communes (figures made up here), where
  only the 25 weakest fit.

Same input, same output: names, dates and figures come from a fixed seed and a fixed clock.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import reports  # noqa: E402
from storage import members, referrals, stats, targets, units  # noqa: E402
from storage.clock import ManualClock  # noqa: E402
from storage.conversations import ConversationKey  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.periods import Period  # noqa: E402
from storage.referrals import Decision  # noqa: E402
from storage.stats import Figures, Report  # noqa: E402
from storage.units import Unit  # noqa: E402
from storage.validation import AgePolicy, AgeRange, Birth, MemberIn, Org, ReferralIn  # noqa: E402

OUT = ROOT / "docs" / "samples"
TODAY = date(2026, 11, 27)
PERIOD = Period(2026)
PLACE = "Mẫu"
AGES = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh", "Hữu", "Khánh"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Huy",
         "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phúc", "Quân", "Sơn", "Tâm",
         "Thảo", "Trang", "Trung", "Tú", "Uyên", "Việt", "Yến"]  # fmt: skip
# Leaf units and how many members register in each.
BRANCHES = {
    "CD-AB-THON1": 7,
    "CD-AB-THON2": 5,
    "CD-HL-KP3": 6,
    "CD-HL-KP7": 4,
    "CD-NTMK-12A1": 5,
    "CD-NTMK-11B2": 3,
    "CH-AB-THON1": 5,
    "CH-AB-THON2": 4,
}
TARGETS = {"CD-AB-THON1": 6, "CD-HL-KP3": 5, "CD-NTMK-12A1": 4, "HOI-X-AN-BINH": 8}


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, tzinfo=UTC)  # 10:00 in Hà Nội


class Names:
    """Distinct Vietnamese full names from a fixed seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.used = rng, set[str]()

    def __call__(self) -> str:
        while True:
            name = " ".join(self.rng.choice(part) for part in (FAMILY, MIDDLE, GIVEN))
            if name not in self.used:
                self.used.add(name)
                return name


async def seed(db: Database) -> None:
    """The sample tree, members in each branch, a leader deciding, referrals through 2026."""
    rng = random.Random(2026)
    name = Names(rng)
    csv_text = (ROOT / "data" / "sample_units.csv").read_text(encoding="utf-8")
    await units.import_rows(db, units.parse_csv(csv_text))
    clock = ManualClock(at(date(2025, 12, 1)))
    async with db.read() as conn:
        unit = {code: await units.get_by_code(conn, code) for code in [*BRANCHES, *TARGETS]}
    people = []
    for code, count in BRANCHES.items():
        found = unit[code]
        assert found is not None
        for _ in range(count):
            ref = str(9000 + len(people))
            data = MemberIn(full_name=name(), membership=found.org)
            key = ConversationKey("telegram", ref, ref)
            people.append((key, await members.register(db, key, found.id, data, clock)))
    leaders = {unit_id: member for _, member in people for unit_id in [member.unit_id]}
    for n in range(44):
        key, member = people[rng.randrange(len(people))]
        introduced = date.fromordinal(date(2026, 1, 5).toordinal() + n * 7)
        clock.set(at(introduced))
        org = Org.HOI if rng.random() < 0.3 else Org.DOAN
        year = rng.randint(1998, 2009)
        birth = Birth(year, date(year, rng.randint(1, 12), rng.randint(1, 28)))
        if rng.random() < 0.25:
            birth = Birth(year)  # the member knew only the year
        phone = f"09{rng.choice('134')}{rng.randrange(10**7):07d}" if rng.random() < 0.7 else None
        data = ReferralIn.model_validate(
            {"full_name": name(), "birth": birth, "phone": phone, "org": org},
            context={"today": introduced, "ages": AGES},
        )
        referral = await referrals.submit(db, key, member, data, clock)
        fate = rng.random()
        decided = date.fromordinal(introduced.toordinal() + rng.randint(10, 40))
        if fate < 0.12 or decided >= TODAY:
            continue  # still waiting
        clock.set(at(decided))
        leader = leaders[member.unit_id]
        if fate < 0.22:
            await referrals.change_status(db, referral.id, Decision.DECLINE, leader.id, clock)
        else:
            await referrals.change_status(
                db, referral.id, Decision.ADMIT, leader.id, clock, admitted_on=decided
            )
    clock.set(at(TODAY))
    for code, value in TARGETS.items():
        found = unit[code]
        assert found is not None
        await targets.set_target(db, found.id, 2026, found.org, value, None, clock)


def large_province() -> Report:
    """A province of 100 communes with made-up figures: more units than a chart shows."""
    rng = random.Random(63)
    places = ["An", "Bình", "Hòa", "Phú", "Tân", "Thạnh", "Long", "Phước", "Vĩnh", "Mỹ"]
    kinds = ["Đoàn xã", "Đoàn phường", "Đoàn xã", "Đoàn trường THPT"]
    children, used = [], set()
    for n in range(100):
        name = ""
        while not name or name in used:
            name = f"{kinds[n % len(kinds)]} {rng.choice(places)} {rng.choice(places)}"
        used.add(name)
        target = rng.randint(12, 180)
        admitted = round(target * rng.uniform(0.35, 1.15))
        unit = Unit(n + 2, f"X{n:03d}", name, 1, Org.DOAN)
        children.append(_figures(unit, target, admitted))
    children.sort(key=lambda f: f.weakness)
    root = Unit(1, "TINH", "Tỉnh đoàn Bình An", None, Org.DOAN)
    whole = _figures(
        root, sum(f.target for f in children), sum(f.admitted for f in children), members=0
    )
    return Report(PERIOD, whole, children)


def _figures(unit: Unit, target: int, admitted: int, members: int = 0) -> Figures:
    return Figures(
        unit=unit,
        members=members or target,
        met=admitted,
        introduced=admitted,
        admitted_doan=admitted,
        admitted_hoi=0,
        declined=0,
        pending=0,
        target=target,
        expected_share=PERIOD.expected_share,
    )


def print_pages(xlsx: Path) -> list[Path]:
    """The workbook printed to PDF by LibreOffice, then one PNG a page; [] without the tools."""
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        print("soffice or pdftoppm missing: no PDF, no pages (see this file's docstring)")
        return []
    with tempfile.TemporaryDirectory() as profile:  # a fresh profile: no dialog, no lock
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(xlsx.parent),
                str(xlsx),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    pdf = xlsx.with_suffix(".pdf")
    for old in xlsx.parent.glob(f"{xlsx.stem}-*.png"):
        old.unlink()
    prefix = xlsx.parent / xlsx.stem
    subprocess.run([pdftoppm, "-png", "-r", "80", str(pdf), str(prefix)], check=True)
    return sorted(xlsx.parent.glob(f"{xlsx.stem}-*.png"))


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        async with Database(Path(scratch) / "sample.db") as db:
            await seed(db)
            async with db.read() as conn:
                roots = [await units.get_by_code(conn, c) for c in ("TD-MAU", "HOI-TINH")]
            ids = [u.id for u in roots if u is not None]
            xlsx = OUT / "bao-cao-2026.xlsx"
            heading = reports.Heading(TODAY, PLACE, "BÍ THƯ")
            await reports.write_report(xlsx, db, ids, PERIOD, heading)
            report = await stats.report(db, ids[0], PERIOD)
    assert report is not None
    (OUT / "bieu-do-tinh.png").write_bytes(reports.chart_png(report, TODAY))
    (OUT / "bieu-do-100-don-vi.png").write_bytes(reports.chart_png(large_province(), TODAY))
    pages = print_pages(xlsx)
    for path in [xlsx, *pages, OUT / "bieu-do-tinh.png", OUT / "bieu-do-100-don-vi.png"]:
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    asyncio.run(main())
