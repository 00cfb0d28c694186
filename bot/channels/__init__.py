"""Channel adapters: the only modules that speak a chat platform's API.

Each turns what arrives into a `handlers.chat.Turn` for `handlers.router.handle`, and each
`Reply` into the platform's calls. A channel also sends reminders and notices to its people.
"""

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class ChannelUnavailable(Exception):
    """A channel could not start: its API refused the token, or could not be reached."""

    def __init__(self, channel: str, *, refused: bool, kind: str) -> None:
        super().__init__(f"{channel}: {kind}")
        self.channel, self.refused, self.kind = channel, refused, kind


class PerChat:
    """One update at a time per chat, in arrival order: a lock per chat, forgotten only when
    nobody holds it or waits for it (dropping it while someone waits would let a third update
    run beside the second)."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
