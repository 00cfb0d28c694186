"""/duyet (/review): leaders confirm admissions (kết nạp) one referral at a time.

Card buttons carry "rv:<a|d|l>:<referral id>" and are checked at each press: the user must
still lead the referral's unit, and may not decide their own referral. "Admitted" asks for the
admission date (a short journey); /molai reopens a decision, with a reason, into the audit trail.
"""

from __future__ import annotations

from datetime import date

from bot import texts
from handlers import flow
from handlers.chat import Button, Choice, Rows, Turn
from handlers.common import (
    Deps,
    current_actor,
    notify_member,
    parse_button,
    parse_id,
    refuse,
)
from handlers.flow import Draft, End, Outcome, Refused, Retry
from storage import members, referrals, roles, units
from storage.members import Member
from storage.referrals import Decision, NotAllowed, Referral
from storage.roles import Actor, Role
from storage.validation import mask_phone, parse_day

ADMISSION = flow.journey("adm")
REOPEN = flow.journey("reo")
DATE, REASON = "date", "reason"
TODAY = "today"


def _scope(actor: Actor) -> list[int]:
    return actor.top_units(Role.LEADER)


def introducer_name(referral: Referral, member: Member | None) -> str:
    """Who introduced the youth, as a leader should read it."""
    if member is not None:
        return member.full_name
    if referral.introducer_gone:
        return texts.INTRODUCER_GONE
    return referral.introducer or texts.INTRODUCER_UNKNOWN


async def _card(turn: Turn, actor: Actor, referral: Referral) -> tuple[str, Rows]:
    deps = turn.deps
    waiting = await referrals.count_pending(deps.db, _scope(actor), _own_id(actor))
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
    buttons = [
        [
            Button(texts.BTN_ADMIT, f"rv:a:{referral.id}"),
            Button(texts.BTN_DECLINE, f"rv:d:{referral.id}"),
        ],
        [Button(texts.BTN_LATER, f"rv:l:{referral.id}")],
    ]
    return text, buttons


def _own_id(actor: Actor) -> int | None:
    return actor.member.id if actor.member else None


async def _show_next(turn: Turn, actor: Actor, after_id: int = 0) -> None:
    found = await referrals.next_pending(turn.deps.db, _scope(actor), _own_id(actor), after_id)
    if found is None or found.id == after_id:
        await turn.say(texts.NO_PENDING if found is None else texts.NO_OTHER_PENDING)
        return
    text, choices = await _card(turn, actor, found)
    await turn.say(text, choices)


async def review(turn: Turn) -> None:
    actor = await current_actor(turn)
    if not actor.holds_any(Role.LEADER):
        await turn.say(texts.NOT_A_LEADER)
        return
    await _show_next(turn, actor)


async def _allowed(turn: Turn, actor: Actor, referral: Referral | None) -> bool:
    if referral is None:
        return False
    if referral.member_id is not None and referral.member_id == _own_id(actor):
        return False  # nobody decides their own referral
    return await roles.may(turn.deps.db, actor, referral.unit_id, Role.LEADER)


async def press(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    parsed = parse_button(turn.incoming.data, "rv", "adl", 1)
    actor = await current_actor(turn)
    referral = await referrals.get(turn.deps.db, parsed[1][0]) if parsed else None
    op = parsed[0] if parsed else ""
    if not await _allowed(turn, actor, referral):
        await refuse(turn)
        return
    assert referral is not None
    if op == "l":
        await turn.out.toast()
        await turn.out.drop_choices()
        await _show_next(turn, actor, referral.id)
        return
    if referral.status is not referrals.Status.INTRODUCED:
        await turn.out.toast(texts.ALREADY_DECIDED, alert=True)
        await turn.out.drop_choices()
        return
    if op == "d":
        await _decide(turn, actor, referral, Decision.DECLINE, None, on_card=True)
        return
    await turn.out.toast()
    if await flow.busy(turn, restartable=ADMISSION):
        return
    await turn.out.drop_choices()
    await flow.begin(turn, ADMISSION, DATE, {"ref": referral.id})


async def _decide(
    turn: Turn,
    actor: Actor,
    referral: Referral,
    decision: Decision,
    day: date | None,
    *,
    on_card: bool,
) -> bool:
    """Apply the decision; `on_card` when it came from the card's own button."""
    deps = turn.deps
    actor_id = _own_id(actor)
    try:
        done = await referrals.change_status(
            deps.db,
            referral.id,
            decision,
            actor_id,
            deps.clock,
            admitted_on=day,
            tz=deps.settings.tz,
            actor_ref=turn.who.address,
        )
    except NotAllowed:
        if on_card and turn.pressed:
            await turn.out.toast(texts.ALREADY_DECIDED, alert=True)
        else:
            await turn.say(texts.ALREADY_DECIDED)
        return False
    label = texts.BTN_ADMIT if decision is Decision.ADMIT else texts.BTN_DECLINE
    if on_card and turn.pressed:
        await turn.out.toast()
        await turn.out.settle(texts.decided(label))
    else:
        await turn.say(texts.decided_number(done.id, label))
    await _tell_introducer(deps, done)
    await _show_next(turn, actor, done.id)
    return True


async def _tell_introducer(deps: Deps, referral: Referral) -> None:
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
        text = texts.declined_notice(referral.id, referral.full_name)
    else:
        text = texts.reopened_notice(referral.id, referral.full_name)
    await notify_member(deps, introducer, text)


# --- the admission date ----------------------------------------------------------------------


async def ask_date(turn: Turn, draft: Draft) -> None:
    keyboard = ADMISSION.keyboard(DATE, draft, [[(texts.BTN_TODAY, TODAY)]])
    await turn.say(texts.ask(texts.ASK_ADMISSION_DATE), keyboard)


async def take_date(turn: Turn, draft: Draft, text: str) -> Outcome:
    deps = turn.deps
    try:
        day = deps.today() if text == TODAY else parse_day(text)
    except ValueError:
        return Retry(texts.ADMISSION_DATE_FORMAT)
    actor = await current_actor(turn)
    referral = await referrals.get(deps.db, int(draft["ref"]))
    if not await _allowed(turn, actor, referral):
        return Refused()
    assert referral is not None
    # Any day from 1 January of last year: a unit records its admissions from before the bot.
    problem = referrals.admission_problem(referral, day, deps.today(), deps.settings.tz)
    if problem == "admission_in_future":
        return Retry(texts.ADMISSION_IN_FUTURE)
    if problem == "admission_too_old":
        first = referrals.earliest_admission(deps.today()).strftime("%d/%m/%Y")
        return Retry(texts.admission_too_old(first))
    await flow.cancel(turn)  # the journey ends before the next card is shown
    await _decide(turn, actor, referral, Decision.ADMIT, day, on_card=False)
    return End()


# --- reopening a decision --------------------------------------------------------------------


async def reopen(turn: Turn) -> None:
    number = parse_id(turn.args[0].lstrip("#")) if turn.args else None
    if number is None:
        await turn.say(texts.REOPEN_USAGE)
        return
    actor = await current_actor(turn)
    referral = await referrals.get(turn.deps.db, number)
    if not await _allowed(turn, actor, referral):  # nor can a leader reopen their own
        await refuse(turn)
        return
    assert referral is not None
    if referral.status not in (referrals.Status.ADMITTED, referrals.Status.DECLINED):
        await turn.say(texts.NOT_DECIDED)
        return
    if not await flow.busy(turn):
        await flow.begin(turn, REOPEN, REASON, {"ref": referral.id})


async def ask_reason(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.ASK_REOPEN_REASON))


async def take_reason(turn: Turn, draft: Draft, text: str) -> Outcome:
    reason = " ".join(text.split())
    if not 5 <= len(reason) <= 300:
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
REOPEN.steps[REASON] = flow.Step(ask_reason, on_text=take_reason)
