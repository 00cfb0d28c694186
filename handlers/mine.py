"""/cuatoi (/mine): the member's referrals this year, whether 1+1 is met, and withdrawing or
correcting (handlers/correct.py) one still waiting."""

from __future__ import annotations

from bot import texts
from handlers import correct
from handlers.chat import Button, Choice, Reply, Turn
from handlers.common import Deps, current_member, notify_member, parse_button, refuse
from storage import friends, members, referrals, roles, units
from storage.members import Member
from storage.referrals import Decision, NotAllowed, Status
from storage.roles import Role

SHOWN = 30  # a phone screen; older ones are counted, not listed
WITHDRAW_BUTTONS = 5


async def show_mine(turn: Turn) -> None:
    member = await current_member(turn)
    if member is None:
        await turn.say(texts.NOT_REGISTERED)
        return
    deps = turn.deps
    year = await referrals.member_year(deps.db, member.id, deps.today().year, deps.settings.tz)
    lines = [
        texts.mine_line(r.id, r.full_name, r.birth.display(), r.org, r.status.value)
        for r in year.referrals[:SHOWN]
    ]
    hidden = max(0, len(year.referrals) - SHOWN)
    pending = [r for r in year.referrals if r.status is Status.INTRODUCED][:WITHDRAW_BUTTONS]
    choices = [
        [Button(texts.withdraw_button(r.id), f"mn:w:{r.id}")]
        + ([] if r.self_registered else [Button(texts.correct_button(r.id), f"mn:e:{r.id}")])
        for r in pending
    ]
    text = texts.mine(year.year, lines, year.admitted, year.pending, hidden)
    await turn.say(text, choices)


async def press(turn: Turn) -> None:
    """mn:w asks to confirm, mn:W withdraws, mn:k keeps, mn:e corrects (/sua); only the
    introducing member may."""
    assert isinstance(turn.incoming, Choice)
    parsed = parse_button(turn.incoming.data, "mn", "wWke", 1)
    member = await current_member(turn)
    deps = turn.deps
    referral = await referrals.get(deps.db, parsed[1][0]) if parsed else None
    op = parsed[0] if parsed else ""
    if member is None or referral is None or referral.member_id != member.id:
        await refuse(turn)
        return
    await turn.out.toast()
    if op == "e":
        await correct.start(turn, member, referral.id)
        return
    if op == "k":
        await turn.out.drop_choices()
        return
    if op == "w":
        buttons = [
            [
                Button(texts.BTN_WITHDRAW_YES, f"mn:W:{referral.id}"),
                Button(texts.BTN_WITHDRAW_NO, f"mn:k:{referral.id}"),
            ]
        ]
        await turn.say(texts.confirm_withdraw(referral.id, referral.full_name), buttons)
        return
    try:
        await referrals.change_status(
            deps.db,
            referral.id,
            Decision.WITHDRAW,
            member.id,
            deps.clock,
            tz=deps.settings.tz,
            actor_ref=turn.who.address,
        )
    except NotAllowed:
        await turn.out.replace(Reply(texts.CANNOT_WITHDRAW))
        return
    await turn.out.replace(Reply(texts.WITHDRAWN))


async def ask_erase(turn: Turn) -> None:
    """/xoadulieu: deletion on request, after one confirmation (a member's, or a youth's who
    signed up through a member's invitation)."""
    if await current_member(turn) is None:
        if not await friends.own_referrals(turn.deps.db, turn.who.channel, turn.who.user_ref):
            await turn.say(texts.NOT_REGISTERED)
            return
        buttons = [[Button(texts.BTN_ERASE_YES, "er:y:1"), Button(texts.BTN_ERASE_NO, "er:n:1")]]
        await turn.say(texts.CONFIRM_ERASE_YOUTH, buttons)
        return
    buttons = [[Button(texts.BTN_ERASE_YES, "er:y:0"), Button(texts.BTN_ERASE_NO, "er:n:0")]]
    await turn.say(texts.CONFIRM_ERASE, buttons)


async def _erase_youth(turn: Turn) -> None:
    deps = turn.deps
    withdrawn = await friends.erase_youth(deps.db, turn.who.channel, turn.who.user_ref)
    await turn.out.replace(Reply(texts.ERASED_YOUTH))
    for gone in withdrawn:
        async with deps.db.read() as conn:
            introducer = await members.get(conn, gone.member_id) if gone.member_id else None
        if introducer is not None:
            await notify_member(deps, introducer, texts.friend_withdrew(gone.referral_id))


async def press_erase(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    parsed = parse_button(turn.incoming.data, "er", "yn", 1)
    member = await current_member(turn)
    if parsed is not None and parsed[1] == [1] and member is None:
        await turn.out.toast()
        if parsed[0] == "n":
            await turn.out.replace(Reply(texts.ERASE_KEPT))
        else:
            await _erase_youth(turn)
        return
    if parsed is None or member is None:
        await refuse(turn)  # it only ever acts on the presser's own data
        return
    await turn.out.toast()
    if parsed[0] == "n":
        await turn.out.replace(Reply(texts.ERASE_KEPT))
        return
    deps = turn.deps
    kept = await members.admissions_kept(deps.db, member.id)
    leaders, unit_name = await _leaders_of(deps, member)
    await members.erase(deps.db, member.id)
    await turn.out.replace(Reply(texts.ERASED))
    for leader in leaders:
        await notify_member(deps, leader, texts.member_left(unit_name, kept))


async def _leaders_of(deps: Deps, member: Member) -> tuple[list[Member], str]:
    """The leaders of the member's unit, or of the nearest unit above that has some (the
    member themself left out), and the unit's name: read before the member is erased."""
    async with deps.db.read() as conn:
        chain = await units.ancestors(conn, member.unit_id)
    for unit in chain:
        found = [m for m in await roles.holders(deps.db, unit.id, Role.LEADER) if m.id != member.id]
        if found:
            return found, chain[0].name
    return [], chain[0].name if chain else ""
