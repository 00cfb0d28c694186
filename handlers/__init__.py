"""Chat handlers, one module per user journey; thin: parse, call below, reply."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler

from handlers import (
    appoint,
    flow,
    help,
    invite,
    mine,
    picker,
    referral,
    registration,
    remind,
    review,
    stats,
    targets,
    unit,
)


def register(app: Application) -> None:  # type: ignore[type-arg]
    journeys = (
        registration,
        referral,
        mine,
        review,
        stats,
        targets,
        unit,
        invite,
        appoint,
        remind,
        picker,
        help,
    )
    for journey_module in journeys:
        journey_module.register(app)
    # Buttons of conversations carry "<journey>:<step>:<value>".
    names = "|".join(sorted(flow.JOURNEYS))
    app.add_handler(CallbackQueryHandler(flow.on_button, pattern=rf"^({names}):"))
    help.register_fallbacks(app)
