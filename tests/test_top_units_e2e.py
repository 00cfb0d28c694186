"""Several top units, a unit typed by its code or part of its name, a wrong period (issue 9,
item 7), end to end on Telegram (buttons) and Zalo (numbered lines), on the known data set of
tests/test_stats_e2e.py."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from bot import texts
from bot.settings import Settings
from storage import members, roles, stats, units
from storage.clock import ManualClock
from storage.conversations import ConversationKey
from storage.db import Database
from storage.periods import Period
from storage.roles import Role
from storage.validation import MemberIn, Org
from tests.conftest import ADMIN_ID, NOW
from tests.fakebotapi import FakeBotApi
from tests.fakezalo import FakeZaloApi
from tests.harness import (
    Person,
    RunningBot,
    ZaloPerson,
    choices_in,
    make_settings,
    rows,
    serving_files,
)
from tests.test_stats_e2e import block, known_data  # noqa: F401  (known_data: a fixture)

ZALO_ADMIN = "b1b1b1b1b1b1b1b1b1b1"
DOAN, HOI = "Tỉnh đoàn Mẫu", "Hội LHTN Việt Nam tỉnh Mẫu"
# What /stats shows for 2026 (members, met, introduced, admitted Đoàn, Hội, declined, pending,
# target, share expected), as tests/test_stats_e2e.py establishes them from the known data.
FIGURES = {
    "TD-MAU": (5, 2, 5, 2, 1, 1, 1, 7, 1.0),
    "HOI-TINH": (1, 1, 0, 0, 1, 0, 0, 1, 1.0),
    "X-AN-BINH": (4, 1, 4, 1, 1, 1, 1, 6, 1.0),
}


@pytest.fixture
def settings(api: FakeBotApi, zalo: FakeZaloApi, db_path: Path) -> Settings:
    """Both channels, and the HTTP server that lets Zalo fetch charts and reports by link."""
    admins = [ADMIN_ID, f"zalo:{ZALO_ADMIN}"]
    return make_settings(api, db_path, zalo, admin_ids=admins, **serving_files())


@pytest.fixture
async def admin(person: Callable[..., Person], known_data: None) -> Person:  # noqa: F811
    return person("Quản trị", user_id=ADMIN_ID)


@pytest.fixture
def boss(zalo: FakeZaloApi, bot: RunningBot, known_data: None) -> ZaloPerson:  # noqa: F811
    return ZaloPerson(zalo, bot, ZALO_ADMIN, "Sếp")


YEAR = Period(2026)


async def counted(bot: RunningBot, code: str, period: Period = YEAR) -> tuple:
    """The unit's figures for the period (2026 unless said) as the maintained counters hold."""
    async with bot.deps.db.read() as conn:
        unit = await units.get_by_code(conn, code)
    assert unit is not None
    f = await stats.figures(bot.deps.db, unit.id, period)
    assert f is not None
    return (
        f.members,
        f.met,
        f.introduced,
        f.admitted_doan,
        f.admitted_hoi,
        f.declined,
        f.pending,
        f.target,
        f.expected_share,
    )


async def shows(bot: RunningBot, text: str | None, code: str, name: str) -> None:
    """`text` is /stats' report of that unit for 2026, with the counters' numbers."""
    assert text is not None
    assert text.splitlines()[0] == texts.stats_header("2026", name)
    assert await counted(bot, code) == FIGURES[code]
    assert block(*FIGURES[code]) in text


def labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [label for row in message.buttons() for label, _ in row]


def numbered(text: str | None) -> list[str]:
    return [label for _, label in choices_in(text or "")]


async def leader_of(bot: RunningBot, user_id: int, home: str, codes: list[str]) -> None:
    """A member registered in `home` who leads every unit listed."""
    db = bot.deps.db
    async with db.read() as conn:
        found = [await units.get_by_code(conn, c) for c in [home, *codes]]
    ids = [u.id for u in found if u is not None]
    key = ConversationKey("telegram", str(user_id), str(user_id))
    data = MemberIn(full_name="Lê Văn Lãnh", membership=Org.DOAN)
    member = await members.register(db, key, ids.pop(0), data, ManualClock(NOW))
    async with db.write() as conn:
        for unit_id in ids:
            await roles.grant(conn, member.id, unit_id, Role.LEADER, None, ManualClock(NOW))


# --- several top units ------------------------------------------------------------------------


async def test_an_admin_of_both_trees_is_asked_which_on_telegram(bot: RunningBot, admin: Person):
    asked = await admin.send("/stats")
    assert [m.text for m in asked] == [texts.pick_top_stats("2026")]
    assert labels(asked[0]) == [HOI, DOAN, texts.BTN_BOTH_ORGS]  # Vietnamese order, then both

    replies = await admin.press(DOAN)
    assert admin.message(asked[0].message_id).buttons() == []  # answered: no choice left
    await shows(bot, replies[0].text, "TD-MAU", DOAN)
    assert replies[-1].kind == "photo"

    await admin.send("/stats")
    replies = await admin.press(HOI)
    await shows(bot, replies[0].text, "HOI-TINH", HOI)

    # Both: each tree's report in turn, Đoàn then Hội, each with its chart.
    await admin.send("/stats 2026")
    replies = await admin.press(texts.BTN_BOTH_ORGS)
    assert [r.kind for r in replies] == ["text", "photo", "text", "photo"]
    await shows(bot, replies[0].text, "TD-MAU", DOAN)
    await shows(bot, replies[2].text, "HOI-TINH", HOI)
    assert replies[1].text == texts.chart_caption(DOAN, "2026", 3, 7, 1.0, "26/11/2026")
    assert replies[3].text == texts.chart_caption(HOI, "2026", 1, 1, 1.0, "26/11/2026")

    # The period typed is kept through the question.
    await admin.send("/stats 2026-Q1")
    replies = await admin.press(HOI)
    assert replies[0].text.splitlines()[0] == texts.stats_header("2026-Q1", HOI)
    assert block(1, 1, 0, 0, 1, 0, 0, 1, 0.25) in replies[0].text


async def test_the_export_of_both_trees_is_one_workbook(bot: RunningBot, admin: Person):
    asked = (await admin.send("/xuat"))[-1]
    assert asked.text == texts.pick_top_export("2026")
    assert labels(asked) == [HOI, DOAN, texts.BTN_BOTH_ORGS]
    replies = await admin.press(texts.BTN_BOTH_ORGS)
    assert [r.text for r in replies] == [texts.HEAVY_STARTED]  # prepared in the background
    await bot.background()
    both = admin.last
    assert both.kind == "document" and both.file is not None
    assert both.filename == texts.export_filename("2026", "TD-MAU-HOI-TINH")
    book = load_workbook(io.BytesIO(both.file))
    assert book.sheetnames[:5] == [
        texts.SHEET_REPORT,
        "Đoàn – Cấp xã",
        "Đoàn – Chi đoàn",
        "Hội – Cấp xã",
        "Hội – Chi hội",
    ]
    communes = [r[1].value for r in book["Đoàn – Cấp xã"].iter_rows(min_row=3)]
    assert "Đoàn xã An Bình" in communes and "Hội LHTN xã An Bình" not in communes
    hoi = [r[1].value for r in book["Hội – Cấp xã"].iter_rows(min_row=3)]
    assert "Hội LHTN xã An Bình" in hoi
    report = [[c.value for c in row] for row in book[texts.SHEET_REPORT].iter_rows()]
    names = {row[1] for row in report if len(row) > 1}
    assert {"Đoàn xã An Bình", "Hội LHTN xã An Bình"} <= names

    # One tree only: the question's other choice.
    await admin.send("/xuat 2026")
    await admin.press(HOI)
    await bot.background()
    assert admin.last.filename == texts.export_filename("2026", "HOI-TINH")


async def test_a_leader_of_two_units_is_asked_and_one_unit_is_not(
    bot: RunningBot, admin: Person, person: Callable[..., Person]
):
    await leader_of(bot, 610_001, "CD-NTMK-12A1", ["X-AN-BINH", "P-HOA-LAC"])
    lead = person("Lãnh", user_id=610_001)
    asked = (await lead.send("/stats"))[-1]
    assert labels(asked) == ["Đoàn phường Hòa Lạc", "Đoàn xã An Bình", texts.btn_all_units(2)]
    replies = await lead.press(texts.btn_all_units(2))
    headers = [r.text.splitlines()[0] for r in replies if r.kind == "text"]
    assert headers == [
        texts.stats_header("2026", "Đoàn phường Hòa Lạc"),
        texts.stats_header("2026", "Đoàn xã An Bình"),
    ]
    await shows(bot, replies[2].text, "X-AN-BINH", "Đoàn xã An Bình")
    # A unit inside another one held is no top unit: a single top, no question.
    await leader_of(bot, 610_002, "CD-NTMK-11B2", ["X-AN-BINH", "CD-AB-THON1"])
    single = person("Đơn", user_id=610_002)
    replies = await single.send("/stats")
    await shows(bot, replies[0].text, "X-AN-BINH", "Đoàn xã An Bình")
    # A press for "all" from someone with one top unit does nothing.
    await single.press_data(replies[0].message_id, "st:a:0:2026:0")
    assert single.last_answer is not None and single.last_answer["text"] == texts.NO_PERMISSION


async def test_zalo_asks_by_numbers_and_sends_both_trees(
    bot: RunningBot, zalo: FakeZaloApi, boss: ZaloPerson
):
    asked = await boss.send("thống kê")
    assert numbered(asked[-1].text) == [HOI, DOAN, texts.BTN_BOTH_ORGS]
    assert asked[-1].text.startswith(texts.pick_top_stats("2026"))
    replies = await boss.choose(texts.BTN_BOTH_ORGS)
    reports = [r for r in replies if r.kind == "text" and r.text and r.text.startswith("📊")]
    assert len(reports) == 2
    await shows(bot, reports[0].text, "TD-MAU", DOAN)
    await shows(bot, reports[1].text, "HOI-TINH", HOI)
    photos = [r for r in replies if r.kind == "photo"]
    assert len(photos) == 2 and all(p.photo_bytes.startswith(b"\x89PNG") for p in photos)

    replies = await boss.send("thong ke 2026")
    replies = await boss.choose(DOAN)
    await shows(bot, replies[0].text, "TD-MAU", DOAN)

    # A name typed: the units that match, numbered, each with its parent.
    asked = await boss.send("thống kê an bình")
    assert numbered(asked[-1].text) == [
        texts.unit_choice("Đoàn xã An Bình", DOAN),
        texts.unit_choice("Hội LHTN xã An Bình", HOI),
    ]
    replies = await boss.send("1")
    await shows(bot, replies[0].text, "X-AN-BINH", "Đoàn xã An Bình")
    unknown = await boss.send("thống kê Không Có")
    assert [r.text for r in unknown] == [texts.unit_not_found("Không Có")]

    await boss.send("xuat 2026")  # one word alone would be the report's "Xuất Excel" choice
    assert boss.last_text.startswith(texts.pick_top_export("2026"))
    await boss.choose(texts.BTN_BOTH_ORGS)
    await bot.background()
    url = re.search(r"https?://\S+", boss.last_text)
    assert url is not None
    async with httpx.AsyncClient() as client:
        got = await client.get(url[0])
    assert got.status_code == 200
    book = load_workbook(io.BytesIO(got.content))
    assert {"Đoàn – Cấp xã", "Hội – Cấp xã"} <= set(book.sheetnames)


# --- a unit typed -----------------------------------------------------------------------------


async def test_a_unit_by_code_or_part_of_its_name(bot: RunningBot, admin: Person):
    # The code in any case, or the whole name without diacritics: that unit at once.
    replies = await admin.send("/stats 2026 x-an-binh")
    await shows(bot, replies[0].text, "X-AN-BINH", "Đoàn xã An Bình")
    replies = await admin.send("/stats doan xa an binh")
    await shows(bot, replies[0].text, "X-AN-BINH", "Đoàn xã An Bình")
    # Part of a name: the units of every level that match, each with its parent.
    asked = (await admin.send("/stats an bình"))[-1]
    assert asked.text == texts.units_many("an bình", False)
    assert labels(asked) == [
        texts.unit_choice("Đoàn xã An Bình", DOAN),
        texts.unit_choice("Hội LHTN xã An Bình", HOI),
    ]
    replies = await admin.press("Đoàn xã An Bình")
    await shows(bot, replies[0].text, "X-AN-BINH", "Đoàn xã An Bình")
    # "hội": the top unit of the Hội.
    replies = await admin.send("/stats hội")
    await shows(bot, replies[0].text, "HOI-TINH", HOI)
    # At most eight choices, and a word to narrow the search.
    many = (await admin.send("/stats n"))[-1]
    assert many.text == texts.units_many("n", True)
    assert len(labels(many)) == texts.UNIT_CHOICES_SHOWN
    # /xuat takes a name too.
    await admin.send("/xuat 2026 xa an binh")
    await admin.press("Hội LHTN xã An Bình")
    await bot.background()
    assert admin.last.filename == texts.export_filename("2026", "HOI-X-AN-BINH")


async def test_the_other_commands_take_a_unit_typed(bot: RunningBot, admin: Person):
    # /donvi: several match, each with its parent; the choice shows the unit.
    asked = (await admin.send("/donvi thôn phú hòa"))[-1]
    assert labels(asked) == [
        texts.unit_choice("Chi đoàn thôn Phú Hòa", "Đoàn xã An Bình"),
        texts.unit_choice("Chi hội thôn Phú Hòa", "Hội LHTN xã An Bình"),
    ]
    replies = await admin.press("Chi đoàn thôn Phú Hòa")
    assert "Chi đoàn thôn Phú Hòa" in (replies[-1].text or "")
    # /chitieu with a code goes straight to the target's question.
    replies = await admin.send("/chitieu CD-AB-THON1")
    assert texts.ASK_TARGET_ORG in (replies[-1].text or "")
    assert "Chi đoàn thôn Tân Lập" in (replies[-1].text or "")
    await admin.send("/huy")
    # /nhacnho: a branch where nobody waits for a nudge.
    replies = await admin.send("/nhacnho 12a1")
    assert replies[-1].text == texts.NOBODY_TO_NUDGE
    assert (await admin.send("/nhacnho KHONG-CO"))[-1].text == texts.unit_not_found("KHONG-CO")
    # /vinhdanh with a name.
    replies = await admin.send("/vinhdanh 2026 khu pho 3")
    assert replies[-1].text.splitlines()[0].endswith("Chi đoàn khu phố 3, 2026")
    # /vinhdanh without a unit, for someone with both trees: asked which.
    asked = (await admin.send("/vinhdanh"))[-1]
    assert asked.text == texts.pick_top_honours("2026")
    assert labels(asked) == [HOI, DOAN]
    replies = await admin.press(HOI)
    assert HOI in (replies[-1].text or "")


async def test_a_unit_outside_the_reach_answers_as_an_unknown_one(
    api: FakeBotApi, bot: RunningBot, admin: Person, person: Callable[..., Person]
):
    await leader_of(bot, 610_003, "CD-NTMK-12A1", ["CD-AB-THON1"])
    lead = person("Tân", user_id=610_003)
    commands = ["/stats", "/xuat 2026", "/donvi", "/chitieu", "/nhacnho", "/vinhdanh"]
    before: dict[str, list[tuple[str | None, list]]] = {}
    for command in commands:
        replies = await lead.send(f"{command} X-AN-BINH")  # exists, outside the reach
        before[command] = [(r.text, r.buttons()) for r in replies]
        assert before[command] == [(texts.unit_not_found("X-AN-BINH"), [])], command
    # Nothing about it either by part of its name.
    assert (await lead.send("/stats xa an binh"))[-1].text == texts.unit_not_found("xa an binh")
    # The same words once the unit no longer exists by that code: byte for byte the same.
    async with bot.deps.db.write() as conn:
        await conn.execute("UPDATE units SET code = 'X-AN-BINH-OLD' WHERE code = 'X-AN-BINH'")
    for command in commands:
        replies = await lead.send(f"{command} X-AN-BINH")
        assert [(r.text, r.buttons()) for r in replies] == before[command], command
    # Their own unit, by a piece of its name, works.
    replies = await lead.send("/stats tân lập")
    assert replies[0].text.splitlines()[0] == texts.stats_header("2026", "Chi đoàn thôn Tân Lập")
    assert await rows(bot, "SELECT code FROM units WHERE code = 'X-AN-BINH'") == []


# --- a wrong period ---------------------------------------------------------------------------


async def test_a_wrong_period_is_named_with_the_forms_accepted(
    bot: RunningBot, admin: Person, boss: ZaloPerson
):
    wrong = {
        "/stats 2026-Q5": "2026-Q5",
        "/stats 1999": "1999",
        "/stats 2026q5 TD-MAU": "2026q5",
        "/xuat 2026-H3": "2026-H3",
        # The other spellings of a period, wrong: said so, never looked for as a unit.
        "/stats Q5/2026": "Q5/2026",
        "/stats quý 5": "quý 5",
        "/stats TD-MAU h3/2026": "h3/2026",
        "/stats q3/1999": "q3/1999",
        "/stats 3/2026": "3/2026",
        "/stats Quý 7 năm 2026 X-AN-BINH": "Quý 7 năm 2026",
        "/vinhdanh q5-2026": "q5-2026",
    }
    for command, typed in wrong.items():
        replies = await admin.send(command)
        assert [r.text for r in replies] == [texts.period_invalid(typed)], command
        assert "2026, 2026-H1" in replies[0].text and "2026-Q3" in replies[0].text
        assert replies[0].text != texts.unit_not_found(typed)
    assert (await admin.send("/vinhdanh 1999"))[-1].text == texts.period_invalid("1999")
    assert (await admin.send("/stats 2026 2025"))[-1].text == texts.STATS_USAGE
    assert (await boss.send("thong ke 2026-Q5"))[-1].text == texts.period_invalid("2026-Q5")
    assert (await boss.send("thống kê quý 5"))[-1].text == texts.period_invalid("quý 5")
    # A "/" with no year after it is no period: "10/1" names a class in the South.
    assert (await admin.send("/stats 10/1"))[-1].text == texts.unit_not_found("10/1")


async def test_a_period_spelled_otherwise_is_that_period(bot: RunningBot, admin: Person):
    q3 = await counted(bot, "TD-MAU", Period(2026, "Q3"))
    assert q3 != await counted(bot, "TD-MAU")  # the quarter's figures, not the year's
    canonical = (await admin.send("/stats 2026-Q3 TD-MAU"))[0].text
    assert canonical is not None
    assert canonical.splitlines()[0] == texts.stats_header("2026-Q3", DOAN)
    assert block(*q3) in canonical
    spellings = [
        "Q3/2026",
        "2026Q3",
        "q3-2026",
        "2026/q3",
        "2026 quý 3",
        "quý 3 năm 2026",
        "QUÝ 3/2026",
        "quy 3",  # no year: this year's
        "q3",
        "q3 2026",  # a quarter and a year typed apart
    ]
    for typed in spellings:
        replies = await admin.send(f"/stats {typed} TD-MAU")
        assert replies[0].text == canonical, typed
    replies = await admin.send("/stats q3 TD-MAU 2026")  # the unit between them
    assert replies[0].text == canonical
    half = (await admin.send("/stats H1/2026 TD-MAU"))[0].text
    assert half == (await admin.send("/stats 2026-H1 TD-MAU"))[0].text
    assert half is not None and half.splitlines()[0] == texts.stats_header("2026-H1", DOAN)

    # Several top units: the question keeps the period; /vinhdanh and /xuat read it too.
    asked = (await admin.send("/stats quý 3"))[-1]
    assert asked.text == texts.pick_top_stats("2026-Q3")
    assert (await admin.press(DOAN))[0].text == canonical
    replies = await admin.send("/vinhdanh quý 3 khu pho 3")  # "3" twice: a quarter, a name
    title = texts.honours("Chi đoàn khu phố 3", "2026-Q3", [], []).splitlines()[0]
    assert replies[-1].text.splitlines()[0] == title
    await admin.send("/xuat Q3/2026 X-AN-BINH")
    await bot.background()
    assert admin.last.filename == texts.export_filename("2026-Q3", "X-AN-BINH")


# --- numbers after a command that takes none ----------------------------------------------------


async def test_a_number_after_a_picker_command_is_no_unit(bot: RunningBot, admin: Person):
    targets_before = await rows(bot, "SELECT * FROM targets ORDER BY unit_id, org")
    for command in ["/chitieu", "/nhacnho", "/donvi", "/moi", "/bonhiem"]:
        bare = [(r.text, r.buttons()) for r in await admin.send(command)]
        assert bare and bare[-1][1], command  # the usual question, with its choices
        for extra in ["20", "2026", "5", "1.000", "Q3/2026", "quý 3"]:
            replies = await admin.send(f"{command} {extra}")
            assert [(r.text, r.buttons()) for r in replies] == bare, (command, extra)
    assert await rows(bot, "SELECT * FROM targets ORDER BY unit_id, org") == targets_before
    assert await rows(bot, "SELECT journey FROM conversations") == []  # nothing begun

    # A name with a number in it is still that name; a number beside a code is left aside.
    replies = await admin.send("/donvi khu pho 3")
    assert "Chi đoàn khu phố 3" in (replies[-1].text or "")
    replies = await admin.send("/donvi 2026 khu pho 3")
    assert "Chi đoàn khu phố 3" in (replies[-1].text or "")
    replies = await admin.send("/chitieu CD-AB-THON1 20")
    assert texts.ASK_TARGET_ORG in (replies[-1].text or "")
    await admin.press(texts.ORG_SHORT[Org.DOAN])
    replies = await admin.send("20")
    assert (
        replies[-1].text.splitlines()[0]
        == (texts.target_saved("Chi đoàn thôn Tân Lập", 2026, Org.DOAN, 20, 0).splitlines()[0])
    )
    thon = await rows(bot, "SELECT id FROM units WHERE code = 'CD-AB-THON1'")
    got = await rows(bot, "SELECT year, org, value FROM targets WHERE unit_id = ?", thon[0]["id"])
    assert got == [{"year": 2026, "org": "doan", "value": 20}]
    # A unit that does not exist is still said so, with the words typed.
    assert (await admin.send("/nhacnho KHONG-CO 5"))[-1].text == texts.unit_not_found("KHONG-CO 5")


async def test_zalo_reads_a_period_spelled_otherwise_and_skips_numbers(
    bot: RunningBot, boss: ZaloPerson
):
    asked = await boss.send("thống kê Q3/2026")
    assert asked[-1].text is not None
    assert asked[-1].text.startswith(texts.pick_top_stats("2026-Q3"))
    assert numbered(asked[-1].text) == [HOI, DOAN, texts.BTN_BOTH_ORGS]
    replies = await boss.choose(DOAN)
    text = replies[0].text
    assert text is not None and text.splitlines()[0] == texts.stats_header("2026-Q3", DOAN)
    assert block(*await counted(bot, "TD-MAU", Period(2026, "Q3"))) in text
    replies = await boss.send("thong ke quy 3 TD-MAU")
    assert replies[0].text == text

    bare = [r.text for r in await boss.send("chỉ tiêu")]
    assert numbered(bare[-1]) == [HOI, DOAN]
    for extra in ["20", "2026", "quý 3"]:
        assert [r.text for r in await boss.send(f"chỉ tiêu {extra}")] == bare, extra
    bare = [r.text for r in await boss.send("nhắc nhở")]
    assert [r.text for r in await boss.send("nhắc nhở 5")] == bare
    # The list shown after the number is answered as usual.
    await boss.send("chi tieu 20")
    replies = await boss.choose(HOI)
    assert texts.BTN_CHOOSE_HERE in numbered(replies[-1].text)


# --- the search underneath ----------------------------------------------------------------------


async def test_search_within_finds_nothing_outside_the_subtrees(db_path: Path, sample_units):
    async with Database(db_path) as db, db.read() as conn:
        code = {u.code: u for u in await units.tops(conn, list(range(1, 100)))}
        assert list(code) == ["HOI-TINH", "TD-MAU"]  # the roots, in Vietnamese order
        commune = await units.get_by_code(conn, "X-AN-BINH")
        assert commune is not None

        async def found(query: str, roots: list[int]) -> list[str]:
            return [u.code for u in await units.search_within(conn, query, roots, 9)]

        everything = [code["TD-MAU"].id, code["HOI-TINH"].id]
        assert await found("x-an-binh", everything) == ["X-AN-BINH"]  # the code, any case
        assert await found("X-AN-BINH", [commune.id]) == ["X-AN-BINH"]  # the root itself
        assert await found("an binh", everything) == ["X-AN-BINH", "HOI-X-AN-BINH"]
        assert await found("Đoàn xã An Bình", everything) == ["X-AN-BINH"]  # the whole name
        assert await found("thon", [commune.id]) == ["CD-AB-THON2", "CD-AB-THON1"]
        assert await found("3", everything) == ["CD-HL-KP3"]  # shorter than a trigram
        # Outside the subtree: nothing, by code, by name or by a piece of either.
        for query in ["HOI-X-AN-BINH", "Hội LHTN xã An Bình", "hoi", "TD-MAU", "kp3"]:
            assert await found(query, [commune.id]) == [], query
        assert await found("an binh", []) == []
