"""/nhacnho (/remind): nudge now; /lichnhac (/schedule): the next reminders and the last runs."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, TypeHandler, filters

from bot import texts
from handlers import picker
from handlers.common import CHANNEL, Context, current_actor, say, user_ref
from scheduler import jobs
from scheduler.calendar import Kind, upcoming
from storage import reminders
from storage.roles import Actor, Role
from storage.units import Unit

SHOWN = 6


@picker.purpose("nn", Role.LEADER, texts.PICK_NUDGE)
async def nudge_unit(update: Update, context: Context, actor: Actor, unit: Unit) -> None:
    deps = context.deps
    today = deps.today()
    count = await jobs.nudge_now(
        context.application, unit.id, actor.user_ref, today.isoformat(), today.year
    )
    if count is None:
        await say(update, context, texts.ALREADY_NUDGED_TODAY)
    elif count == 0:
        await say(update, context, texts.NOBODY_TO_NUDGE)
    else:
        await say(update, context, texts.nudging(count))


async def remind(update: Update, context: Context) -> None:
    await picker.offer(update, context, "nn")


async def show_schedule(update: Update, context: Context) -> None:
    actor = await current_actor(update, context)
    if not actor.holds_any(Role.LEADER):
        await say(update, context, texts.NOT_A_LEADER)
        return
    machinery = jobs.reminders_of(context.application)
    tz = context.deps.settings.tz
    fmt = "%d/%m/%Y %H:%M"
    coming = upcoming(machinery.config, context.deps.clock.now(), tz, SHOWN)
    next_lines = [
        texts.schedule_next(o.kind.value, o.due.astimezone(tz).strftime(fmt)) for o in coming
    ]
    last = await reminders.last_runs(context.deps.db, [k.value for k in Kind])
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
    await say(update, context, texts.schedule(next_lines, last_lines))


async def back_in_touch(update: Update, context: Context) -> None:
    """Anyone who writes to the bot can be reached again (they unblocked it)."""
    if update.effective_user is not None:
        await reminders.mark_reachable(context.deps.db, CHANNEL, user_ref(update))


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(TypeHandler(Update, back_in_touch), group=-1)
    app.add_handler(CommandHandler(["nhacnho", "remind"], remind, private))
    app.add_handler(CommandHandler(["lichnhac", "schedule"], show_schedule, private))
