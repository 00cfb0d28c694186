"""/nhacnho (/remind): nudge now; /lichnhac (/schedule): the next reminders and the last runs."""

from __future__ import annotations

from bot import texts
from handlers import picker
from handlers.chat import Turn
from handlers.common import current_actor
from scheduler.calendar import Kind, upcoming
from storage import reminders
from storage.roles import Actor, Role
from storage.units import Unit

SHOWN = 6


@picker.purpose("nn", Role.LEADER, texts.PICK_NUDGE)
async def nudge_unit(turn: Turn, actor: Actor, unit: Unit) -> None:
    today = turn.deps.today()
    result = await turn.deps.reminders.nudge_now(
        unit.id, turn.who.address, today.isoformat(), today.year
    )
    if result is None:
        await turn.say(texts.ALREADY_NUDGED_TODAY)
    elif result[0] == 0:
        await turn.say(texts.all_nudged_today(result[1]) if result[1] else texts.NOBODY_TO_NUDGE)
    else:
        await turn.say(texts.nudging(*result))


async def remind(turn: Turn) -> None:
    await picker.offer(turn, "nn")


async def show_schedule(turn: Turn) -> None:
    actor = await current_actor(turn)
    if not actor.holds_any(Role.LEADER):
        await turn.say(texts.NOT_A_LEADER)
        return
    deps = turn.deps
    tz = deps.settings.tz
    fmt = "%d/%m/%Y %H:%M"
    coming = upcoming(deps.reminders.config, deps.clock.now(), tz, SHOWN)
    next_lines = [
        texts.schedule_next(o.kind.value, o.due.astimezone(tz).strftime(fmt)) for o in coming
    ]
    last = await reminders.last_runs(deps.db, [k.value for k in Kind])
    last_lines = [
        texts.schedule_last(
            run.kind,
            run.planned_at.astimezone(tz).strftime(fmt),
            run.counts.get("sent", 0),
            sum(v for k, v in run.counts.items() if k not in ("sent", "pending", "sending")),
            run.late,
        )
        for run in last.values()
    ]
    await turn.say(texts.schedule(next_lines, last_lines))
