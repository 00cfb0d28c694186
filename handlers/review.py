"""/duyet (/review): leaders confirm admissions (kết nạp) one referral at a time.

Card buttons carry "rv:<a|d|l>:<referral id>" and are checked at each press: the user must
still lead the referral's unit, and may not decide their own referral. "Admitted" asks for the
admission date (a short journey); /molai reopens a decision, with a reason, into the audit trail.
"""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import texts
from handlers import flow
from handlers.common import (
    CHANNEL,
    Context,
    current_actor,
    notify,
    parse_button,
    parse_id,
    refuse,
    say,
)
from handlers.flow import Draft, End, Outcome, Refused, Retry
from storage import members, referrals, roles, units
from storage.referrals import Decision, NotAllowed, Referral
from storage.roles import Actor, Role
from storage.validation import mask_phone, parse_day

ADMISSION = flow.journey("adm")
REOPEN = flow.journey("reo")
DATE, REASON = "date", "reason"
TODAY = "today"


def _scope(actor: Actor) -> list[int]:
    return actor.top_units(Role.LEADER)


async def _card(
    context: Context, actor: Actor, referral: Referral
) -> tuple[str, InlineKeyboardMarkup]:
    deps = context.deps
    waiting = await referrals.count_pending(deps.db, _scope(actor), _own_id(actor))
    async with deps.db.read() as conn:
        introducer = await members.get(conn, referral.member_id)
        unit = await units.get(conn, referral.unit_id)
    youngest, oldest = referral.birth.age_bounds(deps.today())
    text = texts.review_card(
        waiting,
        referral.id,
        referral.full_name,
        texts.age_text(youngest, oldest),
        referral.org,
        introducer.full_name if introducer else "–",
        unit.name if unit else "–",
        referral.introduced_at.astimezone(deps.settings.tz).strftime("%d/%m/%Y"),
        mask_phone(referral.phone) if referral.phone else None,
    )
    buttons = [
        [
            InlineKeyboardButton(texts.BTN_ADMIT, callback_data=f"rv:a:{referral.id}"),
            InlineKeyboardButton(texts.BTN_DECLINE, callback_data=f"rv:d:{referral.id}"),
        ],
        [InlineKeyboardButton(texts.BTN_LATER, callback_data=f"rv:l:{referral.id}")],
    ]
    return text, InlineKeyboardMarkup(buttons)


def _own_id(actor: Actor) -> int | None:
    return actor.member.id if actor.member else None


async def _show_next(update: Update, context: Context, actor: Actor, after_id: int = 0) -> None:
    found = await referrals.next_pending(context.deps.db, _scope(actor), _own_id(actor), after_id)
    if found is None or found.id == after_id:
        await say(update, context, texts.NO_PENDING if found is None else texts.NO_OTHER_PENDING)
        return
    text, markup = await _card(context, actor, found)
    await say(update, context, text, markup)


async def review(update: Update, context: Context) -> None:
    actor = await current_actor(update, context)
    if not actor.holds_any(Role.LEADER):
        await say(update, context, texts.NOT_A_LEADER)
        return
    await _show_next(update, context, actor)


async def _allowed(context: Context, actor: Actor, referral: Referral | None) -> bool:
    if referral is None or referral.member_id == _own_id(actor):
        return False  # nobody decides their own referral
    return await roles.may(context.deps.db, actor, referral.unit_id, Role.LEADER)


async def press(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    parsed = parse_button(query.data, "rv", "adl", 1)
    actor = await current_actor(update, context)
    referral = await referrals.get(context.deps.db, parsed[1][0]) if parsed else None
    op = parsed[0] if parsed else ""
    if not await _allowed(context, actor, referral):
        await refuse(update, context)
        return
    assert referral is not None
    if op == "l":
        await query.answer()
        await query.edit_message_reply_markup(None)
        await _show_next(update, context, actor, referral.id)
        return
    if referral.status is not referrals.Status.INTRODUCED:
        await query.answer(texts.ALREADY_DECIDED, show_alert=True)
        await query.edit_message_reply_markup(None)
        return
    if op == "d":
        await _decide(update, context, actor, referral, Decision.DECLINE, None, on_card=True)
        return
    await query.answer()
    if await flow.busy(update, context, restartable=ADMISSION):
        return
    await query.edit_message_reply_markup(None)
    await flow.begin(update, context, ADMISSION, DATE, {"ref": referral.id})


async def _decide(
    update: Update,
    context: Context,
    actor: Actor,
    referral: Referral,
    decision: Decision,
    day: date | None,
    *,
    on_card: bool,
) -> bool:
    """Apply the decision; `on_card` when it came from the card's own button."""
    deps = context.deps
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
            actor_ref=f"{CHANNEL}:{actor.user_ref}",
        )
    except NotAllowed:
        if on_card and update.callback_query is not None:
            await update.callback_query.answer(texts.ALREADY_DECIDED, show_alert=True)
        else:
            await say(update, context, texts.ALREADY_DECIDED)
        return False
    label = texts.BTN_ADMIT if decision is Decision.ADMIT else texts.BTN_DECLINE
    if on_card and update.callback_query is not None:
        await update.callback_query.answer()
        message = update.callback_query.message
        if message is not None and getattr(message, "text", None):
            await update.callback_query.edit_message_text(f"{message.text}\n{texts.decided(label)}")
    else:
        await say(update, context, texts.decided_number(done.id, label))
    await _tell_introducer(context, done)
    await _show_next(update, context, actor, done.id)
    return True


async def _tell_introducer(context: Context, referral: Referral) -> None:
    deps = context.deps
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
    await notify(context, introducer.user_ref, text)


# --- the admission date ----------------------------------------------------------------------


async def ask_date(update: Update, context: Context, draft: Draft) -> None:
    keyboard = ADMISSION.keyboard(DATE, draft, [[(texts.BTN_TODAY, TODAY)]])
    await say(update, context, texts.ask(texts.ASK_ADMISSION_DATE), keyboard)


async def take_date(update: Update, context: Context, draft: Draft, text: str) -> Outcome:
    deps = context.deps
    try:
        day = deps.today() if text == TODAY else parse_day(text)
    except ValueError:
        return Retry(texts.ADMISSION_DATE_FORMAT)
    actor = await current_actor(update, context)
    referral = await referrals.get(deps.db, int(draft["ref"]))
    if not await _allowed(context, actor, referral):
        return Refused()
    assert referral is not None
    tz = deps.settings.tz
    problem = referrals.admission_problem(referral, day, deps.today(), tz)
    if problem == "admission_in_future":
        return Retry(texts.ADMISSION_IN_FUTURE)
    if problem == "admission_before_referral":
        introduced_on = referral.introduced_at.astimezone(tz).strftime("%d/%m/%Y")
        return Retry(texts.admission_before_referral(introduced_on))
    await flow.cancel(update, context)  # the journey ends before the next card is shown
    await _decide(update, context, actor, referral, Decision.ADMIT, day, on_card=False)
    return End()


# --- reopening a decision --------------------------------------------------------------------


async def reopen(update: Update, context: Context) -> None:
    number = parse_id(context.args[0].lstrip("#")) if context.args else None
    if number is None:
        await say(update, context, texts.REOPEN_USAGE)
        return
    actor = await current_actor(update, context)
    referral = await referrals.get(context.deps.db, number)
    if not await _allowed(context, actor, referral):  # nor can a leader reopen their own
        await refuse(update, context)
        return
    assert referral is not None
    if referral.status not in (referrals.Status.ADMITTED, referrals.Status.DECLINED):
        await say(update, context, texts.NOT_DECIDED)
        return
    if not await flow.busy(update, context):
        await flow.begin(update, context, REOPEN, REASON, {"ref": referral.id})


async def ask_reason(update: Update, context: Context, draft: Draft) -> None:
    await say(update, context, texts.ask(texts.ASK_REOPEN_REASON))


async def take_reason(update: Update, context: Context, draft: Draft, text: str) -> Outcome:
    reason = " ".join(text.split())
    if not 5 <= len(reason) <= 300:
        return Retry(texts.REASON_TOO_SHORT)
    deps = context.deps
    actor = await current_actor(update, context)
    referral = await referrals.get(deps.db, int(draft["ref"]))
    if not await _allowed(context, actor, referral):
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
            actor_ref=f"{CHANNEL}:{actor.user_ref}",
        )
    except NotAllowed:
        await say(update, context, texts.NOT_DECIDED)
        return End()
    await say(update, context, texts.reopened(done.id))
    await _tell_introducer(context, done)
    return End()


ADMISSION.steps[DATE] = flow.Step(ask_date, on_text=take_date, on_button=take_date)
REOPEN.steps[REASON] = flow.Step(ask_reason, on_text=take_reason)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["duyet", "review"], review, private))
    app.add_handler(CommandHandler(["molai", "reopen"], reopen, private))
    app.add_handler(CallbackQueryHandler(press, pattern=r"^rv:"))
