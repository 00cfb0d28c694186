"""/start: a new member joins their branch; a registered one gets the menu.

Steps: choose the unit (invite link, drill-down tree, or a search by name) → full name →
Đoàn viên / Hội viên → phone (shared contact, typed, or skipped).
"""

from __future__ import annotations

import re

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from handlers import appoint, flow
from handlers.common import (
    REMOVE_KEYBOARD,
    Context,
    conversation_key,
    current_member,
    say,
)
from handlers.flow import Draft, End, Next, Outcome, Retry, Stay
from storage import invites, members, roles, units
from storage.members import AlreadyRegistered
from storage.units import Unit
from storage.validation import MemberIn, Org, error_code, normalize_name, normalize_phone

REGISTRATION = flow.journey("reg")
UNIT, NAME, MEMBERSHIP, PHONE = "unit", "name", "member", "phone"
PAGE_SIZE = 8
SEARCH_LIMIT = 8


# --- entry -----------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    payload = context.args[0] if context.args else ""
    member = await current_member(update, context)
    if member is not None:
        if roles.is_grant_payload(payload):
            await appoint.take_grant(update, context, roles.token_hash(payload), member)
            return
        async with context.deps.db.read() as conn:
            unit = await units.get(conn, member.unit_id)
        await say(update, context, texts.greeting(member.full_name, unit.name if unit else ""))
        return
    if await flow.busy(update, context, restartable=REGISTRATION):
        return
    if roles.is_grant_payload(payload):
        await _start_with_grant(update, context, payload)
    elif payload.startswith(invites.UNIT_PREFIX):
        await _start_with_invite(update, context, payload)
    else:
        await say(update, context, texts.WELCOME)
        await flow.begin(update, context, REGISTRATION, UNIT, {"at": 0, "page": 0})


async def _start_with_invite(update: Update, context: Context, payload: str) -> None:
    unit = await invites.resolve_unit_payload(context.deps.db, context.deps.link_secret, payload)
    if unit is None:
        await say(update, context, texts.INVITE_INVALID)
        await flow.begin(update, context, REGISTRATION, UNIT, {"at": 0, "page": 0})
        return
    await say(update, context, f"{texts.WELCOME}\n{texts.invited_to(unit.name)}")
    await flow.begin(update, context, REGISTRATION, NAME, {"unit_id": unit.id})


async def _start_with_grant(update: Update, context: Context, payload: str) -> None:
    """A one-time leader/admin link opened by someone not yet registered: register them in
    that unit first. The draft keeps only the token's hash."""
    check = await appoint.check_payload(context, payload)
    if check.problem is not None or check.unit is None or check.role is None:
        await say(update, context, texts.GRANT_PROBLEM[check.problem or "grant_invalid"])
        await say(update, context, texts.WELCOME)
        await flow.begin(update, context, REGISTRATION, UNIT, {"at": 0, "page": 0})
        return
    await say(
        update, context, texts.grant_welcome(check.role.value, check.unit.name, check.unit.org)
    )
    draft = {"unit_id": check.unit.id, "grant": roles.token_hash(payload)}
    await flow.begin(update, context, REGISTRATION, NAME, draft)


# --- choosing the unit -----------------------------------------------------------------------


async def _tree_page(
    context: Context, at: int, page: int
) -> tuple[str, list[list[tuple[str, str]]]]:
    """The question and buttons for the children of unit `at` (0: the roots)."""
    async with context.deps.db.read() as conn:
        parent = await units.get(conn, at) if at else None
        kids = await units.children(conn, parent.id if parent else None)
        openable = {kid.id for kid in kids if await units.has_children(conn, kid.id)}
    pages = max(1, -(-len(kids) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows: list[list[tuple[str, str]]] = []
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


async def ask_unit(update: Update, context: Context, draft: Draft) -> None:
    async with context.deps.db.read() as conn:
        roots = await units.children(conn, None)
    if not roots:
        await say(update, context, texts.NO_UNITS)
        await flow.cancel(update, context)
        return
    at = draft.get("at", 0) or (roots[0].id if len(roots) == 1 else 0)
    question, rows = await _tree_page(context, at, draft.get("page", 0))
    await say(update, context, question, REGISTRATION.keyboard(UNIT, draft, rows))


async def browse_or_pick(update: Update, context: Context, draft: Draft, value: str) -> Outcome:
    browse = re.fullmatch(r"o([0-9]{1,9})\.([0-9]{1,4})", value)
    pick = re.fullmatch(r"s([0-9]{1,9})", value)
    if browse:
        at, page = int(browse[1]), int(browse[2])
        question, rows = await _tree_page(context, at, page)
        query = update.callback_query
        assert query is not None
        await query.edit_message_text(
            question, reply_markup=REGISTRATION.keyboard(UNIT, draft, rows)
        )
        return Stay({**draft, "at": at, "page": page})
    if pick:
        async with context.deps.db.read() as conn:
            unit = await units.get(conn, int(pick[1]))
            leaf = unit is not None and not await units.has_children(conn, unit.id)
        if unit is not None and leaf:
            return Next(NAME, {"unit_id": unit.id})
    return Retry(texts.USE_BUTTONS)


async def search_unit(update: Update, context: Context, draft: Draft, text: str) -> Outcome:
    async with context.deps.db.read() as conn:
        found = await units.search_leaves(conn, text, SEARCH_LIMIT)
        labels = [await _label_with_parent(conn, unit) for unit in found]
    if not found:
        return Retry(texts.SEARCH_NONE)
    rows = [[(label, f"s{unit.id}")] for unit, label in zip(found, labels, strict=True)]
    await say(update, context, texts.SEARCH_RESULTS, REGISTRATION.keyboard(UNIT, draft, rows))
    return Stay(draft)


async def _label_with_parent(conn, unit: Unit) -> str:  # type: ignore[no-untyped-def]
    parent = await units.get(conn, unit.parent_id) if unit.parent_id else None
    return f"{unit.name} – {parent.name}" if parent else unit.name


# --- name, membership, phone -----------------------------------------------------------------


async def ask_name(update: Update, context: Context, draft: Draft) -> None:
    await say(update, context, texts.ask(texts.ASK_MEMBER_NAME))


async def take_name(update: Update, context: Context, draft: Draft, text: str) -> Outcome:
    try:
        name = normalize_name(text)
    except ValueError as exc:
        return Retry(texts.invalid(error_code(exc)))
    return Next(MEMBERSHIP, {**draft, "full_name": name})


async def ask_membership(update: Update, context: Context, draft: Draft) -> None:
    rows = [[(texts.BTN_MEMBERSHIP[org], org.value) for org in Org]]
    await say(
        update,
        context,
        texts.ask(texts.ASK_MEMBERSHIP),
        REGISTRATION.keyboard(MEMBERSHIP, draft, rows),
    )


async def take_membership(update: Update, context: Context, draft: Draft, value: str) -> Outcome:
    if value not in {org.value for org in Org}:
        return Retry(texts.USE_BUTTONS)
    return Next(PHONE, {**draft, "membership": value})


async def ask_phone(update: Update, context: Context, draft: Draft) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(texts.BTN_SHARE_PHONE, request_contact=True)], [texts.BTN_SKIP]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await say(update, context, texts.ask(texts.ASK_MEMBER_PHONE), keyboard)


async def take_phone(update: Update, context: Context, draft: Draft, text: str) -> Outcome:
    if text.strip().casefold() == texts.BTN_SKIP.casefold():
        return await _finish(update, context, draft, None)
    try:
        phone = normalize_phone(text)
    except ValueError as exc:
        return Retry(texts.invalid(error_code(exc)))
    return await _finish(update, context, draft, phone)


async def _finish(update: Update, context: Context, draft: Draft, phone: str | None) -> Outcome:
    data = MemberIn(full_name=draft["full_name"], membership=draft["membership"], phone=phone)
    deps = context.deps
    key = conversation_key(update)
    try:
        member = await members.register(deps.db, key, draft["unit_id"], data, deps.clock)
    except AlreadyRegistered:
        await say(update, context, texts.ALREADY_REGISTERED_ELSEWHERE, REMOVE_KEYBOARD)
        return End()
    async with deps.db.read() as conn:
        unit = await units.get(conn, member.unit_id)
    await say(
        update,
        context,
        texts.registered(member.full_name, unit.name if unit else ""),
        REMOVE_KEYBOARD,
    )
    if draft.get("grant"):
        await appoint.take_grant(update, context, draft["grant"], member)
    return End()


REGISTRATION.steps.update(
    {
        UNIT: flow.Step(ask_unit, on_text=search_unit, on_button=browse_or_pick),
        NAME: flow.Step(ask_name, on_text=take_name),
        MEMBERSHIP: flow.Step(ask_membership, on_button=take_membership),
        PHONE: flow.Step(ask_phone, on_text=take_phone, on_contact=take_phone),
    }
)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(
        CommandHandler("start", start, filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE)
    )
