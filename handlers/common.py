"""What every handler shares: its dependencies, the context type, who is talking."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from telegram import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CallbackContext, ExtBot

from bot.settings import Settings
from storage import members
from storage.clock import Clock, local_today
from storage.conversations import ConversationKey
from storage.db import Database
from storage.members import Member
from storage.validation import AgePolicy

CHANNEL = "telegram"
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
