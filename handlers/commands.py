"""The one registry of commands: names, aliases, who may use them, where they are listed.

Telegram's handlers and per-chat menus, /help, and the numbered menu of text channels (Zalo,
terminal) are all derived from COMMANDS; the words themselves live in bot/texts.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import texts
from handlers import (
    appoint,
    correct,
    decided,
    friend,
    help,
    honors,
    invite,
    mine,
    referral,
    registration,
    remind,
    review,
    stats,
    targets,
    unit,
)
from handlers.chat import Turn, fold
from storage.roles import Actor, Role

Run = Callable[[Turn], Awaitable[None]]
MEMBER = "member"  # a section: anyone may use it (the handler says when they must register)


@dataclass(frozen=True)
class Entry:
    names: tuple[str, ...]  # canonical (Vietnamese) first, then aliases
    run: Run
    section: str  # "member", "leader" (Role.LEADER) or "admin"
    in_menu: bool = True  # Telegram's command menu and the numbered menu
    in_help: bool = True

    @property
    def name(self) -> str:
        return self.names[0]


COMMANDS: list[Entry] = [
    Entry(("start",), registration.start, MEMBER),
    Entry(("gioithieu", "refer"), referral.refer, MEMBER),
    Entry(("cuatoi", "mine"), mine.show_mine, MEMBER),
    Entry(("sua", "correct"), correct.correct, MEMBER),
    Entry(("moiban", "invitefriend"), friend.invite_friend, MEMBER),
    Entry(("help", "trogiup", "menu"), help.show_help, MEMBER, in_help=False),
    Entry(("huy", "cancel"), help.cancel, MEMBER),
    Entry(("xoadulieu", "forgetme"), mine.ask_erase, MEMBER),
    Entry(("vinhdanh", "honors"), honors.show_honors, MEMBER),
    Entry(("duyet", "review"), review.review, Role.LEADER),
    Entry(("daduyet", "decided"), decided.show_decided, Role.LEADER),
    Entry(("donvi", "unit"), unit.show_unit, Role.LEADER),
    Entry(("stats", "thongke"), stats.show_stats, Role.LEADER),
    Entry(("xuat", "export"), stats.export, Role.LEADER),
    Entry(("chitieu", "target"), targets.set_target, Role.LEADER),
    Entry(("moi", "invite"), invite.invite, Role.LEADER),
    Entry(("molai", "reopen"), review.reopen, Role.LEADER, in_menu=False),
    Entry(("nhacnho", "remind"), remind.remind, Role.LEADER),
    Entry(("lichnhac", "schedule"), remind.show_schedule, Role.LEADER),
    Entry(("bonhiem", "appoint"), appoint.appoint, Role.ADMIN),
]
_SECTIONS = (MEMBER, Role.LEADER, Role.ADMIN)


_BY_NAME = {fold(name): entry for entry in COMMANDS for name in entry.names}


def find(name: str) -> Entry | None:
    """The command a typed name means, with or without diacritics or spaces."""
    return _BY_NAME.get(fold(name))


def sections_for(actor: Actor | None) -> list[str]:
    """The sections a person may use: members' always, leaders' and admins' by role."""
    held = [MEMBER]
    if actor is not None:
        held += [s for s in (Role.LEADER, Role.ADMIN) if actor.holds_any(s)]
    return held


def entries(sections: list[str], *, menu: bool = False) -> list[Entry]:
    wanted = [e for e in COMMANDS if e.section in sections]
    return [e for e in wanted if e.in_menu] if menu else [e for e in wanted if e.in_help]


def menu(role: Role | None) -> list[tuple[str, str]]:
    """Telegram's command menu for a person holding `role` (None: every member's)."""
    held = [MEMBER]
    if role is not None:
        held.append(Role.LEADER)
    if role is Role.ADMIN:
        held.append(Role.ADMIN)
    return [(e.name, texts.MENU_WORDS[e.name]) for e in entries(held, menu=True)]


def help_text(actor: Actor | None) -> str:
    held = sections_for(actor)
    return texts.help_text(
        [(str(s), [texts.HELP_LINES[e.name] for e in entries([s])]) for s in held]
    )
