"""/cuatoi (/mine): the member's referrals this year and whether 1+1 is met."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from handlers.common import Context, current_member, say
from storage import referrals

SHOWN = 30  # a phone screen; older ones are counted, not listed


async def show_mine(update: Update, context: Context) -> None:
    member = await current_member(update, context)
    if member is None:
        await say(update, context, texts.NOT_REGISTERED)
        return
    deps = context.deps
    year = await referrals.member_year(deps.db, member.id, deps.today().year, deps.settings.tz)
    lines = [
        texts.mine_line(r.id, r.full_name, r.birth.display(), r.org, r.status.value)
        for r in year.referrals[:SHOWN]
    ]
    hidden = max(0, len(year.referrals) - SHOWN)
    await say(update, context, texts.mine(year.year, lines, year.admitted, year.pending, hidden))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(
        CommandHandler(
            ["cuatoi", "mine"], show_mine, filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        )
    )
