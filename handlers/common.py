"""What every handler shares: its dependencies, the context type, who is talking."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from telegram import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import CallbackContext, ExtBot

from bot import texts
from bot.settings import Settings
from storage import members, roles
from storage.clock import Clock, local_today
from storage.conversations import ConversationKey
from storage.db import Database
from storage.members import Member
from storage.roles import Actor
from storage.validation import AgePolicy

CHANNEL = "telegram"
_ID = "([0-9]{1,9})"  # ASCII digits only, and small enough for SQLite's INTEGER
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True)
class Deps:
    """The application's long-lived parts, kept in bot_data (never persisted)."""

    db: Database
    settings: Settings
    clock: Clock

    @property
    def ages(self) -> AgePolicy:
        return self.settings.ages

    def today(self) -> date:
        return local_today(self.clock, self.settings.tz)

    @property
    def link_secret(self) -> bytes:
        secret = self.settings.link_secret or self.settings.telegram_bot_token
        return hashlib.sha256(b"motcongmot-links:" + secret.get_secret_value().encode()).digest()


class Context(CallbackContext[ExtBot[None], dict, dict, dict]):
    @property
    def deps(self) -> Deps:
        return self.application.bot_data["deps"]


def conversation_key(update: Update) -> ConversationKey:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    return ConversationKey(CHANNEL, str(chat.id), str(user.id))


def user_ref(update: Update) -> str:
    assert update.effective_user is not None
    return str(update.effective_user.id)


async def current_member(update: Update, context: Context) -> Member | None:
    return await members.member_of(context.deps.db, CHANNEL, user_ref(update))


async def say(
    update: Update, context: Context, text: str, markup: ReplyMarkup | None = None
) -> Message:
    chat = update.effective_chat
    assert chat is not None
    return await context.bot.send_message(chat.id, text, reply_markup=markup)


REMOVE_KEYBOARD = ReplyKeyboardRemove()


async def current_actor(update: Update, context: Context) -> Actor:
    """The user and their roles as of now: every permission check starts here."""
    deps = context.deps
    return await roles.load_actor(deps.db, CHANNEL, user_ref(update), deps.settings.admin_ids)


async def refuse(update: Update, context: Context) -> None:
    """A forged, replayed or outdated press: say no, change nothing, show nothing."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.NO_PERMISSION)
    else:
        await say(update, context, texts.NO_PERMISSION)


async def notify(context: Context, user_ref_: str, text: str) -> bool:
    """Tell another user something; False if they cannot be reached (e.g. blocked the bot)."""
    try:
        await context.bot.send_message(int(user_ref_), text)
    except (Forbidden, BadRequest):
        return False
    return True


def parse_id(text: str) -> int | None:
    """A record number typed or carried by a button; None for anything else."""
    match = re.fullmatch(_ID, text.strip())
    return int(match[1]) if match else None


def parse_button(data: str, prefix: str, ops: str, count: int) -> tuple[str, list[int]] | None:
    """ "<prefix>:<op>:<id>[:<id>…]" with one of `ops` and exactly `count` ids, or None."""
    match = re.fullmatch(rf"{prefix}:([{ops}])" + f":{_ID}" * count, data)
    if not match:
        return None
    return match[1], [int(x) for x in match.groups()[1:]]
