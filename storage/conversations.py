"""Conversation state, written before the bot asks its next question.

A user's answers so far (the draft) and the step they are on live here, not in memory, so a
restart or a crash resumes exactly where they were.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.clock import Clock, to_db
from storage.db import Database


@dataclass(frozen=True)
class ConversationKey:
    channel: str
    chat_ref: str
    user_ref: str


@dataclass(frozen=True)
class Conversation:
    journey: str
    step: str
    draft: dict[str, Any]


async def load(conn: aiosqlite.Connection, key: ConversationKey) -> Conversation | None:
    sql = """SELECT journey, step, draft FROM conversations
             WHERE channel = ? AND chat_ref = ? AND user_ref = ?"""
    async with conn.execute(sql, (key.channel, key.chat_ref, key.user_ref)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return Conversation(row["journey"], row["step"], json.loads(row["draft"]))


async def save(
    conn: aiosqlite.Connection, key: ConversationKey, state: Conversation, clock: Clock
) -> None:
    await conn.execute(
        """INSERT INTO conversations (channel, chat_ref, user_ref, journey, step, draft, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (channel, chat_ref, user_ref) DO UPDATE SET
             journey = excluded.journey, step = excluded.step, draft = excluded.draft,
             updated_at = excluded.updated_at""",
        (
            key.channel,
            key.chat_ref,
            key.user_ref,
            state.journey,
            state.step,
            json.dumps(state.draft, ensure_ascii=False),
            to_db(clock.now()),
        ),
    )


async def clear(conn: aiosqlite.Connection, key: ConversationKey) -> None:
    await conn.execute(
        "DELETE FROM conversations WHERE channel = ? AND chat_ref = ? AND user_ref = ?",
        (key.channel, key.chat_ref, key.user_ref),
    )


async def current(db: Database, key: ConversationKey) -> Conversation | None:
    async with db.read() as conn:
        return await load(conn, key)


async def put(db: Database, key: ConversationKey, state: Conversation, clock: Clock) -> None:
    async with db.write() as conn:
        await save(conn, key, state, clock)


async def end(db: Database, key: ConversationKey) -> None:
    async with db.write() as conn:
        await clear(conn, key)
