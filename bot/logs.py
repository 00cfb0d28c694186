"""Logging that keeps secrets and personal data out, whoever logs: ours or a library's."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

REDACTED = "[đã ẩn]"


def quiet_loggers() -> None:
    """httpx logs every request URL, and Telegram's and Zalo's URLs contain the bot token; at
    DEBUG python-telegram-bot logs whole updates (names, phone numbers) and aiosqlite every SQL
    parameter, so those loggers never go below INFO."""
    floor = logging.getLogger().getEffectiveLevel()  # never chattier than asked
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(max(logging.WARNING, floor))
    for name in ("telegram", "aiosqlite", "apscheduler", "aiohttp"):
        logging.getLogger(name).setLevel(max(logging.INFO, floor))


class RedactSecrets(logging.Filter):
    """Replaces every configured secret in a record's message and exception text."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            cleaned = self._clean(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if record.exc_info and record.exc_info[1] is not None:
                formatted = logging.Formatter().formatException(record.exc_info)
                record.exc_text = self._clean(formatted)
                record.exc_info = None
        return True


class OneLine(logging.Formatter):
    """One line per event: `key=value` pairs, or one JSON object (LOG_FORMAT=json), for
    journald and log collectors; a traceback, if any, is folded into the same line."""

    def __init__(self, style: str) -> None:
        super().__init__()
        self.json = style == "json"

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields["exc"] = record.exc_text
        if self.json:
            return json.dumps(fields, ensure_ascii=False)
        return " ".join(
            f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()
        )


def configure(level: str, secrets: list[str] | None = None, style: str = "text") -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    if style in ("json", "kv"):
        for handler in logging.getLogger().handlers:
            handler.setFormatter(OneLine(style))
    quiet_loggers()
    if secrets:
        redact = RedactSecrets(secrets)
        for handler in logging.getLogger().handlers:
            handler.addFilter(redact)
