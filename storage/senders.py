"""Everything one update needs to know about its sender, in one query: already handled? the
member (if registered), whether they were unreachable, and the journey they are on."""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.conversations import Conversation, ConversationKey
from storage.db import Database
from storage.members import Member

_SQL = """
SELECT EXISTS (SELECT 1 FROM seen_updates WHERE channel = :channel AND update_ref = :update)
           AS handled,
       m.id, m.channel, m.user_ref, m.unit_id, m.full_name, m.membership, m.phone,
       m.registered_at, m.unreachable_at,
       c.journey, c.step, c.draft
FROM (SELECT 1)
LEFT JOIN members m ON m.channel = :channel AND m.user_ref = :user
LEFT JOIN conversations c
       ON c.channel = :channel AND c.chat_ref = :chat AND c.user_ref = :user
"""


@dataclass(frozen=True)
class Sender:
    handled: bool  # this update was acted on already (served again)
    member: Member | None
    unreachable: bool  # marked unreachable (blocked the bot) until they wrote again
    conversation: Conversation | None


async def load(db: Database, key: ConversationKey, update_ref: str) -> Sender:
    args = {
        "channel": key.channel,
        "chat": key.chat_ref,
        "user": key.user_ref,
        "update": update_ref,
    }
    async with db.read() as conn, conn.execute(_SQL, args) as cur:
        row = await cur.fetchone()
    assert row is not None
    member = Member.from_row(row) if row["id"] is not None else None
    conversation = None
    if row["journey"] is not None:
        conversation = Conversation(row["journey"], row["step"], json.loads(row["draft"]))
    return Sender(
        bool(row["handled"]),
        member,
        row["unreachable_at"] is not None,
        conversation,
    )
