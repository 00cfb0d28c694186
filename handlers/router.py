"""Where every turn goes: commands by the registry, choices by their prefix, the rest to the
journey in progress. Adapters call `handle` and nothing else."""

from __future__ import annotations

from contextlib import nullcontext

from handlers import (
    appoint,
    commands,
    decided,
    flow,
    help,
    honors,
    invite,
    mine,
    picker,
    registration,
    review,
    stats,
    unit,
)
from handlers.chat import Choice, Command, Text, Turn
from handlers.commands import Run
from storage import reminders, seen, senders

# The first field of a choice's data says what it is; journeys have their own names.
PRESSES: dict[str, Run] = {
    "pk": picker.on_press,
    "rv": review.press,
    "dd": decided.press,
    "st": stats.press,
    "mn": mine.press,
    "er": mine.press_erase,
    "ap": appoint.press,
    "iv": invite.press_renew,
    "dv": unit.press,
    "vd": honors.press,
}
MENU_PREFIX = "cmd:"


async def handle(turn: Turn, update_ref: str | None = None) -> None:
    """Answer one update. With `update_ref` (channels that may serve an update twice), an update
    already acted on is ignored, and the first write made answering it records it as handled."""
    db, who = turn.deps.db, turn.who
    sender = await senders.load(db, who.key, update_ref or "")
    if update_ref is not None and sender.handled:
        return
    turn.member, turn.opening_conversation = sender.member, sender.conversation
    with seen.handling(who.channel, update_ref) if update_ref else nullcontext():
        if sender.unreachable:  # they wrote to the bot: they unblocked it
            await reminders.mark_reachable(db, who.channel, who.user_ref)
        await _dispatch(turn)


async def _dispatch(turn: Turn) -> None:
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
            if await flow.on_message(turn):
                return
            if isinstance(incoming, Text) and await registration.typed_code(turn, incoming.text):
                return
            await help.outside_journey(turn)
