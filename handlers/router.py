"""Where every turn goes: commands by the registry, choices by their prefix, the rest to the
journey in progress. Adapters call `handle` and nothing else."""

from __future__ import annotations

from handlers import appoint, commands, flow, help, invite, mine, picker, review, stats, unit
from handlers.chat import Choice, Command, Turn
from handlers.commands import Run
from storage import reminders

# The first field of a choice's data says what it is; journeys have their own names.
PRESSES: dict[str, Run] = {
    "pk": picker.on_press,
    "rv": review.press,
    "st": stats.press,
    "mn": mine.press,
    "er": mine.press_erase,
    "ap": appoint.press,
    "iv": invite.press_renew,
    "dv": unit.press,
}
MENU_PREFIX = "cmd:"


async def handle(turn: Turn) -> None:
    # Anyone who writes to the bot can be reached again (they unblocked it).
    await reminders.mark_reachable(turn.deps.db, turn.who.channel, turn.who.user_ref)
    incoming = turn.incoming
    if isinstance(incoming, Choice) and incoming.data.startswith(MENU_PREFIX):
        await turn.out.toast()
        incoming = Command(incoming.data.removeprefix(MENU_PREFIX))
        turn.incoming = incoming
    match incoming:
        case Command(name):
            entry = commands.find(name)
            await (entry.run(turn) if entry else help.unknown_command(turn))
        case Choice(data):
            prefix, colon, _ = data.partition(":")
            if not colon:
                await help.stale_button(turn)
            elif prefix in flow.JOURNEYS:
                await flow.on_button(turn)
            else:
                await PRESSES.get(prefix, help.stale_button)(turn)
        case _:
            if not await flow.on_message(turn):
                await help.outside_journey(turn)
