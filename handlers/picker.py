"""Choosing one unit within the user's scope: the start of every leader command.

Choices carry "pk:<purpose>:<op>:<unit>:<page>"; each press re-checks, at that moment, that
the user still holds the role on that unit, so an edited or replayed button does nothing.

A unit may also be typed after the command (`/donvi an binh`, `/stats 2026-Q3 X-AN-BINH`): its
code or words of its name, looked for only within the user's reach, so a unit outside it is
answered exactly like one that does not exist. In the arguments, the words meant as a period
(storage.periods.period_words: "2026-Q3", "Q3/2026", "quý 3"…) are read as one, or said to
be wrong; the other words name the unit. Commands that take no period ignore those words, and
plain numbers too when nothing else is typed (`/chitieu 20`: the usual question).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import texts
from handlers.chat import Button, Choice, Reply, Rows, Turn, fold
from handlers.common import current_actor, parse_button, refuse
from storage import roles, units
from storage.periods import Period, period_words, read_period
from storage.roles import Actor, Role
from storage.units import Unit
from storage.validation import Org, sort_key

PAGE_SIZE = 8
SHOWN = texts.UNIT_CHOICES_SHOWN  # units offered when several match what was typed
_NUMBER = re.compile(r"[0-9.,]+")  # "20", "1.000": no unit's name alone
ORG_WORDS = {"doan": Org.DOAN, "hoi": Org.HOI}  # "/xuat hoi": the top unit(s) of an organisation
Chosen = Callable[[Turn, Actor, Unit], Awaitable[None]]


@dataclass(frozen=True)
class Purpose:
    need: Role
    title: str
    on_chosen: Chosen


PURPOSES: dict[str, Purpose] = {}


def purpose(code: str, need: Role, title: str) -> Callable[[Chosen], Chosen]:
    def register(on_chosen: Chosen) -> Chosen:
        PURPOSES[code] = Purpose(need, title, on_chosen)
        return on_chosen

    return register


def _button(label: str, code: str, op: str, unit_id: int, page: int = 0) -> Button:
    return Button(label, f"pk:{code}:{op}:{unit_id}:{page}")


async def offer(turn: Turn, code: str) -> None:
    """Start choosing; a user with a single unit without children skips the question."""
    wanted = PURPOSES[code]
    actor = await current_actor(turn)
    tops = actor.top_units(wanted.need)
    if not tops:
        await turn.say(texts.NOT_AN_ADMIN if wanted.need is Role.ADMIN else texts.NOT_A_LEADER)
        return
    words = period_words(turn.args)[1]
    named = [w for w in words if not _NUMBER.fullmatch(w)]
    if named:
        # "khu phố 3" is a name; "CD-AB-THON1 20" is that unit with a number it takes not.
        typed, fewer = " ".join(words), " ".join(named)
        unit = await find(turn, typed, tops, lambda u: f"pk:{code}:s:{u.id}:0", fewer)
        if unit is not None:
            await wanted.on_chosen(turn, actor, unit)
        return
    async with turn.deps.db.read() as conn:
        top_units = [u for u in [await units.get(conn, t) for t in tops] if u is not None]
        top_units.sort(key=lambda u: sort_key(u.name))  # the Vietnamese order: Đ after D
        single_leaf = len(top_units) == 1 and not await units.has_children(conn, top_units[0].id)
    if single_leaf:
        await wanted.on_chosen(turn, actor, top_units[0])
        return
    if len(top_units) == 1:
        text, choices = await _page(turn, code, top_units[0], 0, actor)
    else:
        text = f"{wanted.title}\n{texts.PICK_UNIT}"
        choices = [[_button(u.name, code, "o", u.id)] for u in top_units]
    await turn.say(text, choices)


async def _page(turn: Turn, code: str, unit: Unit, page: int, actor: Actor) -> tuple[str, Rows]:
    wanted = PURPOSES[code]
    async with turn.deps.db.read() as conn:
        kids = await units.children(conn, unit.id)
        parent_ok = unit.parent_id is not None and await roles.covers(
            conn, actor, unit.parent_id, wanted.need
        )
    pages = max(1, -(-len(kids) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = [[_button(texts.BTN_CHOOSE_HERE, code, "s", unit.id)]]
    rows += [
        [_button(f"📂 {kid.name}", code, "o", kid.id)]
        for kid in kids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    nav = []
    if page > 0:
        nav.append(_button(texts.BTN_PREV, code, "o", unit.id, page - 1))
    if page < pages - 1:
        nav.append(_button(texts.BTN_NEXT, code, "o", unit.id, page + 1))
    if parent_ok and unit.parent_id is not None:
        nav.append(_button(texts.BTN_BACK, code, "o", unit.parent_id))
    if nav:
        rows.append(nav)
    return texts.picker_title(wanted.title, unit.name), rows


async def on_press(turn: Turn) -> None:
    assert isinstance(turn.incoming, Choice)
    data = turn.incoming.data
    code = data.split(":")[1] if data.count(":") == 4 else ""
    parsed = parse_button(data, f"pk:{code}", "os", 2) if code in PURPOSES else None
    if parsed is None:
        await refuse(turn)
        return
    op, (unit_id, page) = parsed
    wanted = PURPOSES[code]
    actor = await current_actor(turn)
    unit = await roles.unit_for(turn.deps.db, actor, unit_id, wanted.need)
    if unit is None:
        await refuse(turn)
        return
    await turn.out.toast()
    if op == "o":
        text, choices = await _page(turn, code, unit, page, actor)
        await turn.out.replace(Reply(text, choices))
    else:
        await turn.out.replace(Reply(texts.picker_title(wanted.title, unit.name)))
        await wanted.on_chosen(turn, actor, unit)


# --- a unit and a period typed after a command ------------------------------------------------


@dataclass(frozen=True)
class Args:
    period: Period
    unit: str | None  # what was typed to name a unit, if anything


async def read_args(turn: Turn, usage: str) -> Args | None:
    """ "[period] [unit]" in any order; says what is wrong and returns None when they don't
    make sense (two periods, a period that does not exist)."""
    tried, words = period_words(turn.args)
    rest = " ".join(words).strip()
    if len(tried) > 1:
        await turn.say(usage)
        return None
    this_year = turn.deps.today().year
    period = Period(this_year)
    if tried:
        parsed = read_period(tried[0], this_year)
        if parsed is None:
            await turn.say(texts.period_invalid(tried[0]))
            return None
        period = parsed
    return Args(period, rest or None)


async def top_units(turn: Turn, unit_ids: list[int]) -> list[Unit]:
    """The units of `unit_ids` not inside another one's subtree, in Vietnamese order."""
    async with turn.deps.db.read() as conn:
        return await units.tops(conn, unit_ids)


async def find(
    turn: Turn,
    typed: str,
    reach: list[int],
    data: Callable[[Unit], str],
    fewer: str | None = None,
) -> Unit | None:
    """The one unit `typed` names within the subtrees of `reach` (or, when it names none,
    `fewer`: the same words but some). Several: they are offered as choices (button data from
    `data`, at most SHOWN, each with its parent's name) and None is returned, as when nothing
    matches (then said so, the same whether the unit does not exist or lies outside the
    reach)."""
    async with turn.deps.db.read() as conn:
        found: list[Unit] = []
        for words in dict.fromkeys([typed, fewer or typed]):
            org = ORG_WORDS.get(fold(words))
            if org is not None:
                found = [u for u in await units.tops(conn, reach) if u.org is org]
            else:
                found = await units.search_within(conn, words, reach, SHOWN + 1)
            if found:
                typed = words
                break
        shown = found[:SHOWN]
        parents = [await units.get(conn, u.parent_id) if u.parent_id else None for u in shown]
    labels = [
        texts.unit_choice(u.name, p.name if p else None)
        for u, p in zip(shown, parents, strict=True)
    ]
    if not found:
        await turn.say(texts.unit_not_found(typed))
        return None
    if len(found) == 1:
        return found[0]
    rows = [[Button(label, data(u))] for u, label in zip(shown, labels, strict=True)]
    await turn.say(texts.units_many(typed, len(found) > SHOWN), rows)
    return None
