"""/moiban (/invitefriend): a member's own invitation; and the friend's journey through it.

The young person opens the member's link (or types `start CODE` on Zalo), reads who invited them
and what is kept, agrees (or not: nothing is stored), then gives their own name, birth date,
phone (their own contact, typed, or skipped) and Đoàn or Hội; under 16, a parent's or guardian's
agreement is asked, or nothing is stored. The result is a referral of that member, marked as
self-registered, with the consent and its time.
"""

from __future__ import annotations

from pydantic import ValidationError

from bot import texts
from handlers import flow, referral
from handlers.chat import Reply, Turn
from handlers.common import current_member, notify_member
from handlers.flow import Draft, End, Next, Outcome, Retry
from storage import codes, friends, members, referrals, units
from storage.members import Member
from storage.referrals import DuplicateReferral
from storage.validation import (
    Birth,
    Org,
    error_code,
)

FRIEND = flow.journey("frd")
CONSENT, NAME, BIRTH, PHONE, ORG, GUARDIAN = "ok", "name", "birth", "phone", "org", "guard"
YES, NO = "yes", "no"


# --- the member's side ---------------------------------------------------------------------


async def invite_friend(turn: Turn) -> None:
    member = await current_member(turn)
    if member is None:
        await turn.say(texts.NOT_REGISTERED)
        return
    renew = bool(turn.args) and turn.args[0].casefold() in {"moi", "mới", "new"}
    deps = turn.deps
    made = await friends.invitation(deps.db, deps.link_secret, member, renew=renew)
    link = deps.start_link(made.payload)
    await turn.say(texts.friend_invitation(link, codes.display(made.code), renew))
    await turn.say(texts.friend_forward(member.full_name, link, codes.display(made.code)))


# --- the friend's side ---------------------------------------------------------------------


async def start(turn: Turn, inviter: Member) -> None:
    await flow.begin(turn, FRIEND, CONSENT, {"by": inviter.id})


async def _inviter(turn: Turn, draft: Draft) -> Member | None:
    async with turn.deps.db.read() as conn:
        return await members.get(conn, int(draft["by"]))


async def ask_consent(turn: Turn, draft: Draft) -> None:
    inviter = await _inviter(turn, draft)
    async with turn.deps.db.read() as conn:
        unit = await units.get(conn, inviter.unit_id) if inviter else None
    intro = texts.friend_intro(inviter.full_name if inviter else "", unit.name if unit else "")
    rows = [[(texts.BTN_AGREE, YES), (texts.BTN_DISAGREE, NO)]]
    await turn.say(f"{intro}\n\n{texts.FRIEND_PRIVACY}", FRIEND.keyboard(CONSENT, draft, rows))


async def take_consent(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value == NO:
        await turn.say(texts.FRIEND_NOTHING_STORED)
        return End()
    if value != YES:
        return Retry(flow.use_buttons(turn))
    return Next(NAME, draft)


async def ask_name(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.FRIEND_ASK_NAME))


async def ask_birth(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.FRIEND_ASK_BIRTH))


async def ask_phone(turn: Turn, draft: Draft) -> None:
    question = texts.FRIEND_ASK_PHONE if turn.out.buttons else texts.FRIEND_ASK_PHONE_TYPED
    await turn.out.send(Reply(texts.ask(question), ask_phone=True))


async def ask_org(turn: Turn, draft: Draft) -> None:
    rows = [[(texts.BTN_ORG[org], org.value) for org in Org]]
    await turn.out.send(
        Reply(texts.ask(texts.FRIEND_ASK_ORG), FRIEND.keyboard(ORG, draft, rows), phone_done=True)
    )


async def take_org(turn: Turn, draft: Draft, value: str) -> Outcome:
    refusal = referral.org_refusal(turn, draft, value)
    if refusal is not None:
        return refusal
    deps, birth = turn.deps, Birth.from_json(draft["birth"])
    draft = {**draft, "org": value}
    if deps.ages.may_be_child(birth, deps.today()):
        return Next(GUARDIAN, draft)
    return await _save(turn, {**draft, "guardian": False})


async def ask_guardian(turn: Turn, draft: Draft) -> None:
    rows = [[(texts.BTN_GUARDIAN_YES, YES), (texts.BTN_GUARDIAN_NO, NO)]]
    await turn.say(texts.ask(texts.FRIEND_ASK_GUARDIAN), FRIEND.keyboard(GUARDIAN, draft, rows))


async def take_guardian(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value == YES:
        return await _save(turn, {**draft, "guardian": True})
    if value == NO:
        await turn.say(texts.FRIEND_NOTHING_STORED)
        return End()
    return Retry(flow.use_buttons(turn))


async def _save(turn: Turn, draft: Draft) -> Outcome:
    deps = turn.deps
    inviter = await _inviter(turn, draft)
    if inviter is None:  # the member erased their data meanwhile
        await turn.say(texts.FRIEND_INVITER_GONE)
        return End()
    try:
        who = (turn.who.channel, turn.who.user_ref)
        data = referral.youth_in(deps, draft)
        saved = await referrals.submit(
            deps.db, turn.who.key, inviter, data, deps.clock, deps.settings.tz, youth=who
        )
    except DuplicateReferral:
        await turn.say(texts.FRIEND_DUPLICATE)
        return End()
    except ValidationError as exc:
        await turn.say(texts.invalid(error_code(exc)))
        return End()
    await turn.say(texts.friend_saved(inviter.full_name))
    await notify_member(deps, inviter, texts.friend_signed_up(saved.full_name))
    return End()


FRIEND.steps.update(
    {
        CONSENT: flow.Step(ask_consent, on_button=take_consent),
        NAME: flow.Step(ask_name, on_text=referral.name_answer(BIRTH)),
        BIRTH: flow.Step(ask_birth, on_text=referral.birth_answer(PHONE, texts.FRIEND_DUPLICATE)),
        PHONE: flow.Step(
            ask_phone,
            on_text=referral.phone_answer(ORG, texts.FRIEND_DUPLICATE),
            on_contact=referral.phone_answer(ORG, texts.FRIEND_DUPLICATE),
        ),
        ORG: flow.Step(ask_org, on_button=take_org),
        GUARDIAN: flow.Step(ask_guardian, on_button=take_guardian),
    }
)
