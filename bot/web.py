"""The bot's own HTTP server (WEBHOOK_LISTEN): channel webhooks, and files by link.

Zalo takes photos only by URL and cannot receive documents, so a chart or an export is put on
the shelf and served at a signed URL that expires (30 minutes): unguessable, and a tampered or
expired URL gets 403/404 and no file. Files live in memory only; a restart forgets them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from bot.settings import Settings

log = logging.getLogger(__name__)

FILE_TTL = 30 * 60  # seconds
SHELF_MAX = 200  # files kept at once; the oldest go first


@dataclass(frozen=True)
class _Shelved:
    name: str
    data: bytes
    content_type: str
    expires: int


class FileShelf:
    def __init__(
        self, base_url: str, ttl: int = FILE_TTL, now: Callable[[], float] = time.time
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ttl, self.now = ttl, now
        self._secret = secrets.token_bytes(32)  # per process: the files do not outlive it
        self._files: dict[str, _Shelved] = {}

    def _sign(self, file_id: str, expires: int, name: str) -> str:
        message = f"{file_id}:{expires}:{name}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def put(self, name: str, data: bytes, content_type: str) -> str:
        """Shelve a file; returns its URL under PUBLIC_BASE_URL."""
        self._drop_expired()
        while len(self._files) >= SHELF_MAX:
            self._files.pop(next(iter(self._files)))
        file_id = secrets.token_urlsafe(16)
        expires = int(self.now()) + self.ttl
        self._files[file_id] = _Shelved(name, data, content_type, expires)
        signature = self._sign(file_id, expires, name)
        return f"{self.base_url}/files/{file_id}/{expires}/{signature}/{quote(name)}"

    def _drop_expired(self) -> None:
        now = self.now()
        for file_id in [k for k, v in self._files.items() if v.expires <= now]:
            del self._files[file_id]

    async def serve(self, request: web.Request) -> web.Response:
        info = request.match_info
        file_id, name = info["file_id"], info["name"]
        try:
            expires = int(info["expires"])
        except ValueError:
            return web.Response(status=403)
        expected = self._sign(file_id, expires, name)
        if not hmac.compare_digest(expected, info["signature"]):
            return web.Response(status=403)
        found = self._files.get(file_id)
        if found is None or expires <= self.now() or found.expires != expires:
            self._drop_expired()
            return web.Response(status=404)
        return web.Response(
            body=found.data,
            content_type=found.content_type,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name)}"},
        )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebServer:
    def __init__(self, settings: Settings) -> None:
        assert settings.webhook_listen is not None
        host, _, port = settings.webhook_listen.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.app = web.Application(client_max_size=1024 * 1024)
        self.shelf = FileShelf(settings.public_base_url or "")
        self.app.router.add_get("/files/{file_id}/{expires}/{signature}/{name}", self.shelf.serve)
        self._runner: web.AppRunner | None = None

    def add_post(self, path: str, handler: Handler) -> None:
        self.app.router.add_post(path, handler)

    def add_get(self, path: str, handler: Handler) -> None:
        self.app.router.add_get(path, handler)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("http server on %s:%d", self.host, self.bound_port)

    @property
    def bound_port(self) -> int:
        """The port really listened on (WEBHOOK_LISTEN may say 0: any free port)."""
        assert self._runner is not None
        for site in self._runner.sites:
            server = getattr(site, "_server", None)
            if server is not None and server.sockets:
                return int(server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
