"""/sua (/correct): a member corrects a referral of theirs that still waits for a decision.

Steps: which detail (name, birth date, phone, organisation) → the new value, checked as the
referral journey checks it (its answers, its messages; the organisation's ages; a duplicate
check that leaves this referral out) → a guardian's consent when the new birth date may make
the youth a child → old → new, Confirm / Cancel → written with an audit row. Nothing is
written before the confirmation, and the right to correct is checked again there.
"""

from __future__ import annotations

from bot import texts
from handlers import flow
from handlers.chat import Button, Turn, fold
from handlers.common import current_member, parse_id
from handlers.flow import Draft, End, Next, Outcome, Retry
from handlers.referral import name_answer, org_refusal, phone_answer
from storage import referrals
from storage.members import Member
from storage.referrals import DuplicateReferral, NotEditable, Referral
from storage.validation import Birth, Org, error_code, normalize_phone, parse_birth

CORRECT = flow.journey("sua")
FIELD, NAME, BIRTH, PHONE, GUARDIAN, CONFIRM = "field", "name", "birth", "phone", "guard", "ok"
YES, NO, NONE = "yes", "no", "none"
LISTED = 5  # the referrals offered by /sua without a number
_NEXT = {"full_name": NAME, "birth": BIRTH, "phone": PHONE}


async def correct(turn: Turn) -> None:
    member = await current_member(turn)
    if member is None:
        await turn.say(texts.NOT_REGISTERED)
        return
    if not turn.args:
        await _offer(turn, member)
        return
    number = parse_id(turn.args[0].lstrip("#"))
    if number is None:
        await turn.say(texts.CORRECT_USAGE)
        return
    await start(turn, member, number)


async def _offer(turn: Turn, member: Member) -> None:
    """/sua alone: the referrals the member may correct, one choice each."""
    found = await referrals.correctable(turn.deps.db, member.id, LISTED)
    if not found:
        await turn.say(texts.CORRECT_NONE)
        return
    choices = [[Button(texts.correct_pick(r.id, r.full_name), f"mn:e:{r.id}")] for r in found]
    await turn.say(f"{texts.CORRECT_CHOOSE}\n{texts.CORRECT_USAGE}", choices)


async def start(turn: Turn, member: Member, number: int) -> None:
    """Open the journey on referral `number`, or say why it cannot be corrected."""
    referral = await referrals.get(turn.deps.db, number)
    reason = referrals.edit_refusal(referral, member.id)
    if reason is not None:
        await turn.say(texts.correct_refused(number, reason))
        return
    assert referral is not None
    if not await flow.busy(turn):
        await flow.begin(turn, CORRECT, FIELD, _draft(referral))


def _draft(referral: Referral) -> Draft:
    """The referral as it is: the referral journey's answers read and check these keys."""
    return {
        "ref": referral.id,
        "full_name": referral.full_name,
        "birth": referral.birth.to_json(),
        "phone": referral.phone,
        "org": referral.org.value,
        "guardian": referral.guardian_consent,
    }


# --- which detail ----------------------------------------------------------------------------


async def ask_field(turn: Turn, draft: Draft) -> None:
    text = texts.correct_which(
        draft["ref"],
        draft["full_name"],
        Birth.from_json(draft["birth"]).display(),
        draft["phone"],
        Org(draft["org"]),
    )
    label = texts.CORRECT_FIELD
    rows = [
        [(label["full_name"], "full_name"), (label["birth"], "birth")],
        [(label["phone"], "phone"), (label["org"], "org")],
    ]
    await turn.say(text, CORRECT.keyboard(FIELD, draft, rows))


async def take_field(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value in _NEXT:
        return Next(_NEXT[value], {**draft, "field": value})
    if value != "org":
        return Retry(flow.use_buttons(turn))
    # Two organisations: correcting one means the other, if it admits the youth's age.
    other = next(org for org in Org if org.value != draft["org"])
    refusal = org_refusal(turn, draft, other.value)
    if refusal is not None:
        return refusal
    return Next(CONFIRM, {**draft, "field": "org", "new": other.value})


# --- the new value ---------------------------------------------------------------------------

_take_name = name_answer(CONFIRM)
_take_phone = phone_answer(CONFIRM, texts.CORRECT_DUPLICATE)


async def ask_name(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.ASK_NEW_NAME))


async def take_name(turn: Turn, draft: Draft, text: str) -> Outcome:
    outcome = await _take_name(turn, draft, text)
    if not isinstance(outcome, Next):
        return outcome
    name = outcome.draft["full_name"]
    if name == draft["full_name"]:
        return Retry(texts.CORRECT_SAME)
    birth = Birth.from_json(draft["birth"])
    if await referrals.duplicate_of_other(turn.deps.db, draft["ref"], full_name=name, birth=birth):
        await turn.say(texts.CORRECT_DUPLICATE)
        return End()
    return Next(CONFIRM, {**draft, "new": name})


async def ask_birth(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.ASK_NEW_BIRTH))


async def take_birth(turn: Turn, draft: Draft, text: str) -> Outcome:
    """A birth date the referral's organisation admits, of a youth nobody else introduced."""
    deps, today = turn.deps, turn.deps.today()
    try:
        birth = parse_birth(text, today)
    except ValueError as exc:
        return Retry(texts.invalid(error_code(exc)))
    if birth == Birth.from_json(draft["birth"]):
        return Retry(texts.CORRECT_SAME)
    org = Org(draft["org"])
    if not deps.ages.admits(org, birth, today):
        age = texts.age_text(*birth.age_bounds(today))
        return Retry(texts.age_outside_org(age, org, deps.ages))
    name = draft["full_name"]
    if await referrals.duplicate_of_other(deps.db, draft["ref"], full_name=name, birth=birth):
        await turn.say(texts.CORRECT_DUPLICATE)
        return End()
    draft = {**draft, "new": birth.to_json()}
    if deps.ages.may_be_child(birth, today) and not draft.get("guardian"):
        return Next(GUARDIAN, draft)
    return Next(CONFIRM, draft)


async def ask_guardian(turn: Turn, draft: Draft) -> None:
    rows = [[(texts.BTN_GUARDIAN_YES, YES), (texts.BTN_GUARDIAN_NO, NO)]]
    await turn.say(texts.ask(texts.ASK_GUARDIAN), CORRECT.keyboard(GUARDIAN, draft, rows))


async def take_guardian(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value == YES:
        return Next(CONFIRM, {**draft, "consent": True})
    if value == NO:
        await turn.say(texts.CORRECT_GUARDIAN_MISSING)
        return End()
    return Retry(flow.use_buttons(turn))


async def ask_phone(turn: Turn, draft: Draft) -> None:
    keyboard = CORRECT.keyboard(PHONE, draft, [[(texts.BTN_NO_PHONE, NONE)]])
    await turn.say(texts.ask(texts.ASK_NEW_PHONE), keyboard)


def _no_phone(draft: Draft) -> Outcome:
    if draft["phone"] is None:
        return Retry(texts.CORRECT_SAME)
    return Next(CONFIRM, {**draft, "new": None})


async def take_phone(turn: Turn, draft: Draft, text: str) -> Outcome:
    if fold(text) in (fold(texts.BTN_NO_PHONE), fold(texts.BTN_SKIP)):
        return _no_phone(draft)
    try:
        if normalize_phone(text) == draft["phone"]:  # else it would be its own duplicate
            return Retry(texts.CORRECT_SAME)
    except ValueError:
        pass  # the referral journey's answer says what is wrong
    outcome = await _take_phone(turn, draft, text)
    if not isinstance(outcome, Next):
        return outcome
    return Next(CONFIRM, {**draft, "new": outcome.draft["phone"]})


async def press_phone(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value != NONE:
        return Retry(flow.use_buttons(turn))
    return _no_phone(draft)


# --- old → new, and the write ----------------------------------------------------------------


def _shown(field: str, value: object) -> str:
    if field == "birth":
        return Birth.from_json(str(value)).display()
    if field == "phone":
        return str(value) if value else texts.NO_PHONE
    if field == "org":
        return texts.ORG_NAME[Org(str(value))]
    return str(value)


async def ask_confirm(turn: Turn, draft: Draft) -> None:
    field = draft["field"]
    text = texts.ask(
        texts.correct_confirm(
            draft["ref"], field, _shown(field, draft[field]), _shown(field, draft["new"])
        )
    )
    rows = [[(texts.BTN_CONFIRM, YES), (texts.BTN_CANCEL, NO)]]
    await turn.say(text, CORRECT.keyboard(CONFIRM, draft, rows))


def _changes(draft: Draft) -> dict[str, object]:
    field, new = draft["field"], draft["new"]
    value: object = Birth.from_json(new) if field == "birth" else new
    changes: dict[str, object] = {field: value}
    if draft.get("consent"):
        changes["guardian_consent"] = True
    return changes


async def take_confirm(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value == NO:
        await turn.say(texts.CANCELLED)
        return End()
    if value != YES:
        return Retry(flow.use_buttons(turn))
    deps, number = turn.deps, int(draft["ref"])
    member = await current_member(turn)
    if member is None:
        await turn.say(texts.NOT_REGISTERED)
        return End()
    try:  # a leader may have decided meanwhile: storage checks again, in the write
        _, after = await referrals.correct(
            deps.db,
            turn.who.key,
            number,
            member.id,
            _changes(draft),
            deps.clock,
            actor_ref=turn.who.address,
        )
    except NotEditable as exc:
        await turn.say(texts.correct_refused(number, exc.reason))
        return End()
    except DuplicateReferral:
        await turn.say(texts.CORRECT_DUPLICATE)
        return End()
    await turn.say(texts.corrected(number, after.full_name))
    return End()


CORRECT.steps.update(
    {
        FIELD: flow.Step(ask_field, on_button=take_field),
        NAME: flow.Step(ask_name, on_text=take_name),
        BIRTH: flow.Step(ask_birth, on_text=take_birth),
        GUARDIAN: flow.Step(ask_guardian, on_button=take_guardian),
        PHONE: flow.Step(ask_phone, on_text=take_phone, on_button=press_phone),
        CONFIRM: flow.Step(ask_confirm, on_button=take_confirm),
    }
)
