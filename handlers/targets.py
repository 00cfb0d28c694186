"""/chitieu (/target): a leader sets the year's target of a unit in their subtree, per org."""

from __future__ import annotations

from bot import texts
from handlers import flow, picker
from handlers.chat import Turn
from handlers.common import current_actor, parse_id
from handlers.flow import Draft, End, Next, Outcome, Refused, Retry
from storage import roles, stats, targets
from storage.periods import Period
from storage.roles import Actor, Role
from storage.targets import TARGET_MAX
from storage.units import Unit
from storage.validation import Org

TARGET = flow.journey("tgt")
ORG, VALUE = "org", "value"


@picker.purpose("ct", Role.LEADER, texts.PICK_TARGET)
async def chosen(turn: Turn, actor: Actor, unit: Unit) -> None:
    if not await flow.busy(turn):
        await flow.begin(turn, TARGET, ORG, {"unit": unit.id})


async def set_target(turn: Turn) -> None:
    await picker.offer(turn, "ct")


async def ask_org(turn: Turn, draft: Draft) -> None:
    deps = turn.deps
    year = deps.today().year
    own = await targets.own_targets(deps.db, draft["unit"], year)
    found = await stats.figures(deps.db, draft["unit"], Period(year))
    name = found.unit.name if found else ""
    target, assigned = (found.target, found.assigned) if found else (0, None)
    overview = texts.target_overview(name, year, own, target, assigned)
    rows = [[(texts.ORG_SHORT[org], org.value) for org in Org]]
    question = texts.ask(f"{overview}\n{texts.ASK_TARGET_ORG}")
    await turn.say(question, TARGET.keyboard(ORG, draft, rows))


async def take_org(turn: Turn, draft: Draft, value: str) -> Outcome:
    if value not in {org.value for org in Org}:
        return Retry(flow.use_buttons(turn))
    return Next(VALUE, {**draft, "org": value})


async def ask_value(turn: Turn, draft: Draft) -> None:
    question = texts.ask_target(Org(draft["org"]), turn.deps.today().year)
    await turn.say(texts.ask(question))


async def take_value(turn: Turn, draft: Draft, text: str) -> Outcome:
    number = parse_id(text.strip().replace(".", "").replace(",", ""))
    if number is None or number > TARGET_MAX:
        return Retry(texts.TARGET_INVALID)
    deps = turn.deps
    actor = await current_actor(turn)
    if not await roles.may(deps.db, actor, draft["unit"], Role.LEADER):
        return Refused()
    year, org, value = deps.today().year, Org(draft["org"]), number
    member_id = actor.member.id if actor.member else None
    await targets.set_target(deps.db, draft["unit"], year, org, value, member_id, deps.clock)
    found = await stats.figures(deps.db, draft["unit"], Period(year))
    name = found.unit.name if found else ""
    total, assigned = (found.target, found.assigned) if found else (value, None)
    await turn.say(texts.target_saved(name, year, org, value, total, assigned))
    return End()


TARGET.steps.update(
    {
        ORG: flow.Step(ask_org, on_button=take_org),
        VALUE: flow.Step(ask_value, on_text=take_value),
    }
)
