"""/chitieu (/target): a leader sets the year's target of a unit in their subtree, per org."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from handlers import flow, picker
from handlers.common import Context, current_actor, parse_id, say
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
async def chosen(update: Update, context: Context, actor: Actor, unit: Unit) -> None:
    if not await flow.busy(update, context):
        await flow.begin(update, context, TARGET, ORG, {"unit": unit.id})


async def set_target(update: Update, context: Context) -> None:
    await picker.offer(update, context, "ct")


async def ask_org(update: Update, context: Context, draft: Draft) -> None:
    deps = context.deps
    year = deps.today().year
    own = await targets.own_targets(deps.db, draft["unit"], year)
    found = await stats.figures(deps.db, draft["unit"], Period(year))
    name = found.unit.name if found else ""
    overview = texts.target_overview(name, year, own, found.defaulted if found else 0)
    rows = [[(texts.ORG_SHORT[org], org.value) for org in Org]]
    question = texts.ask(f"{overview}\n{texts.ASK_TARGET_ORG}")
    await say(update, context, question, TARGET.keyboard(ORG, draft, rows))


async def take_org(update: Update, context: Context, draft: Draft, value: str) -> Outcome:
    if value not in {org.value for org in Org}:
        return Retry(texts.USE_BUTTONS)
    return Next(VALUE, {**draft, "org": value})


async def ask_value(update: Update, context: Context, draft: Draft) -> None:
    question = texts.ask_target(Org(draft["org"]), context.deps.today().year)
    await say(update, context, texts.ask(question))


async def take_value(update: Update, context: Context, draft: Draft, text: str) -> Outcome:
    number = parse_id(text.strip().replace(".", "").replace(",", ""))
    if number is None or number > TARGET_MAX:
        return Retry(texts.TARGET_INVALID)
    deps = context.deps
    actor = await current_actor(update, context)
    if not await roles.may(deps.db, actor, draft["unit"], Role.LEADER):
        return Refused()
    year, org, value = deps.today().year, Org(draft["org"]), number
    member_id = actor.member.id if actor.member else None
    await targets.set_target(deps.db, draft["unit"], year, org, value, member_id, deps.clock)
    found = await stats.figures(deps.db, draft["unit"], Period(year))
    name = found.unit.name if found else ""
    total = found.target if found else value
    await say(update, context, texts.target_saved(name, year, org, value, total))
    return End()


TARGET.steps.update(
    {
        ORG: flow.Step(ask_org, on_button=take_org),
        VALUE: flow.Step(ask_value, on_text=take_value),
    }
)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["chitieu", "target"], set_target, private))
