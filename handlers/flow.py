"""A small conversation engine whose state lives in SQLite.

A journey is a set of named steps; each step asks its question and takes an answer (text,
a button, a shared contact). The step the user is on and their answers so far are saved
*before* the next question goes out, so a restart, or a crash, resumes where they were, and
the last write of a journey (the member, the referral) ends the conversation in the same
transaction. One user has at most one journey at a time.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import texts
from handlers.common import REMOVE_KEYBOARD, Context, conversation_key, say
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
Ask = Callable[[Update, Context, Draft], Awaitable[None]]
Answer = Callable[[Update, Context, Draft, str], Awaitable[Outcome]]


@dataclass(frozen=True)
class Step:
    ask: Ask
    on_text: Answer | None = None
    on_button: Answer | None = None
    on_contact: Answer | None = None  # gets the phone number of a contact the user shared


@dataclass
class Journey:
    name: str  # short: it is part of every button's callback_data
    steps: dict[str, Step] = field(default_factory=dict)

    def button(self, label: str, step: str, draft: Draft, value: str) -> InlineKeyboardButton:
        # The journey's nonce ties a button to this run of the journey: a button left on an
        # older message (a cancelled referral, another youth's card) can never act on this one.
        data = f"{self.name}:{step}:{draft.get(NONCE, '')}:{value}"
        assert len(data.encode()) <= 64, data  # Telegram's callback_data limit
        return InlineKeyboardButton(label, callback_data=data)

    def keyboard(
        self, step: str, draft: Draft, rows: list[list[tuple[str, str]]]
    ) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[self.button(label, step, draft, value) for label, value in row] for row in rows]
        )


JOURNEYS: dict[str, Journey] = {}


def journey(name: str) -> Journey:
    found = JOURNEYS.setdefault(name, Journey(name))
    return found


async def active(update: Update, context: Context) -> Conversation | None:
    return await conversations.current(context.deps.db, conversation_key(update))


async def begin(
    update: Update, context: Context, journey: Journey, step: str, draft: Draft
) -> None:
    """Start (or restart) a journey at `step`, with a fresh nonce for its buttons."""
    await _move(update, context, journey, step, {**draft, NONCE: secrets.token_hex(3)})


async def busy(update: Update, context: Context, restartable: Journey | None = None) -> bool:
    """One journey at a time: if another is open, say so and repeat its question.

    `restartable` is the journey being started, when starting it over is what the user wants
    (/start in the middle of registering)."""
    state = await active(update, context)
    if state is None or (restartable is not None and state.journey == restartable.name):
        return False
    await say(update, context, texts.IN_PROGRESS)
    await ask_again(update, context, state)
    return True


async def ask_again(update: Update, context: Context, state: Conversation) -> None:
    """Re-ask the question the user is on (after a reminder that it is still open)."""
    step = _step(state)
    if step is None:
        await conversations.end(context.deps.db, conversation_key(update))
        return
    await step.ask(update, context, dict(state.draft))


async def cancel(update: Update, context: Context) -> bool:
    """/huy: drop the journey in progress; False when there was none."""
    key = conversation_key(update)
    if await conversations.current(context.deps.db, key) is None:
        return False
    await conversations.end(context.deps.db, key)
    return True


def _step(state: Conversation) -> Step | None:
    found = JOURNEYS.get(state.journey)
    return found.steps.get(state.step) if found else None


async def _move(update: Update, context: Context, jr: Journey, step: str, draft: Draft) -> None:
    state = Conversation(jr.name, step, draft)
    await conversations.put(context.deps.db, conversation_key(update), state, context.deps.clock)
    await jr.steps[step].ask(update, context, draft)


async def _apply(update: Update, context: Context, state: Conversation, outcome: Outcome) -> None:
    jr = JOURNEYS[state.journey]
    nonce = {NONCE: state.draft.get(NONCE, "")}  # kept for the whole journey
    match outcome:
        case Next(step, draft):
            await _move(update, context, jr, step, {**draft, **nonce})
        case Stay(draft):
            new = Conversation(state.journey, state.step, {**draft, **nonce})
            key = conversation_key(update)
            await conversations.put(context.deps.db, key, new, context.deps.clock)
        case Retry(message):
            await say(update, context, message)
            await jr.steps[state.step].ask(update, context, dict(state.draft))
        case End():
            await conversations.end(context.deps.db, conversation_key(update))
        case Refused():
            await conversations.end(context.deps.db, conversation_key(update))
            if update.callback_query is None:
                await say(update, context, texts.NO_PERMISSION)


async def on_message(update: Update, context: Context) -> None:
    """Any text or contact that is not a command: an answer, or a pointer to /help."""
    state = await active(update, context)
    message = update.effective_message
    assert message is not None
    step = _step(state) if state else None
    if state is None or step is None:
        if state is not None:  # a journey this version no longer has
            await conversations.end(context.deps.db, conversation_key(update))
        await say(update, context, texts.UNKNOWN, REMOVE_KEYBOARD)
        return
    answer: Answer | None
    if message.contact is not None:
        answer, value = step.on_contact, message.contact.phone_number
        if answer is not None and message.contact.user_id != message.from_user.id:
            await _apply(update, context, state, Retry(texts.CONTACT_NOT_OWN))
            return
    else:
        answer, value = step.on_text, (message.text or "")
    if answer is None or (message.text is None and message.contact is None):
        hint = texts.USE_BUTTONS if step.on_button else texts.UNKNOWN_IN_CONVERSATION
        await _apply(update, context, state, Retry(hint))
        return
    await _apply(update, context, state, await answer(update, context, dict(state.draft), value))


async def on_button(update: Update, context: Context) -> None:
    """A button of a journey: only the buttons of the step the user is on do anything."""
    query = update.callback_query
    assert query is not None and query.data is not None
    journey_name, step_name, nonce, value = [*query.data.split(":", 3), "", "", ""][:4]
    state = await active(update, context)
    step = _step(state) if state else None
    if (
        state is None
        or step is None
        or step.on_button is None
        or (state.journey, state.step) != (journey_name, step_name)
        or not nonce
        or nonce != state.draft.get(NONCE)
    ):
        await query.answer(texts.STALE_BUTTON)
        return
    outcome = await step.on_button(update, context, dict(state.draft), value)
    # Answered once, after the step: a refusal is the answer itself.
    await query.answer(texts.NO_PERMISSION if isinstance(outcome, Refused) else None)
    if isinstance(outcome, Next | End):
        await _show_choice(update)
    await _apply(update, context, state, outcome)


async def _show_choice(update: Update) -> None:
    """Freeze the answered question: drop its buttons and show what was chosen."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if message is None or not hasattr(message, "text") or message.text is None:
        return
    markup = message.reply_markup
    label = next(
        (
            button.text
            for row in (markup.inline_keyboard if markup else ())
            for button in row
            if button.callback_data == query.data
        ),
        None,
    )
    text = f"{message.text}\n→ {label}" if label else message.text
    with suppress(BadRequest):  # the message is gone or unchanged: the answer still counts
        await query.edit_message_text(text, reply_markup=None)
