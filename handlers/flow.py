"""A small conversation engine whose state lives in SQLite.

A journey is a set of named steps; each step asks its question and takes an answer (text,
a choice, a shared phone). The step the user is on and their answers so far are saved
*before* the next question goes out, so a restart, or a crash, resumes where they were, and
the last write of a journey (the member, the referral) ends the conversation in the same
transaction. One user has at most one journey at a time.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot import texts
from handlers.chat import UNKNOWN, Button, Choice, Phone, Rows, Text, Turn
from storage import conversations
from storage.conversations import Conversation

Draft = dict[str, Any]
NONCE = "_n"


@dataclass(frozen=True)
class Next:
    """Save the draft, move to `step` and ask its question."""

    step: str
    draft: Draft


@dataclass(frozen=True)
class Stay:
    """Save the draft and stay; the step already updated the screen (e.g. tree navigation)."""

    draft: Draft


@dataclass(frozen=True)
class Retry:
    """A wrong answer: say what is wrong, then ask the same question again."""

    message: str


@dataclass(frozen=True)
class End:
    """The journey is over (its last write already cleared the state, or this does)."""


@dataclass(frozen=True)
class Refused:
    """The user lost the right to finish this journey: end it and say no, nothing else."""


Outcome = Next | Stay | Retry | End | Refused
Ask = Callable[[Turn, Draft], Awaitable[None]]
Answer = Callable[[Turn, Draft, str], Awaitable[Outcome]]


@dataclass(frozen=True)
class Step:
    ask: Ask
    on_text: Answer | None = None
    on_button: Answer | None = None
    on_contact: Answer | None = None  # gets the phone number of a contact the user shared


@dataclass
class Journey:
    name: str  # short: it is part of every button's data
    steps: dict[str, Step] = field(default_factory=dict)

    def button(self, label: str, step: str, draft: Draft, value: str) -> Button:
        # The journey's nonce ties a button to this run of the journey: a button left on an
        # older message (a cancelled referral, another youth's card) can never act on this one.
        data = f"{self.name}:{step}:{draft.get(NONCE, '')}:{value}"
        assert len(data.encode()) <= 64, data  # Telegram's callback_data limit
        return Button(label, data)

    def keyboard(self, step: str, draft: Draft, rows: list[list[tuple[str, str]]]) -> Rows:
        return [[self.button(label, step, draft, value) for label, value in row] for row in rows]


JOURNEYS: dict[str, Journey] = {}


def journey(name: str) -> Journey:
    return JOURNEYS.setdefault(name, Journey(name))


def use_buttons(turn: Turn) -> str:
    return texts.USE_BUTTONS if turn.out.buttons else texts.USE_NUMBERS


async def active(turn: Turn) -> Conversation | None:
    opening = turn.opening_conversation
    if opening is not UNKNOWN:  # read with the sender, once; later calls read afresh
        turn.opening_conversation = UNKNOWN
        return opening
    return await conversations.current(turn.deps.db, turn.who.key)


async def begin(turn: Turn, journey: Journey, step: str, draft: Draft) -> None:
    """Start (or restart) a journey at `step`, with a fresh nonce for its buttons."""
    await _move(turn, journey, step, {**draft, NONCE: secrets.token_hex(3)})


async def busy(turn: Turn, restartable: Journey | None = None) -> bool:
    """One journey at a time: if another is open, say so and repeat its question.

    `restartable` is the journey being started, when starting it over is what the user wants
    (/start in the middle of registering)."""
    state = await active(turn)
    if state is None or (restartable is not None and state.journey == restartable.name):
        return False
    await turn.say(texts.IN_PROGRESS)
    await ask_again(turn, state)
    return True


async def ask_again(turn: Turn, state: Conversation) -> None:
    """Re-ask the question the user is on (after a reminder that it is still open)."""
    step = _step(state)
    if step is None:
        await conversations.end(turn.deps.db, turn.who.key)
        return
    await step.ask(turn, dict(state.draft))


async def cancel(turn: Turn) -> bool:
    """/huy: drop the journey in progress; False when there was none."""
    if await conversations.current(turn.deps.db, turn.who.key) is None:
        return False
    await conversations.end(turn.deps.db, turn.who.key)
    return True


def _step(state: Conversation) -> Step | None:
    found = JOURNEYS.get(state.journey)
    return found.steps.get(state.step) if found else None


async def _move(turn: Turn, jr: Journey, step: str, draft: Draft) -> None:
    state = Conversation(jr.name, step, draft)
    await conversations.put(turn.deps.db, turn.who.key, state, turn.deps.clock)
    await jr.steps[step].ask(turn, draft)


async def _apply(turn: Turn, state: Conversation, outcome: Outcome) -> None:
    jr = JOURNEYS[state.journey]
    nonce = {NONCE: state.draft.get(NONCE, "")}  # kept for the whole journey
    key = turn.who.key
    match outcome:
        case Next(step, draft):
            await _move(turn, jr, step, {**draft, **nonce})
        case Stay(draft):
            new = Conversation(state.journey, state.step, {**draft, **nonce})
            await conversations.put(turn.deps.db, key, new, turn.deps.clock)
        case Retry(message):
            await turn.say(message)
            await jr.steps[state.step].ask(turn, dict(state.draft))
        case End():
            await conversations.end(turn.deps.db, key)
        case Refused():
            await conversations.end(turn.deps.db, key)
            if not turn.pressed:
                await turn.say(texts.NO_PERMISSION)


async def on_message(turn: Turn) -> bool:
    """Any text or contact that is not a command, as the answer to the question the person is
    on; False when no journey is open (the caller answers)."""
    state = await active(turn)
    step = _step(state) if state else None
    if state is None or step is None:
        if state is not None:  # a journey this version no longer has
            await conversations.end(turn.deps.db, turn.who.key)
        return False
    answer: Answer | None = None
    incoming = turn.incoming
    if isinstance(incoming, Phone):
        answer, value = step.on_contact, incoming.number
        if answer is not None and not incoming.own:
            await _apply(turn, state, Retry(texts.CONTACT_NOT_OWN))
            return True
    elif isinstance(incoming, Text):
        answer, value = step.on_text, incoming.text
    if answer is None:
        hint = use_buttons(turn) if step.on_button else texts.UNKNOWN_IN_CONVERSATION
        await _apply(turn, state, Retry(hint))
        return True
    await _apply(turn, state, await answer(turn, dict(state.draft), value))
    return True


async def on_button(turn: Turn) -> None:
    """A button of a journey: only the buttons of the step the user is on do anything."""
    assert isinstance(turn.incoming, Choice)
    journey_name, step_name, nonce, value = [*turn.incoming.data.split(":", 3), "", "", ""][:4]
    state = await active(turn)
    step = _step(state) if state else None
    if (
        state is None
        or step is None
        or step.on_button is None
        or (state.journey, state.step) != (journey_name, step_name)
        or not nonce
        or nonce != state.draft.get(NONCE)
    ):
        await turn.out.toast(texts.STALE_BUTTON)
        return
    outcome = await step.on_button(turn, dict(state.draft), value)
    # Answered once, after the step: a refusal is the answer itself.
    await turn.out.toast(texts.NO_PERMISSION if isinstance(outcome, Refused) else None)
    if isinstance(outcome, Next | End):
        await turn.out.settle()
    await _apply(turn, state, outcome)
