"""/stats, the chart and the inspection spreadsheet, on a known data set, end to end."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import matplotlib.image
import pytest
from openpyxl import load_workbook

from bot import texts
from bot.settings import Settings
from storage import members, referrals, targets, units
from storage.clock import ManualClock
from storage.conversations import ConversationKey
from storage.db import Database
from storage.referrals import Decision
from storage.validation import AgePolicy, AgeRange, Birth, MemberIn, Org, ReferralIn
from tests.conftest import ADMIN_ID, NOW
from tests.harness import Person, RunningBot

AGES = AgePolicy({Org.DOAN: AgeRange(16, 30), Org.HOI: AgeRange(15, 35)})


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=3, tzinfo=UTC)  # 10:00 in Hà Nội


@pytest.fixture
async def known_data(db_path: Path, sample_units: None) -> None:
    """Six members, six referrals with known dates and outcomes, one target."""
    clock = ManualClock(at("2025-12-01"))
    async with Database(db_path) as db:
        async with db.read() as conn:
            unit = {
                c: (await units.get_by_code(conn, c))
                for c in ("CD-AB-THON1", "CD-AB-THON2", "CD-HL-KP3", "CH-AB-THON1")
            }
        people = {}
        for ref, name, code in [
            ("9001", "Trần Văn An", "CD-AB-THON1"),
            ("9002", "Lê Thị Bình", "CD-AB-THON1"),
            ("9003", "Phạm Văn Cường", "CD-AB-THON1"),
            ("9004", "Đỗ Thị Dung", "CD-AB-THON2"),
            ("9005", "Hồ Văn Em", "CD-HL-KP3"),
            ("9006", "Vũ Thị Phượng", "CH-AB-THON1"),
        ]:
            key = ConversationKey("telegram", ref, ref)
            data = MemberIn(full_name=name, membership=Org.DOAN)
            people[ref] = await members.register(db, key, unit[code].id, data, clock)

        async def refer(ref: str, name: str, year: int, org: Org, phone: str | None, day: str):
            clock.set(at(day))
            data = ReferralIn.model_validate(
                {"full_name": name, "birth": Birth(year), "phone": phone, "org": org},
                context={"today": date.fromisoformat(day), "ages": AGES},
            )
            key = ConversationKey("telegram", ref, ref)
            return await referrals.submit(db, key, people[ref], data, clock)

        async def decide(r, action: Decision, day: str) -> None:
            clock.set(at(day))
            admitted_on = date.fromisoformat(day) if action is Decision.ADMIT else None
            await referrals.change_status(db, r.id, action, None, clock, admitted_on=admitted_on)

        r6 = await refer("9006", "Mạc Văn Sáu", 2004, Org.HOI, None, "2025-12-20")
        await decide(r6, Decision.ADMIT, "2026-01-05")
        r1 = await refer("9001", "Ngô Văn Một", 2005, Org.DOAN, "0912345678", "2026-02-10")
        await decide(r1, Decision.ADMIT, "2026-03-01")
        r2 = await refer("9001", "Ngô Thị Hai", 2003, Org.HOI, None, "2026-04-05")
        await decide(r2, Decision.ADMIT, "2026-08-20")
        r3 = await refer("9002", "Đinh Văn Ba", 2001, Org.DOAN, None, "2026-05-01")
        await decide(r3, Decision.DECLINE, "2026-05-10")
        await refer("9004", "Lý Thị Bốn", 2006, Org.DOAN, None, "2026-07-15")
        r5 = await refer("9005", "Tạ Văn Năm", 2002, Org.DOAN, None, "2026-09-01")
        await decide(r5, Decision.ADMIT, "2026-10-02")
        clock.set(NOW)
        await targets.set_target(db, unit["CD-AB-THON1"].id, 2026, Org.DOAN, 5, None, clock)


@pytest.fixture
async def admin(person: Callable[..., Person], known_data: None) -> Person:
    return person("Quản trị", user_id=ADMIN_ID)


def block(*figures: int | float) -> str:
    return texts.stats_block(*figures)  # type: ignore[arg-type]


async def test_stats_for_a_year_a_half_and_a_quarter(api, bot: RunningBot, admin: Person):
    replies = await admin.send("/stats 2026 TD-MAU")
    message = replies[0]
    lines = message.text.split("\n")
    assert lines[0] == texts.stats_header("2026", "Tỉnh đoàn Mẫu")
    assert "\n".join(lines[1:5]) == block(5, 2, 5, 2, 1, 1, 1, 7, 1.0)
    assert lines[6] == texts.stats_children_title(0, 1)
    assert "\n".join(lines[7:13]) == "\n".join(
        [
            texts.stats_child(
                1, "Đoàn trường THPT Nguyễn Thị Minh Khai", 0, 0, 0, 0, 0, 0, 0, 0, 0
            ),
            texts.stats_child(2, "Đoàn xã An Bình", 2, 6, 4, 1, 4, 1, 1, 1, 1),
            texts.stats_child(3, "Đoàn phường Hòa Lạc", 1, 1, 1, 1, 1, 1, 0, 0, 0),
        ]
    )
    # The chart comes with it: a valid PNG, one bar pair per child unit.
    photo = replies[-1]
    assert photo.kind == "photo" and photo.file is not None
    assert photo.file.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = matplotlib.image.imread(io.BytesIO(photo.file), format="png")
    assert pixels.shape[1] >= 1000  # wide enough to read on a phone
    assert photo.text == texts.chart_caption("Tỉnh đoàn Mẫu", "2026", 3, 7, 1.0, "26/11/2026")

    half = (await admin.send("/stats 2026-H1 TD-MAU"))[0].text.split("\n")
    assert half[0] == texts.stats_header("2026-H1", "Tỉnh đoàn Mẫu")
    assert "\n".join(half[1:5]) == block(5, 1, 3, 1, 0, 1, 1, 7, 0.5)
    # A past quarter shows what was waiting at its end: Lý Thị Bốn, and Tạ Văn Năm (admitted
    # on 2 October), not what waits today.
    quarter = (await admin.send("/stats 2026-Q3 TD-MAU"))[0].text.split("\n")
    assert "\n".join(quarter[1:5]) == block(5, 1, 2, 0, 1, 0, 2, 7, 0.75)
    hoi = (await admin.send("/stats 2026-Q1 HOI-TINH"))[0].text.split("\n")
    assert "\n".join(hoi[1:5]) == block(1, 1, 0, 0, 1, 0, 0, 1, 0.25)


async def test_drill_down_and_back_up(bot: RunningBot, admin: Person):
    first = (await admin.send("/stats 2026 TD-MAU"))[0]
    await admin.press_data(first.message_id, first.button_data("📂 Đoàn xã An Bình"))
    shown = admin.message(first.message_id).text.split("\n")
    assert shown[0] == texts.stats_header("2026", "Đoàn xã An Bình")
    assert "\n".join(shown[1:5]) == block(4, 1, 4, 1, 1, 1, 1, 6, 1.0)
    child = texts.stats_child(1, "Chi đoàn thôn Phú Hòa", 0, 1, 1, 0, 1, 0, 0, 0, 1)
    assert "\n".join(shown[7:9]) == child
    message = admin.message(first.message_id)
    await admin.press_data(first.message_id, message.button_data(texts.BTN_UP))
    assert admin.message(first.message_id).text.split("\n")[0] == texts.stats_header(
        "2026", "Tỉnh đoàn Mẫu"
    )


async def test_refusals(bot: RunningBot, admin: Person, person: Callable[..., Person], api):
    member = person("Thường")
    assert (await member.send("/stats"))[-1].text == texts.NOT_A_LEADER
    assert (await member.send("/xuat"))[-1].text == texts.NOT_A_LEADER
    # A leader of one branch: their branch yes, the commune and other units no.
    from tests.harness import TAN_LAP, appointed

    leader = await appointed(admin, person("Hùng"), TAN_LAP, "Nguyễn Văn Hùng")
    own = (await leader.send("/stats 2026"))[0].text.split("\n")
    assert own[0] == texts.stats_header("2026", "Chi đoàn thôn Tân Lập")
    assert "\n".join(own[1:5]) == block(4, 1, 3, 1, 1, 1, 0, 5, 1.0)  # its own target: 5
    sent = len(api.calls_to("sendMessage", "sendPhoto", "sendDocument"))
    # A unit outside the reach is answered as one that does not exist.
    outside = (await leader.send("/stats 2026 X-AN-BINH"))[-1].text
    assert outside == texts.unit_not_found("X-AN-BINH")
    assert (await leader.send("/xuat 2026 TD-MAU"))[-1].text == texts.unit_not_found("TD-MAU")
    unknown = (await leader.send("/stats 2026 KHONG-CO"))[-1].text
    assert unknown == texts.unit_not_found("KHONG-CO")
    assert len(api.calls_to("sendMessage", "sendPhoto", "sendDocument")) == sent + 3
    # A drill-down button edited to a unit out of scope answers no, shows nothing.
    own_message = [m for m in leader.inbox() if m.text and m.text.startswith("📊")][-1]
    async with bot.app.bot_data["deps"].db.read() as conn:
        commune = await units.get_by_code(conn, "X-AN-BINH")
    assert commune is not None
    before = own_message.text
    await leader.press_data(own_message.message_id, f"st:v:{commune.id}:2026:0")
    assert leader.last_answer is not None and leader.last_answer["text"] == texts.NO_PERMISSION
    assert leader.message(own_message.message_id).text == before
    await leader.press_data(own_message.message_id, f"st:x:{commune.id}:2026:0")
    assert leader.last_answer["text"] == texts.NO_PERMISSION
    assert (await admin.send("/stats 2026-Q5"))[-1].text == texts.period_invalid("2026-Q5")


async def test_export_spreadsheet(bot: RunningBot, admin: Person):
    replies = await admin.send("/xuat 2026 TD-MAU")
    assert [r.text for r in replies] == [texts.HEAVY_STARTED]  # prepared in the background
    await bot.background()
    document = admin.last
    assert document.kind == "document"
    assert document.filename == texts.export_filename("2026", "TD-MAU")
    assert document.text == texts.export_caption("2026", "Tỉnh đoàn Mẫu")
    assert document.file is not None
    check_workbook(document.file, "Ngày 26 tháng 11 năm 2026")


async def test_export_doan_and_hoi_together_or_one_of_them(bot: RunningBot, admin: Person):
    """The admin holds both roots: without a unit code, asked which; both: one workbook with a
    section each."""
    asked = (await admin.send("/xuat 2026"))[-1]
    assert asked.text == texts.pick_top_export("2026")
    await admin.press(texts.BTN_BOTH_ORGS)
    await bot.background()
    both = admin.last
    assert both.filename == texts.export_filename("2026", "TD-MAU-HOI-TINH")
    names = "Tỉnh đoàn Mẫu và Hội LHTN Việt Nam tỉnh Mẫu"
    assert both.text == texts.export_caption("2026", names)
    assert both.file is not None
    book = load_workbook(io.BytesIO(both.file))
    assert book.sheetnames == [
        texts.SHEET_REPORT,
        "Đoàn – Cấp xã",
        "Đoàn – Chi đoàn",
        "Hội – Cấp xã",
        "Hội – Chi hội",
        texts.SHEET_ADMISSIONS,
        texts.SHEET_COMMENDATION,
        texts.SHEET_MOVES,
    ]
    firsts = [row[0].value for row in book[texts.SHEET_REPORT].iter_rows()]
    assert "III. " + texts.REPORT_COMBINED in firsts
    admitted = [row[1].value for row in book[texts.SHEET_ADMISSIONS].iter_rows(min_row=3)]
    assert admitted[:4] == ["Mạc Văn Sáu", "Ngô Văn Một", "Ngô Thị Hai", "Tạ Văn Năm"]
    await admin.send("/xuat 2026 hội")
    await bot.background()
    hoi = admin.last
    assert hoi.filename == texts.export_filename("2026", "HOI-TINH")
    assert hoi.file is not None
    hoi_book = load_workbook(io.BytesIO(hoi.file))
    assert hoi_book.sheetnames == [
        texts.SHEET_REPORT,
        "Cấp xã",
        "Chi hội",
        texts.SHEET_ADMISSIONS,
        texts.SHEET_COMMENDATION,
        texts.SHEET_MOVES,
    ]


def rounded(values: list[object]) -> list[object]:
    """Numbers stay numbers in the file; floats are compared to 9 places."""
    return [round(v, 9) if isinstance(v, float) else v for v in values]


def check_workbook(data: bytes, place_date: str | None) -> None:
    """The report sheet's heading and table (its totals are /stats'), the level sheets, and
    the admissions list, as tests/test_report_workbook.py checks them in detail."""
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [
        texts.SHEET_REPORT,
        "Cấp xã",
        "Chi đoàn",
        texts.SHEET_ADMISSIONS,
        texts.SHEET_COMMENDATION,
        texts.SHEET_MOVES,
    ]
    report = book[texts.SHEET_REPORT]
    assert report["A1"].value == "ĐOÀN TNCS HỒ CHÍ MINH"
    assert report["A2"].value == "BCH TỈNH ĐOÀN MẪU"
    if place_date is not None:
        assert report["G4"].value == place_date
    rows = [[c.value for c in row] for row in report.iter_rows()]
    header = next(i for i, row in enumerate(rows) if row[0] == "STT")
    assert rows[header] == texts.REPORT_TABLE_HEADERS
    body, totals = rows[header + 1 : header + 4], rows[header + 4]
    assert [row[1] for row in body] == [
        "Đoàn phường Hòa Lạc",
        "Đoàn trường THPT Nguyễn Thị Minh Khai",
        "Đoàn xã An Bình",
    ]
    assert totals[1] == texts.REPORT_TOTAL
    # members, met, share, introduced, Đoàn, Hội, admitted, target, share, declined, pending
    assert rounded(totals[2:13]) == rounded([5, 2, 0.4, 5, 2, 1, 3, 7, 3 / 7, 1, 1])
    assert rounded(body[2][2:13]) == rounded([4, 1, 0.25, 4, 1, 1, 2, 6, 2 / 6, 1, 1])
    for column in [2, 3, 5, 6, 7, 8, 9, 11, 12]:
        assert totals[column] == sum(row[column] for row in body)
    assert report["E" + str(header + 2)].number_format == "0%"
    communes = [[c.value for c in row] for row in book["Cấp xã"].iter_rows(min_row=3)]
    assert [row[1] for row in communes] == [row[1] for row in body] + [texts.REPORT_TOTAL]
    assert len(list(book["Chi đoàn"].iter_rows(min_row=3))) == 6 + 1
    admitted = book[texts.SHEET_ADMISSIONS]
    assert [c.value for c in admitted[2]] == texts.REPORT_ADMISSION_HEADERS
    rows = [[c.value for c in row] for row in admitted.iter_rows(min_row=3)]
    assert rows[:3] == [
        [
            1,
            "Ngô Văn Một",
            2005,
            21,
            "Đoàn",
            "Chi đoàn thôn Tân Lập",
            "Trần Văn An",
            datetime(2026, 2, 10),
            datetime(2026, 3, 1),
            None,
            "091****678",
        ],
        [
            2,
            "Ngô Thị Hai",
            2003,
            23,
            "Hội",
            "Chi đoàn thôn Tân Lập",
            "Trần Văn An",
            datetime(2026, 4, 5),
            datetime(2026, 8, 20),
            None,
            None,
        ],
        [
            3,
            "Tạ Văn Năm",
            2002,
            24,
            "Đoàn",
            "Chi đoàn khu phố 3",
            "Hồ Văn Em",
            datetime(2026, 9, 1),
            datetime(2026, 10, 2),
            None,
            None,
        ],
    ]
    assert rows[3][1] == texts.admissions_total(3, 2, 1)
    assert admitted["I3"].number_format == "DD/MM/YYYY"
    assert admitted.column_dimensions["B"].width >= len("Họ và tên thanh niên")


async def test_cli_export(known_data: None, db_path: Path, tmp_path: Path, settings: Settings):
    await asyncio.to_thread(_cli_export, db_path, tmp_path)


def _cli_export(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "baocao.xlsx"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parent.parent), DATABASE_PATH=str(db_path))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "--period",
            "2026",
            "--unit",
            "TD-MAU",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == texts.exported(str(out))
    check_workbook(out.read_bytes(), None)  # the command's date is today's
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "--period",
            "2026-Q9",
            "--unit",
            "TD-MAU",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == texts.period_invalid("2026-Q9")
