"""/help, /huy, and never silence: unknown commands, stray text, stale buttons, the menu."""

from __future__ import annotations

from bot import texts
from handlers import flow
from handlers.chat import Button, Other, Reply, Turn
from handlers.common import current_actor, current_member


async def show_help(turn: Turn) -> None:
    from handlers import commands

    actor = await current_actor(turn)
    if turn.out.buttons:
        await turn.say(commands.help_text(actor))
    else:
        await show_menu(turn)


async def cancel(turn: Turn) -> None:
    cancelled = await flow.cancel(turn)
    text = texts.CANCELLED if cancelled else texts.NOTHING_TO_CANCEL
    await turn.say(text, phone_done=True)


async def unknown_command(turn: Turn) -> None:
    state = await flow.active(turn)
    await turn.say(texts.UNKNOWN_IN_CONVERSATION if state else texts.UNKNOWN)


async def stale_button(turn: Turn) -> None:
    await turn.out.toast(texts.STALE_BUTTON)


async def outside_journey(turn: Turn) -> None:
    """A message that answers no question: a newcomer learns what 1+1 is and how to join; a
    member gets a pointer to /help with buttons, the numbered menu on a text channel."""
    if turn.out.buttons and await current_member(turn) is None:
        await _welcome_newcomer(turn)
    elif turn.out.buttons:
        await turn.say(texts.UNKNOWN, phone_done=True)
    elif isinstance(turn.incoming, Other):
        await turn.say(texts.ONLY_TEXT)
    else:
        await show_menu(turn)


async def show_menu(turn: Turn) -> None:
    """The numbered main menu: a newcomer learns how to join, a member what they may do."""
    from handlers import commands

    if await current_member(turn) is None:
        await _welcome_newcomer(turn)
        return
    actor = await current_actor(turn)
    shown = [e for e in commands.entries(commands.sections_for(actor), menu=True)]
    choices = [[Button(texts.MENU_WORDS[e.name], f"cmd:{e.name}")] for e in shown]
    await turn.out.send(Reply(texts.MEMBER_MENU, choices))


async def _welcome_newcomer(turn: Turn) -> None:
    """Two lines on 1+1 and how to join, with the way in as a choice."""
    choices = [[Button(texts.MENU_WORDS["start"], "cmd:start")]]
    await turn.out.send(Reply(texts.NEWCOMER_MENU, choices))
