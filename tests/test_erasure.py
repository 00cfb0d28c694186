"""/xoadulieu end to end: after the confirmation nothing of the person is left, neither in any
row (their chat id included) nor in the bytes of the database file and its WAL, while the bot
still runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot import texts
from storage.clock import ManualClock
from storage.db import Database
from storage.validation import Org, name_key
from tests.harness import TAN_LAP, Person, RunningBot, appoint_link, payload_in, refer, rows

MEMBER_NAME = "Đặng Thị Thuỷ Tiên"
MEMBER_PHONE = "0987654321"  # shared as +84 987 654 321
YOUTH_NAME = "Vi Thị Hồng Nhung"
YOUTH_PHONE = "0977111222"


async def _register_as_unit_admin(admin: Person, tien: Person) -> None:
    """Tiên opens an admin link of Tân Lập and registers, sharing her phone."""
    payload = await appoint_link(admin, TAN_LAP, texts.BTN_ADMIN_LINK)
    await tien.send(f"/start {payload}")
    await tien.send(MEMBER_NAME)
    await tien.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    replies = await tien.share_contact("+84 987 654 321")
    assert any(r.text == texts.grant_received("admin", TAN_LAP[-1]) for r in replies)


async def _leave_traces(
    bot: RunningBot, clock: ManualClock, tien: Person, branch: dict[str, Person]
) -> None:
    """What makes rows of others name Tiên: a grant, an admission, a nudge she asked for and
    one she received; and a youth of her own."""
    leader, lan = branch["leader"], branch["lan"]
    await tien.send("/bonhiem")  # her one unit: its panel straight away
    await tien.press(texts.BTN_LEADER_LINK)
    await refer(lan, "Lê Văn An", "2005", None, Org.DOAN)
    await refer(tien, YOUTH_NAME, "12/05/2005", "0977 111 222", Org.DOAN)
    await tien.send("/duyet")
    await tien.press(texts.BTN_ADMIT)  # Lan's, the oldest
    await tien.press(texts.BTN_TODAY)
    assert (await leader.send("/nhacnho"))[-1].text == texts.nudging(2)  # Tiên and Tú
    await bot.idle()
    clock.advance(timedelta(days=1))  # one nudge per unit and day
    assert (await tien.send("/nhacnho"))[-1].text == texts.nudging(2)  # Hùng and Tú
    await bot.idle()


async def _values_naming(bot: RunningBot, user_ref: str) -> list[tuple[str, str, object]]:
    """Every (table, column, value) anywhere whose value is, or ends with, the user id."""
    tables = await rows(bot, "SELECT name FROM sqlite_master WHERE type = 'table'")
    found = []
    for table in (t["name"] for t in tables):
        for row in await rows(bot, f'SELECT * FROM "{table}"'):
            for column, value in row.items():
                if value is not None and str(value).endswith(user_ref):
                    found.append((table, column, value))
    return found


def _files(db_path: Path) -> dict[str, bytes]:
    paths = [db_path, db_path.with_name(db_path.name + "-wal")]
    return {p.name: p.read_bytes() for p in paths if p.exists()}


async def test_erasure_leaves_no_trace(
    bot: RunningBot,
    admin: Person,
    branch: dict[str, Person],
    person: Callable[..., Person],
    db_path: Path,
    clock: ManualClock,
):
    tien = person("Tiên")
    await _register_as_unit_admin(admin, tien)
    await _leave_traces(bot, clock, tien, branch)
    user_ref = str(tien.user.id)
    # The scenario did put her id in the rows of others (else this test would prove nothing).
    named = {(table, column) for table, column, _ in await _values_naming(bot, user_ref)}
    assert {
        ("members", "user_ref"),
        ("grants", "created_by"),
        ("referral_audit", "actor_ref"),
        ("reminder_runs", "requested_by"),
        ("reminder_deliveries", "user_ref"),
    } <= named, named
    assert (await tien.send("/xoadulieu"))[-1].text == texts.CONFIRM_ERASE
    await tien.press(texts.BTN_ERASE_YES)
    assert tien.last_text == texts.ERASED

    # The bot still runs: what it holds open is what is read here.
    assert await _values_naming(bot, user_ref) == []
    assert await rows(bot, "SELECT created_by FROM grants WHERE created_by = ''") != []
    secrets = [MEMBER_NAME, MEMBER_PHONE, YOUTH_NAME, name_key(YOUTH_NAME), YOUTH_PHONE]
    leaks = [
        (file, secret)
        for file, content in _files(db_path).items()
        for secret in secrets
        if secret.encode() in content
    ]
    assert leaks == []
    # What others did stays: Lan's admission, without who decided it.
    admitted = await rows(bot, "SELECT full_name, status, decided_by FROM referrals")
    assert admitted == [{"full_name": "Lê Văn An", "status": "admitted", "decided_by": None}]
    assert (await tien.send("/cuatoi"))[-1].text == texts.NOT_REGISTERED


async def test_a_link_made_by_an_erased_admin_still_works(
    bot: RunningBot, admin: Person, person: Callable[..., Person]
):
    """Her unused link still appoints; nobody is told, as nobody made it any more."""
    tien = person("Tiên")
    await _register_as_unit_admin(admin, tien)
    await tien.send("/bonhiem")
    payload = payload_in((await tien.press(texts.BTN_LEADER_LINK))[-1].text)
    await tien.send("/xoadulieu")
    await tien.press(texts.BTN_ERASE_YES)
    before = len(tien.inbox())
    hoa = person("Hoa")
    await hoa.send(f"/start {payload}")
    await hoa.send("Lý Thị Hoa")
    await hoa.press(texts.BTN_MEMBERSHIP[Org.DOAN])
    replies = await hoa.send(texts.BTN_SKIP)
    assert replies[-1].text == texts.grant_received("leader", TAN_LAP[-1])
    assert len(tien.inbox()) == before  # nobody left to tell


async def test_deleted_rows_are_overwritten(db_path: Path):
    """Asked for, not left to the build: Debian's SQLite zeroes deleted content by default,
    python.org's and others' do not."""
    async with (
        Database(db_path) as db,
        db.read() as conn,
        conn.execute("PRAGMA secure_delete") as cur,
    ):
        row = await cur.fetchone()
    assert row is not None and row[0] == 1
