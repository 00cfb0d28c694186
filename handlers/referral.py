"""/gioithieu (/refer): a member logs a young person they brought in.

Steps: full name → birth date → phone (optional) → Đoàn or Hội → guardian's consent when the
youth may be under 16 → summary with Confirm / Cancel → saved as `introduced`.
"""

from __future__ import annotations

from pydantic import ValidationError

from bot import texts
from handlers import flow
from handlers.chat import Turn, fold
from handlers.common import Deps, current_member
from handlers.flow import Answer, Draft, End, Next, Outcome, Retry
from storage import referrals
from storage.referrals import DuplicateReferral
from storage.validation import (
    Birth,
    Org,
    ReferralIn,
    error_code,
    normalize_name,
    normalize_phone,
    parse_birth,
)

REFERRAL = flow.journey("ref")
NAME, BIRTH, PHONE, ORG, GUARDIAN, CONFIRM = "name", "birth", "phone", "org", "guard", "ok"
SKIP, YES, NO = "skip", "yes", "no"


def _age(deps: Deps, birth: Birth) -> str:
    return texts.age_text(*birth.age_bounds(deps.today()))


async def refer(turn: Turn) -> None:
    if await current_member(turn) is None:
        await turn.say(texts.NOT_REGISTERED)
        return
    if not await flow.busy(turn):
        await flow.begin(turn, REFERRAL, NAME, {})


async def ask_name(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.ASK_YOUTH_NAME))


# --- the youth's details, checked the same way whoever types them (a member, or the youth) ---


def name_answer(next_step: str) -> Answer:
    async def take_name(turn: Turn, draft: Draft, text: str) -> Outcome:
        try:
            return Next(next_step, {**draft, "full_name": normalize_name(text)})
        except ValueError as exc:
            return Retry(texts.invalid(error_code(exc)))

    return take_name


def birth_answer(next_step: str, duplicate: str) -> Answer:
    """A birth date within the ages some organisation admits, of a youth nobody introduced."""

    async def take_birth(turn: Turn, draft: Draft, text: str) -> Outcome:
        deps = turn.deps
        try:
            birth = parse_birth(text, deps.today())
        except ValueError as exc:
            return Retry(texts.invalid(error_code(exc)))
        if not deps.ages.admits_any(birth, deps.today()):
            return Retry(texts.age_outside_all(_age(deps, birth), deps.ages))
        if await referrals.already_referred(deps.db, full_name=draft["full_name"], birth=birth):
            await turn.say(duplicate)
            return End()
        return Next(next_step, {**draft, "birth": birth.to_json()})

    return take_birth


def phone_answer(next_step: str, duplicate: str) -> Answer:
    """A Vietnamese mobile nobody gave yet, or "Bỏ qua" typed."""

    async def take_phone(turn: Turn, draft: Draft, text: str) -> Outcome:
        if fold(text) == fold(texts.BTN_SKIP):
            return Next(next_step, {**draft, "phone": None})
        try:
            phone = normalize_phone(text)
        except ValueError as exc:
            return Retry(texts.invalid(error_code(exc)))
        if await referrals.already_referred(turn.deps.db, phone=phone):
            await turn.say(duplicate, phone_done=True)
            return End()
        return Next(next_step, {**draft, "phone": phone})

    return take_phone


def org_refusal(turn: Turn, draft: Draft, value: str) -> Retry | None:
    """Why this organisation cannot take the youth (a wrong answer, or their age), if so."""
    if value not in {org.value for org in Org}:
        return Retry(flow.use_buttons(turn))
    deps, org, birth = turn.deps, Org(value), Birth.from_json(draft["birth"])
    if not deps.ages.admits(org, birth, deps.today()):
        return Retry(texts.age_outside_org(_age(deps, birth), org, deps.ages))
    return None


def youth_in(deps: Deps, draft: Draft) -> ReferralIn:
    """The youth as the draft holds them, validated as a whole (ValidationError if the ages
    changed meanwhile)."""
    return ReferralIn.model_validate(
        {
            "full_name": draft["full_name"],
            "birth": Birth.from_json(draft["birth"]),
            "phone": draft.get("phone"),
            "org": draft["org"],
            "guardian_consent": bool(draft.get("guardian")),
        },
        context={"today": deps.today(), "ages": deps.ages},
    )


async def ask_birth(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.ASK_BIRTH))


async def ask_phone(turn: Turn, draft: Draft) -> None:
    keyboard = REFERRAL.keyboard(PHONE, draft, [[(texts.BTN_SKIP, SKIP)]])
    await turn.say(texts.ask(texts.ASK_YOUTH_PHONE), keyboard)


async def skip_phone(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value != SKIP:
        return Retry(flow.use_buttons(turn))
    return Next(ORG, {**draft, "phone": None})


async def ask_org(turn: Turn, draft: Draft) -> None:
    rows = [[(texts.BTN_ORG[org], org.value) for org in Org]]
    await turn.say(texts.ask(texts.ASK_ORG), REFERRAL.keyboard(ORG, draft, rows))


async def take_org(turn: Turn, draft: Draft, value: str) -> Outcome:
    refusal = org_refusal(turn, draft, value)
    if refusal is not None:
        return refusal
    deps, birth = turn.deps, Birth.from_json(draft["birth"])
    draft = {**draft, "org": value}
    if deps.ages.may_be_child(birth, deps.today()):
        return Next(GUARDIAN, draft)
    return Next(CONFIRM, {**draft, "guardian": False})


async def ask_guardian(turn: Turn, draft: Draft) -> None:
    rows = [[(texts.BTN_GUARDIAN_YES, YES), (texts.BTN_GUARDIAN_NO, NO)]]
    await turn.say(texts.ask(texts.ASK_GUARDIAN), REFERRAL.keyboard(GUARDIAN, draft, rows))


async def take_guardian(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value == YES:
        return Next(CONFIRM, {**draft, "guardian": True})
    if value == NO:
        await turn.say(texts.GUARDIAN_MISSING)
        return End()
    return Retry(flow.use_buttons(turn))


async def ask_confirm(turn: Turn, draft: Draft) -> None:
    birth = Birth.from_json(draft["birth"])
    summary = texts.referral_summary(
        draft["full_name"],
        birth.display(),
        _age(turn.deps, birth),
        draft.get("phone"),
        Org(draft["org"]),
        bool(draft.get("guardian")),
    )
    rows = [[(texts.BTN_CONFIRM, YES), (texts.BTN_CANCEL, NO)]]
    await turn.say(summary, REFERRAL.keyboard(CONFIRM, draft, rows))


async def take_confirm(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value == NO:
        await turn.say(texts.CANCELLED)
        return End()
    if value != YES:
        return Retry(flow.use_buttons(turn))
    deps = turn.deps
    member = await current_member(turn)
    if member is None:
        await turn.say(texts.NOT_REGISTERED)
        return End()
    try:
        saved = await referrals.submit(
            deps.db, turn.who.key, member, youth_in(deps, draft), deps.clock, deps.settings.tz
        )
    except DuplicateReferral:
        await turn.say(texts.DUPLICATE)
        return End()
    except ValidationError as exc:  # the settings changed while the member was typing
        await turn.say(texts.invalid(error_code(exc)))
        return End()
    year = await referrals.member_year(deps.db, member.id, deps.today().year, deps.settings.tz)
    await turn.say(texts.referral_saved(saved.id, saved.full_name, year.year, year.admitted))
    return End()


REFERRAL.steps.update(
    {
        NAME: flow.Step(ask_name, on_text=name_answer(BIRTH)),
        BIRTH: flow.Step(ask_birth, on_text=birth_answer(PHONE, texts.DUPLICATE)),
        PHONE: flow.Step(
            ask_phone, on_text=phone_answer(ORG, texts.DUPLICATE), on_button=skip_phone
        ),
        ORG: flow.Step(ask_org, on_button=take_org),
        GUARDIAN: flow.Step(ask_guardian, on_button=take_guardian),
        CONFIRM: flow.Step(ask_confirm, on_button=take_confirm),
    }
)
