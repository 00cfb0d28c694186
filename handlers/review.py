"""/duyet (/review): leaders confirm admissions (kết nạp) one referral at a time.

Card buttons carry "rv:<a|d|l>:<referral id>[:<unit id>]" and are checked at each press: the
user must still lead the referral's unit (and the unit the queue is limited to, when /duyet was
given one), and may not decide their own referral. One pass goes through the queue by number:
"later" shows the next one above it and never wraps round. "Admitted" asks for the admission
date; "declined" asks for an optional reason, then for confirmation (only that writes). /molai
reopens a decision, with a reason, into the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot import texts
from handlers import flow, picker
from handlers.chat import Button, Choice, Rows, Turn, fold
from handlers.common import (
    Deps,
    current_actor,
    notify_member,
    parse_button,
    parse_id,
    refuse,
)
from handlers.flow import Draft, End, Next, Outcome, Refused, Retry
from storage import members, referrals, roles, units
from storage.members import Member
from storage.referrals import Changed, Decision, NotAllowed, Referral
from storage.roles import Actor, Role
from storage.units import Unit
from storage.validation import mask_phone, normalize_reason, parse_day

ADMISSION = flow.journey("adm")
REOPEN = flow.journey("reo")
DECLINE = flow.journey("dcl")
DATE, REASON, WHY, SURE = "date", "reason", "why", "sure"
TODAY, SKIP, BACK, YES = "today", "skip", "back", "yes"


def _scope(actor: Actor) -> list[int]:
    return actor.top_units(Role.LEADER)


def _own_id(actor: Actor) -> int | None:
    return actor.member.id if actor.member else None


@dataclass(frozen=True)
class Queue:
    """What one pass of /duyet goes through: everything the leader leads, or one unit."""

    scope: list[int]
    unit: Unit | None = None

    @property
    def suffix(self) -> str:
        """What every card button carries, so the limit holds from card to card."""
        return f":{self.unit.id}" if self.unit else ""

    @property
    def again(self) -> str:
        return f"/duyet {self.unit.code}" if self.unit else "/duyet"

    @property
    def unit_id(self) -> int:
        return self.unit.id if self.unit else 0  # 0: no limit (unit ids start at 1)


async def queue_for(turn: Turn, actor: Actor, unit_id: int | None) -> Queue | None:
    """The queue limited to `unit_id` if the actor leads it now (None: they do not)."""
    if unit_id is None:
        return Queue(_scope(actor))
    unit = await roles.unit_for(turn.deps.db, actor, unit_id, Role.LEADER)
    return Queue([unit.id], unit) if unit is not None else None


async def typed_unit(turn: Turn, actor: Actor, pick: str) -> tuple[bool, Unit | None]:
    """The unit a leader typed after a command (its code or part of its name), within their
    reach: (True, unit), (True, None) when nothing was typed, (False, None) when this turn has
    answered instead (unknown, or several to choose from: buttons "<pick>:<unit id>")."""
    typed = " ".join(turn.args).strip()
    if not typed:
        return True, None
    # Outside the reach is answered exactly like a unit that does not exist.
    unit = await picker.find(turn, typed, _scope(actor), lambda u: f"{pick}:{u.id}")
    return unit is not None, unit


def introducer_name(referral: Referral, member: Member | None) -> str:
    """Who introduced the youth, as a leader should read it."""
    if member is not None:
        return member.full_name
    if referral.introducer_gone:
        return texts.INTRODUCER_GONE
    return referral.introducer or texts.INTRODUCER_UNKNOWN


async def _card(turn: Turn, actor: Actor, referral: Referral, queue: Queue) -> tuple[str, Rows]:
    deps = turn.deps
    waiting = await referrals.count_pending(deps.db, queue.scope, _own_id(actor))
    async with deps.db.read() as conn:
        introducer = None
        if referral.member_id is not None:
            introducer = await members.get(conn, referral.member_id)
        unit = await units.get(conn, referral.unit_id)
    youngest, oldest = referral.birth.age_bounds(deps.today())
    text = texts.review_card(
        waiting,
        referral.id,
        referral.full_name,
        texts.age_text(youngest, oldest),
        referral.org,
        introducer_name(referral, introducer),
        unit.name if unit else "–",
        referral.introduced_at.astimezone(deps.settings.tz).strftime("%d/%m/%Y"),
        mask_phone(referral.phone) if referral.phone else None,
        self_registered=referral.self_registered,
    )
    tail = f"{referral.id}{queue.suffix}"
    buttons = [
        [
            Button(texts.BTN_ADMIT, f"rv:a:{tail}"),
            Button(texts.BTN_DECLINE, f"rv:d:{tail}"),
        ],
        [Button(texts.BTN_LATER, f"rv:l:{tail}")],
    ]
    return text, buttons


async def _show_next(turn: Turn, actor: Actor, queue: Queue, after_id: int = 0) -> None:
    """The next card above `after_id`; at the end of the pass, say what is left."""
    db, own = turn.deps.db, _own_id(actor)
    found = await referrals.next_pending(db, queue.scope, own, after_id)
    if found is not None:
        text, choices = await _card(turn, actor, found, queue)
        await turn.say(text, choices)
        return
    left = await referrals.count_pending(db, queue.scope, own)
    await turn.say(texts.review_pass_done(left, queue.again) if left else texts.NO_PENDING)


async def review(turn: Turn) -> None:
    actor = await current_actor(turn)
    if not actor.holds_any(Role.LEADER):
        await turn.say(texts.NOT_A_LEADER)
        return
    go, unit = await typed_unit(turn, actor, "rv:u")
    if go:
        await _show_next(turn, actor, Queue([unit.id], unit) if unit else Queue(_scope(actor)))


async def _allowed(turn: Turn, actor: Actor, referral: Referral | None) -> bool:
    if referral is None:
        return False
    if referral.member_id is not None and referral.member_id == _own_id(actor):
        return False  # nobody decides their own referral
    return await roles.may(turn.deps.db, actor, referral.unit_id, Role.LEADER)


def _parse(data: str) -> tuple[str, int, int | None] | None:
    """(op, referral or unit id, the queue's unit) of a card's or a unit choice's data."""
    limited = parse_button(data, "rv", "adl", 2)
    if limited is not None:
        return limited[0], limited[1][0], limited[1][1]
    plain = parse_button(data, "rv", "adlu", 1)
    if plain is not None:
        op, (first,) = plain
        return op, first, first if op == "u" else None
    return None


async def press(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    parsed = _parse(turn.incoming.data)
    if parsed is None:
        await refuse(turn)
        return
    op, first, unit_id = parsed
    actor = await current_actor(turn)
    queue = await queue_for(turn, actor, unit_id) if actor.holds_any(Role.LEADER) else None
    if queue is None:
        await refuse(turn)
        return
    if op == "u":  # one of the units a typed name matched
        await turn.out.toast()
        await turn.out.drop_choices()
        await _show_next(turn, actor, queue)
        return
    referral = await referrals.get(turn.deps.db, first)
    if not await _allowed(turn, actor, referral):
        await refuse(turn)
        return
    assert referral is not None
    if op == "l":
        await turn.out.toast()
        await turn.out.drop_choices()
        await _show_next(turn, actor, queue, referral.id)
        return
    if referral.status is not referrals.Status.INTRODUCED:
        await turn.out.toast(texts.ALREADY_DECIDED, alert=True)
        await turn.out.drop_choices()
        return
    await turn.out.toast()
    journey, step = (ADMISSION, DATE) if op == "a" else (DECLINE, WHY)
    if await flow.busy(turn, restartable=journey):
        return
    await turn.out.drop_choices()
    # What the leader saw: a correction made before the decision is written shows the card again.
    seen = referrals.fingerprint(referral)
    await flow.begin(turn, journey, step, {"ref": referral.id, "unit": queue.unit_id, "seen": seen})


async def _decide(
    turn: Turn,
    actor: Actor,
    referral: Referral,
    queue: Queue,
    decision: Decision,
    *,
    day: date | None = None,
    reason: str | None = None,
    seen: str | None = None,
) -> bool:
    """Apply the decision, tell the introducer, show the next card of the pass."""
    deps = turn.deps
    try:
        done = await referrals.change_status(
            deps.db,
            referral.id,
            decision,
            _own_id(actor),
            deps.clock,
            admitted_on=day,
            reason=reason,
            tz=deps.settings.tz,
            actor_ref=turn.who.address,
            seen=seen,
        )
    except Changed:  # the member corrected the details meanwhile: the leader sees them first
        await turn.say(texts.referral_changed(referral.id))
        await _show_next(turn, actor, queue, referral.id - 1)
        return False
    except NotAllowed:  # someone was faster
        if turn.pressed:
            await turn.out.toast(texts.ALREADY_DECIDED, alert=True)
        else:
            await turn.say(texts.ALREADY_DECIDED)
        return False
    label = texts.BTN_ADMIT if decision is Decision.ADMIT else texts.BTN_DECLINE
    await turn.say(texts.decided_number(done.id, label))
    await _tell_introducer(deps, done, reason)
    await _show_next(turn, actor, queue, done.id)
    return True


async def _tell_introducer(deps: Deps, referral: Referral, reason: str | None = None) -> None:
    if referral.member_id is None:
        return  # the member left, or the unit's records name nobody in the bot
    async with deps.db.read() as conn:
        introducer = await members.get(conn, referral.member_id)
    if introducer is None:
        return
    if referral.status is referrals.Status.ADMITTED and referral.admitted_on:
        year = referral.admitted_on.year
        first = await referrals.admitted_in_year(deps.db, introducer.id, year) == 1
        text = texts.admitted_notice(
            referral.id,
            referral.full_name,
            referral.org,
            referral.admitted_on.strftime("%d/%m/%Y"),
            first,
            year,
        )
    elif referral.status is referrals.Status.DECLINED:
        text = texts.declined_kindly(referral.id, referral.full_name, reason)
    else:
        text = texts.reopened_notice(referral.id, referral.full_name)
    await notify_member(deps, introducer, text)


async def _still_allowed(turn: Turn, draft: Draft) -> tuple[Actor, Referral, Queue] | None:
    """The permission check, again, at the step that writes."""
    actor = await current_actor(turn)
    referral = await referrals.get(turn.deps.db, int(draft["ref"]))
    if not await _allowed(turn, actor, referral):
        return None
    queue = await queue_for(turn, actor, _draft_unit(draft))
    if queue is None or referral is None:
        return None
    return actor, referral, queue


def _draft_unit(draft: Draft) -> int | None:
    return int(draft["unit"]) if draft.get("unit") else None


# --- the admission date ----------------------------------------------------------------------


async def ask_date(turn: Turn, draft: Draft) -> None:
    keyboard = ADMISSION.keyboard(DATE, draft, [[(texts.BTN_TODAY, TODAY)]])
    question = texts.ask_admission_date(int(draft["ref"]), await _name(turn, draft))
    await turn.say(texts.ask(question), keyboard)


async def take_date(turn: Turn, draft: Draft, text: str) -> Outcome:
    deps = turn.deps
    try:
        day = deps.today() if text == TODAY else parse_day(text)
    except ValueError:
        return Retry(texts.ADMISSION_DATE_FORMAT)
    allowed = await _still_allowed(turn, draft)
    if allowed is None:
        return Refused()
    actor, referral, queue = allowed
    # Any day from 1 January of last year: a unit records its admissions from before the bot.
    problem = referrals.admission_problem(referral, day, deps.today(), deps.settings.tz)
    if problem == "admission_in_future":
        return Retry(texts.ADMISSION_IN_FUTURE)
    if problem == "admission_too_old":
        first = referrals.earliest_admission(deps.today()).strftime("%d/%m/%Y")
        return Retry(texts.admission_too_old(first))
    await flow.cancel(turn)  # the journey ends before the next card is shown
    await _decide(turn, actor, referral, queue, Decision.ADMIT, day=day, seen=draft.get("seen"))
    return End()


# --- declining: an optional reason, then a confirmation --------------------------------------


async def _name(turn: Turn, draft: Draft) -> str:
    referral = await referrals.get(turn.deps.db, int(draft["ref"]))
    return referral.full_name if referral else "–"


async def ask_why(turn: Turn, draft: Draft) -> None:
    rows = [[(texts.BTN_SKIP, SKIP), (texts.BTN_BACK, BACK)]]
    question = texts.decline_reason_question(int(draft["ref"]), await _name(turn, draft))
    await turn.say(texts.ask(question), DECLINE.keyboard(WHY, draft, rows))


async def _back(turn: Turn, draft: Draft) -> Outcome:
    """Not declined after all: the card again (or the next one, if it was decided meanwhile)."""
    actor = await current_actor(turn)
    queue = await queue_for(turn, actor, _draft_unit(draft))
    if queue is None:
        return Refused()
    await flow.cancel(turn)
    await _show_next(turn, actor, queue, int(draft["ref"]) - 1)
    return End()


def _label(text: str, labels: dict[str, str]) -> str | None:
    """A choice's label typed instead of pressed ("bo qua", "Quay lại")."""
    return next((value for label, value in labels.items() if fold(label) == fold(text)), None)


async def take_why(turn: Turn, draft: Draft, text: str) -> Outcome:
    pressed = text if turn.pressed else _label(text, {texts.BTN_SKIP: SKIP, texts.BTN_BACK: BACK})
    if pressed == SKIP:
        return Next(SURE, {**draft, "why": ""})
    if pressed == BACK:
        return await _back(turn, draft)
    reason = None if turn.pressed else normalize_reason(text)
    if reason is not None:
        return Next(SURE, {**draft, "why": reason})
    return Retry(texts.DECLINE_REASON_LENGTH)


async def ask_sure(turn: Turn, draft: Draft) -> None:
    rows = [[(texts.BTN_DECLINE_YES, YES), (texts.BTN_BACK, BACK)]]
    text = texts.confirm_decline(int(draft["ref"]), await _name(turn, draft), draft.get("why"))
    await turn.say(texts.ask(text), DECLINE.keyboard(SURE, draft, rows))


async def take_sure(turn: Turn, draft: Draft, text: str) -> Outcome:
    labels = {texts.BTN_DECLINE_YES: YES, texts.BTN_BACK: BACK}
    pressed = text if turn.pressed else _label(text, labels)
    if pressed == BACK:
        return await _back(turn, draft)
    if pressed != YES:
        return Retry(flow.use_buttons(turn))
    allowed = await _still_allowed(turn, draft)
    if allowed is None:
        return Refused()
    actor, referral, queue = allowed
    await flow.cancel(turn)
    reason = draft.get("why") or None
    seen = draft.get("seen")
    await _decide(turn, actor, referral, queue, Decision.DECLINE, reason=reason, seen=seen)
    return End()


# --- reopening a decision --------------------------------------------------------------------


async def reopen(turn: Turn) -> None:
    number = parse_id(turn.args[0].lstrip("#")) if turn.args else None
    if number is None:
        await turn.say(texts.REOPEN_USAGE)
        return
    actor = await current_actor(turn)
    if not actor.holds_any(Role.LEADER):
        await turn.say(texts.NOT_A_LEADER)
        return
    referral = await referrals.get(turn.deps.db, number)
    if referral is None or not await roles.may(turn.deps.db, actor, referral.unit_id, Role.LEADER):
        await turn.say(texts.no_referral_here(number))  # unknown and elsewhere look the same
        return
    if not await _allowed(turn, actor, referral):  # their own: nobody reopens their own
        await refuse(turn)
        return
    if referral.status not in (referrals.Status.ADMITTED, referrals.Status.DECLINED):
        await turn.say(texts.NOT_DECIDED)
        return
    if not await flow.busy(turn):
        await flow.begin(turn, REOPEN, REASON, {"ref": referral.id})


async def ask_reason(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.ASK_REOPEN_REASON))


async def take_reason(turn: Turn, draft: Draft, text: str) -> Outcome:
    reason = normalize_reason(text)
    if reason is None:
        return Retry(texts.REASON_TOO_SHORT)
    deps = turn.deps
    actor = await current_actor(turn)
    referral = await referrals.get(deps.db, int(draft["ref"]))
    if not await _allowed(turn, actor, referral):
        return Refused()
    assert referral is not None
    try:
        done = await referrals.change_status(
            deps.db,
            referral.id,
            Decision.REOPEN,
            _own_id(actor),
            deps.clock,
            reason=reason,
            tz=deps.settings.tz,
            actor_ref=turn.who.address,
        )
    except NotAllowed:
        await turn.say(texts.NOT_DECIDED)
        return End()
    await turn.say(texts.reopened(done.id))
    await _tell_introducer(deps, done)
    return End()


ADMISSION.steps[DATE] = flow.Step(ask_date, on_text=take_date, on_button=take_date)
DECLINE.steps[WHY] = flow.Step(ask_why, on_text=take_why, on_button=take_why)
DECLINE.steps[SURE] = flow.Step(ask_sure, on_text=take_sure, on_button=take_sure)
REOPEN.steps[REASON] = flow.Step(ask_reason, on_text=take_reason)
