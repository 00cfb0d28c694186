"""What each reminder says to whom: figures from storage, words from the catalog."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot import texts
from scheduler.calendar import Kind, Occurrence, ReminderConfig
from storage import audience, stats, unitview
from storage.audience import Recipient
from storage.db import Database
from storage.periods import Period

NAMES_SHOWN = 10
SUMMARY_LINES = 15
MESSAGE_LIMIT = 4000  # Telegram's is 4096 characters; leave room for the closing note
Message = tuple[str, str, str]  # (channel, user_ref, body)


async def compose(
    db: Database,
    occurrence: Occurrence,
    config: ReminderConfig,
    tz: ZoneInfo,
    admin_ids: list[str],
    today: date | None = None,
) -> list[Message]:
    period = occurrence.period
    # The figures are those of the period's year, as of the occurrence's day.
    day = min(occurrence.due.astimezone(tz).date(), period.last_day)
    match occurrence.kind:
        case Kind.NUDGE:
            people = await audience.members_not_met(db, period.year)
            return [(p.channel, p.user_ref, texts.MEMBER_NUDGE) for p in people]
        case Kind.QUARTER_WARNING:
            # Sent late after a downtime, it says how many days are really left.
            days = (
                max(1, (period.last_day - max(day, today)).days + 1)
                if today
                else (config.quarter_warning.days_before_end)
            )
            return [
                (r.channel, r.user_ref, await _warning(db, r, occurrence, day, tz, days))
                for r in await audience.leaders(db)
            ]
        case Kind.QUARTER_RESULT:
            return [
                (r.channel, r.user_ref, await _result(db, r, occurrence, day))
                for r in await audience.leaders(db)
            ]
        case Kind.SUMMARY:
            people = await audience.admins(db, admin_ids)
            seen = {(p.channel, p.user_ref) for p in people}
            for leader in await audience.leaders(db, with_children_only=True):
                if (leader.channel, leader.user_ref) not in seen:
                    people.append(leader)
            return [
                (p.channel, p.user_ref, await _summary(db, p, occurrence, day, tz)) for p in people
            ]
    return []


async def _warning(
    db: Database, r: Recipient, occurrence: Occurrence, day: date, tz: ZoneInfo, days: int
) -> str:
    parts = []
    for unit_id in r.units:
        view = await unitview.picture(db, unit_id, day, tz)
        if view is None:
            continue
        parts.append(
            texts.quarter_warning(
                occurrence.label,
                days,
                view.unit.name,
                view.admitted,
                view.target,
                occurrence.period.expected_share,
                [texts.given_name(n) for n in view.not_met[:NAMES_SHOWN]],
                len(view.not_met),
                view.pending,
                await audience.unreachable_in(db, unit_id),
            )
        )
    return fit(parts)


def fit(parts: list[str]) -> str:
    """One message per person: as many units as fit, then how many more there are."""
    kept: list[str] = []
    size = 0
    for part in parts:
        if size + len(part) + 2 > MESSAGE_LIMIT:
            kept.append(texts.more_units(len(parts) - len(kept)))
            break
        kept.append(part)
        size += len(part) + 2
    return "\n\n".join(kept)


async def _result(db: Database, r: Recipient, occurrence: Occurrence, day: date) -> str:
    parts = []
    for unit_id in r.units:
        year = await stats.figures(db, unit_id, Period(day.year))
        quarter = await stats.figures(db, unit_id, occurrence.period)
        if year is None or quarter is None:
            continue
        parts.append(
            texts.quarter_result(
                occurrence.label,
                year.unit.name,
                quarter.admitted,
                year.admitted,
                year.target,
                occurrence.period.expected_share,
            )
        )
    return fit(parts)


def _summary_title(occurrence: Occurrence) -> str:
    month_day = occurrence.label[5:]
    if occurrence.period.part == "H1":
        return texts.SUMMARY_TITLE["H1"]
    return texts.SUMMARY_TITLE["closing" if month_day == "12-31" else "warning"]


async def _summary(
    db: Database, r: Recipient, occurrence: Occurrence, day: date, tz: ZoneInfo
) -> str:
    parts = []
    for unit_id in r.units:
        # The same figures and order (weakest first) as /stats for the year.
        report = await stats.report(db, unit_id, Period(day.year))
        if report is None:
            continue
        lines = [
            texts.summary_line(i, f.unit.name, f.admitted, f.target)
            for i, f in enumerate(report.children[:SUMMARY_LINES], start=1)
        ]
        hidden = max(0, len(report.children) - SUMMARY_LINES)
        title = _summary_title(occurrence)
        parts.append(texts.summary(title, day.year, report.unit.unit.name, lines, hidden))
    return fit(parts)
