"""/start: a new member joins their branch; a registered one gets the menu.

Steps: choose the unit (invite link or code, drill-down tree, or a search by name) → full name
→ Đoàn viên / Hội viên → phone (shared contact, typed, or skipped).
"""

from __future__ import annotations

import re

from bot import texts
from handlers import appoint, flow, friend
from handlers.chat import Command, Reply, Turn
from handlers.common import Deps, current_actor, current_member, notify_member
from handlers.flow import Draft, End, Next, Outcome, Retry, Stay
from storage import codes, friends, invites, members, roles, units
from storage.members import AlreadyRegistered, Member
from storage.roles import Role
from storage.units import Unit
from storage.validation import MemberIn, Org, error_code, normalize_name, normalize_phone

REGISTRATION = flow.journey("reg")
UNIT, NAME, MEMBERSHIP, PHONE = "unit", "name", "member", "phone"
MOVING = flow.journey("mv")
CONFIRM = "confirm"
PAGE_SIZE = 8
SEARCH_LIMIT = 8


# --- entry -----------------------------------------------------------------------------------


async def start(turn: Turn, *, counted: bool = False) -> None:
    """`counted`: the caller already counted this payload as one of the person's tries."""
    payload = "".join(turn.args) if len(turn.args) <= 2 else ""
    if payload and not counted and not turn.deps.guesses.allow(turn.who.address):
        await turn.say(texts.TOO_MANY_TRIES)
        return
    code = codes.normalize(payload)
    grant = await _grant_digest(turn, payload, code)
    member = await current_member(turn)
    if member is not None:
        if grant is not None:
            await appoint.take_grant(turn, grant, member)
            return
        if code is not None or payload.startswith(invites.UNIT_PREFIX):
            invited = await _invited_unit(turn, payload, code)
            if invited is not None and invited.id != member.unit_id:
                await _offer_move(turn, member, invited)
                return
        async with turn.deps.db.read() as conn:
            unit = await units.get(conn, member.unit_id)
        await turn.say(texts.greeting(member.full_name, unit.name if unit else ""))
        return
    if await flow.busy(turn, restartable=REGISTRATION):
        return
    if grant is not None:
        await _start_with_grant(turn, grant)
    elif code is not None or payload.startswith((invites.UNIT_PREFIX, friends.PREFIX)):
        await _start_with_invite(turn, payload, code)
    else:
        await turn.say(texts.WELCOME)
        await flow.begin(turn, REGISTRATION, UNIT, {"at": 0, "page": 0})


async def typed_code(turn: Turn, text: str) -> bool:
    """A code typed alone, outside any question ("ABCD-EFGH", as read on a poster): what
    `start ABCD-EFGH` does, when it is a live invite, appointment or friend's code. Anything
    else is left to the menu (an ordinary word of eight letters is not a failed try)."""
    code = codes.normalize(text)
    if code is None:
        return False
    deps = turn.deps
    if not deps.guesses.allow(turn.who.address):
        await turn.say(texts.TOO_MANY_TRIES)
        return True
    live = (
        await invites.resolve_unit_code(deps.db, deps.link_secret, code) is not None
        or await roles.grant_digest_for_code(deps.db, code, deps.link_secret) is not None
        or await friends.inviter(deps.db, deps.link_secret, "", code) is not None
    )
    if live:
        turn.incoming = Command("start", (text.strip(),))
        await start(turn, counted=True)
    return live


async def _grant_digest(turn: Turn, payload: str, code: str | None) -> str | None:
    """The hash of the one-time appointment a /start link or a typed code carries, if any."""
    if roles.is_grant_payload(payload):
        return roles.token_hash(payload)
    if code is not None:
        return await roles.grant_digest_for_code(turn.deps.db, code, turn.deps.link_secret)
    return None


async def _invited_unit(turn: Turn, payload: str, code: str | None) -> Unit | None:
    deps = turn.deps
    if code is not None:
        return await invites.resolve_unit_code(deps.db, deps.link_secret, code)
    return await invites.resolve_unit_payload(deps.db, deps.link_secret, payload)


async def _start_with_invite(turn: Turn, payload: str, code: str | None) -> None:
    unit = await _invited_unit(turn, payload, code)
    if unit is None:
        deps = turn.deps
        inviter = await friends.inviter(deps.db, deps.link_secret, payload, code)
        if inviter is not None:  # a member's own invitation to a friend
            await friend.start(turn, inviter)
            return
        await turn.say(texts.INVITE_INVALID)
        await flow.begin(turn, REGISTRATION, UNIT, {"at": 0, "page": 0})
        return
    await turn.say(f"{texts.WELCOME}\n{texts.invited_to(unit.name)}")
    await flow.begin(turn, REGISTRATION, NAME, {"unit_id": unit.id})


async def _start_with_grant(turn: Turn, digest: str) -> None:
    """A one-time leader/admin link opened by someone not yet registered: register them in
    that unit first. The draft keeps only the token's hash."""
    check = await roles.check_grant(turn.deps.db, digest, turn.deps.clock)
    if check.problem is not None or check.unit is None or check.role is None:
        await turn.say(texts.GRANT_PROBLEM[check.problem or "grant_invalid"])
        await turn.say(texts.WELCOME)
        await flow.begin(turn, REGISTRATION, UNIT, {"at": 0, "page": 0})
        return
    await turn.say(texts.grant_welcome(check.role.value, check.unit.name, check.unit.org))
    await flow.begin(turn, REGISTRATION, NAME, {"unit_id": check.unit.id, "grant": digest})


# --- choosing the unit -----------------------------------------------------------------------


async def _tree_page(turn: Turn, at: int, page: int) -> tuple[str, list[list[tuple[str, str]]]]:
    """The question and choices for the children of unit `at` (0: the roots)."""
    async with turn.deps.db.read() as conn:
        parent = await units.get(conn, at) if at else None
        kids = await units.children(conn, parent.id if parent else None)
        openable = {kid.id for kid in kids if await units.has_children(conn, kid.id)}
    pages = max(1, -(-len(kids) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows: list[list[tuple[str, str]]] = []
    if parent is not None and kids and await _cadre_at(turn, parent):
        rows.append([(texts.register_here(parent.name), f"s{parent.id}")])
    for kid in kids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        if kid.id in openable:
            rows.append([(f"📂 {kid.name}", f"o{kid.id}.0")])
        else:
            rows.append([(kid.name, f"s{kid.id}")])
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append((texts.BTN_PREV, f"o{at}.{page - 1}"))
    if page < pages - 1:
        nav.append((texts.BTN_NEXT, f"o{at}.{page + 1}"))
    if parent is not None:
        nav.append((texts.BTN_BACK, f"o{parent.parent_id or 0}.0"))
    if nav:
        rows.append(nav)
    question = texts.choose_in(parent.name) if parent else texts.CHOOSE_ROOT
    return texts.ask(f"{question}\n{texts.SEARCH_HINT}"), rows


async def ask_unit(turn: Turn, draft: Draft) -> None:
    async with turn.deps.db.read() as conn:
        roots = await units.children(conn, None)
    if not roots:
        await turn.say(texts.NO_UNITS)
        await flow.cancel(turn)
        return
    at = draft.get("at", 0) or (roots[0].id if len(roots) == 1 else 0)
    question, rows = await _tree_page(turn, at, draft.get("page", 0))
    await turn.say(question, REGISTRATION.keyboard(UNIT, draft, rows))


async def browse_or_pick(turn: Turn, draft: Draft, value: str) -> Outcome:
    browse = re.fullmatch(r"o([0-9]{1,9})\.([0-9]{1,4})", value)
    pick = re.fullmatch(r"s([0-9]{1,9})", value)
    if browse:
        at, page = int(browse[1]), int(browse[2])
        question, rows = await _tree_page(turn, at, page)
        await turn.out.replace(Reply(question, REGISTRATION.keyboard(UNIT, draft, rows)))
        return Stay({**draft, "at": at, "page": page})
    if pick:
        async with turn.deps.db.read() as conn:
            unit = await units.get(conn, int(pick[1]))
            leaf = unit is not None and not await units.has_children(conn, unit.id)
        if unit is not None and leaf:
            return Next(NAME, {"unit_id": unit.id})
        if unit is not None and await _cadre_at(turn, unit):
            return Next(NAME, {"unit_id": unit.id, "cadre": True})
    return Retry(flow.use_buttons(turn))


async def _cadre_at(turn: Turn, unit: Unit) -> bool:
    """May this person register at a unit that has units below it? Cadres may: whoever holds
    a leader's or an admin's role covering it (ADMIN_IDS are known before they register)."""
    actor = await current_actor(turn)
    return bool(actor.roles) and await roles.may(turn.deps.db, actor, unit.id, Role.LEADER)


async def _still_cadre(turn: Turn, unit_id: int) -> bool:
    async with turn.deps.db.read() as conn:
        unit = await units.get(conn, unit_id)
    return unit is not None and await _cadre_at(turn, unit)


async def search_unit(turn: Turn, draft: Draft, text: str) -> Outcome:
    if not turn.deps.guesses.allow(turn.who.address):
        return Retry(texts.TOO_MANY_TRIES)
    code = codes.normalize(text)
    if code is not None:  # "Mã mời của chi đoàn?": a code typed instead of a search
        unit = await invites.resolve_unit_code(turn.deps.db, turn.deps.link_secret, code)
        if unit is not None:
            await turn.say(texts.invited_to(unit.name))
            return Next(NAME, {"unit_id": unit.id})
    async with turn.deps.db.read() as conn:
        found = await units.search_leaves(conn, text, SEARCH_LIMIT)
        labels = [await _label_with_parent(conn, unit) for unit in found]
    if not found:
        return Retry(texts.SEARCH_NONE if code is None else texts.CODE_UNKNOWN)
    rows = [[(label, f"s{unit.id}")] for unit, label in zip(found, labels, strict=True)]
    await turn.say(texts.SEARCH_RESULTS, REGISTRATION.keyboard(UNIT, draft, rows))
    return Stay(draft)


async def _label_with_parent(conn, unit: Unit) -> str:  # type: ignore[no-untyped-def]
    parent = await units.get(conn, unit.parent_id) if unit.parent_id else None
    return f"{unit.name} – {parent.name}" if parent else unit.name


# --- name, membership, phone -----------------------------------------------------------------


async def ask_name(turn: Turn, draft: Draft) -> None:
    await turn.say(texts.ask(texts.ASK_MEMBER_NAME))


async def take_name(turn: Turn, draft: Draft, text: str) -> Outcome:
    try:
        name = normalize_name(text)
    except ValueError as exc:
        return Retry(texts.invalid(error_code(exc)))
    return Next(MEMBERSHIP, {**draft, "full_name": name})


async def ask_membership(turn: Turn, draft: Draft) -> None:
    rows = [[(texts.BTN_MEMBERSHIP[org], org.value) for org in Org]]
    await turn.say(texts.ask(texts.ASK_MEMBERSHIP), REGISTRATION.keyboard(MEMBERSHIP, draft, rows))


async def take_membership(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value not in {org.value for org in Org}:
        return Retry(flow.use_buttons(turn))
    return Next(PHONE, {**draft, "membership": value})


async def ask_phone(turn: Turn, draft: Draft) -> None:
    question = texts.ASK_MEMBER_PHONE if turn.out.buttons else texts.ASK_MEMBER_PHONE_TYPED
    await turn.out.send(Reply(texts.ask(question), ask_phone=True))


async def take_phone(turn: Turn, draft: Draft, text: str) -> Outcome:
    if text.strip().casefold() == texts.BTN_SKIP.casefold():
        return await _finish(turn, draft, None)
    try:
        phone = normalize_phone(text)
    except ValueError as exc:
        return Retry(texts.invalid(error_code(exc)))
    return await _finish(turn, draft, phone)


async def _finish(turn: Turn, draft: Draft, phone: str | None) -> Outcome:
    data = MemberIn(full_name=draft["full_name"], membership=draft["membership"], phone=phone)
    deps = turn.deps
    if draft.get("grant"):
        # Two people opened one appointment link: the one who finishes second learns it
        # before joining the leader's unit, and chooses their own.
        check = await roles.check_grant(deps.db, draft["grant"], deps.clock)
        if check.problem is not None:
            problem = texts.GRANT_PROBLEM[check.problem]
            await turn.say(f"{problem}\n{texts.CHOOSE_OWN_UNIT}", phone_done=True)
            return Next(UNIT, {"at": 0, "page": 0})
    if draft.get("cadre") and not await _still_cadre(turn, int(draft["unit_id"])):
        # The role that let them choose a unit with units below it was removed meanwhile.
        await turn.say(f"{texts.CADRE_NO_LONGER}\n{texts.CHOOSE_OWN_UNIT}", phone_done=True)
        return Next(UNIT, {"at": 0, "page": 0})
    try:
        member = await members.register(
            deps.db, turn.who.key, draft["unit_id"], data, deps.clock, deps.settings.tz
        )
    except AlreadyRegistered:
        await turn.say(texts.ALREADY_REGISTERED_ELSEWHERE, phone_done=True)
        return End()
    turn.member = member
    async with deps.db.read() as conn:
        unit = await units.get(conn, member.unit_id)
    await turn.say(texts.registered(member.full_name, unit.name if unit else ""), phone_done=True)
    if draft.get("grant"):
        await appoint.take_grant(turn, draft["grant"], member)
    return End()


# --- moving to another unit (a registered member opened its invite) ---------------------------


async def _offer_move(turn: Turn, member: Member, unit: Unit) -> None:
    if await flow.busy(turn, restartable=MOVING):
        return
    # The invite's generation: a link renewed meanwhile (it leaked) no longer moves anyone.
    draft = {"from": member.unit_id, "to": unit.id, "gen": unit.invite_generation}
    await flow.begin(turn, MOVING, CONFIRM, draft)


async def _units(turn: Turn, draft: Draft) -> tuple[Unit | None, Unit | None]:
    async with turn.deps.db.read() as conn:
        return await units.get(conn, draft["from"]), await units.get(conn, draft["to"])


async def ask_move(turn: Turn, draft: Draft) -> None:
    old, new = await _units(turn, draft)
    member = await current_member(turn)
    if old is None or new is None or member is None:
        await flow.cancel(turn)
        await turn.say(texts.MOVE_OUTDATED)
        return
    deps = turn.deps
    pending = await members.undecided_count(deps.db, member.id, old.id)  # they stay there
    kept = [  # roles stay tied to their units: said before the member confirms
        f"{texts.role_title(role.value, unit.org)} {unit.name}"
        for unit, role in await roles.kept_on_move(deps.db, member.id, old.id, new.id)
    ]
    rows = [[(texts.move_button(new.name), "y")], [(texts.stay_button(old.name), "n")]]
    text = texts.ask(texts.move_offer(old.name, new.name, pending, kept))
    await turn.say(text, MOVING.keyboard(CONFIRM, draft, rows))


async def take_move(turn: Turn, draft: Draft, value: str) -> Outcome:
    old, new = await _units(turn, draft)
    member = await current_member(turn)
    if value not in ("y", "n"):
        return Retry(flow.use_buttons(turn))
    if old is None or new is None or member is None:
        await turn.say(texts.MOVE_OUTDATED)
        return End()
    if value == "n":
        await turn.say(texts.stayed(old.name))
        return End()
    deps = turn.deps
    leaders = await _leaders_of(deps, old.id, member.id)
    moved = await members.move(
        deps.db,
        turn.who.key,
        member.id,
        old.id,
        new.id,
        deps.clock,
        turn.who.address,
        invite_generation=draft.get("gen"),
        tz=deps.settings.tz,
    )
    if moved is None:
        await turn.say(texts.MOVE_OUTDATED)
        return End()
    turn.member = moved.member
    await turn.say(texts.moved(new.name))
    # Their waiting referrals stay with the old unit, whose leaders decide them.
    pending = await members.undecided_count(deps.db, member.id, old.id)
    told = texts.member_moved(member.full_name, new.name, pending)
    for leader in leaders:
        await notify_member(deps, leader, told)
    return End()


async def _leaders_of(deps: Deps, unit_id: int, member_id: int) -> list[Member]:
    """The leaders of the unit, or of the nearest unit above that has some (the member who
    moves left out): who is told that a member left."""
    async with deps.db.read() as conn:
        chain = await units.ancestors(conn, unit_id)
    for unit in chain:
        found = [m for m in await roles.holders(deps.db, unit.id, Role.LEADER) if m.id != member_id]
        if found:
            return found
    return []


MOVING.steps[CONFIRM] = flow.Step(ask_move, on_button=take_move)

REGISTRATION.steps.update(
    {
        UNIT: flow.Step(ask_unit, on_text=search_unit, on_button=browse_or_pick),
        NAME: flow.Step(ask_name, on_text=take_name),
        MEMBERSHIP: flow.Step(ask_membership, on_button=take_membership),
        PHONE: flow.Step(ask_phone, on_text=take_phone, on_contact=take_phone),
    }
)
