"""Configuration from the environment or a .env file, validated once at startup."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from scheduler.calendar import ReminderConfig
from storage.validation import AgePolicy, AgeRange, Org

TELEGRAM_API = "https://api.telegram.org/bot"
TELEGRAM_FILES = "https://api.telegram.org/file/bot"
ZALO_API = "https://bot-api.zaloplatforms.com/bot"
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_ZALO_TOKEN = re.compile(r"^[0-9]{3,}:[A-Za-z0-9_-]{8,}$")
_ADMIN = re.compile(r"^(?:(telegram):)?([0-9]{1,20})$|^(zalo):([0-9A-Za-z]{6,64})$")


class StorageSettings(BaseSettings):
    """What the offline commands (import-units, export-units) need: no bot token."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_path: Path = Path("data/motcongmot.db")
    timezone: str = "Asia/Ho_Chi_Minh"
    log_level: str = "INFO"
    log_format: Literal["text", "kv", "json"] = "text"  # kv, json: one line per event
    # The inspection report's place line ("Hà Nội, ngày …"; empty: the date alone) and the
    # title its signer signs under (Đoàn and joint reports; a Hội report is signed CHỦ TỊCH).
    report_place: str = Field("", max_length=60)
    report_signer_title: str = Field("BÍ THƯ", min_length=1, max_length=60)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("timezone_unknown") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level_unknown")
        return value.upper()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Settings(StorageSettings):
    # Every channel whose token is set runs; at least one must be.
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_API
    telegram_file_base_url: str = TELEGRAM_FILES
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None
    zalo_bot_token: SecretStr | None = None
    zalo_api_base_url: str = ZALO_API
    zalo_mode: Literal["polling", "webhook"] = "polling"
    zalo_webhook_secret: SecretStr | None = None
    # host:port of the bot's own HTTP server (Zalo webhook, files by link).
    webhook_listen: str | None = None
    # How the internet reaches that server, e.g. https://bot.tinhdoan.vn
    public_base_url: str | None = None
    # Daily backups: where, how many to keep, at what local hour (none without BACKUP_DIR).
    backup_dir: Path | None = None
    backup_keep: int = Field(14, ge=1, le=1000)
    backup_hour: int = Field(2, ge=0, le=23)
    # 123456789 (Telegram) or zalo:6ede9afa66b88fe6d6a9, comma-separated.
    admin_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # TOML file that changes the reminder calendar (see README); defaults when not set.
    reminders_file: Path | None = None
    # Secret behind invite links; derived from the bot token when not set.
    link_secret: SecretStr | None = None
    # Đoàn: 16–30 by the Union charter; Hội: 15–35 by the Federation's.
    doan_age_min: int = Field(16, ge=0, le=120)
    doan_age_max: int = Field(30, ge=0, le=120)
    hoi_age_min: int = Field(15, ge=0, le=120)
    hoi_age_max: int = Field(35, ge=0, le=120)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not _TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("token_shape")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("zalo_bot_token")
    @classmethod
    def _zalo_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not _ZALO_TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("zalo_token_shape")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not 8 <= len(value.get_secret_value()) <= 256:
            raise ValueError("webhook_secret_shape")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,256}", value.get_secret_value()):
            raise ValueError("telegram_secret_shape")
        return value

    @field_validator("telegram_api_base_url", "telegram_file_base_url", "zalo_api_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("url_shape")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("url_shape")
        return value.rstrip("/")

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("listen_shape")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        parts = value.split(",") if isinstance(value, str) else list(value)
        found = []
        for part in (str(p).strip() for p in parts):
            match = _ADMIN.match(part)
            if not part:
                continue
            if match is None:
                raise ValueError("admin_ids_shape")
            found.append(f"telegram:{match[2]}" if match[2] else f"zalo:{match[4]}")
        return found

    @model_validator(mode="after")
    def _ranges(self) -> Settings:
        if self.doan_age_min > self.doan_age_max or self.hoi_age_min > self.hoi_age_max:
            raise ValueError("age_range_order")
        if self.telegram_bot_token is None and self.zalo_bot_token is None:
            raise ValueError("no_channel")
        if self.zalo_bot_token is not None and self.zalo_mode == "webhook":
            if self.zalo_webhook_secret is None:
                raise ValueError("zalo_webhook_needs_secret")
            if not (self.public_base_url and self.webhook_listen):
                raise ValueError("webhook_needs_server")
        if self.telegram_bot_token is not None and self.telegram_mode == "webhook":
            if self.telegram_webhook_secret is None:
                raise ValueError("telegram_webhook_needs_secret")
            if not (self.public_base_url and self.webhook_listen):
                raise ValueError("webhook_needs_server")
        return self

    @field_validator("reminders_file")
    @classmethod
    def _calendar(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                ReminderConfig.load(value)
            except (OSError, ValueError):  # a missing file, bad TOML, or a wrong field
                raise ValueError("reminders_file_invalid") from None
        return value

    @property
    def reminders(self) -> ReminderConfig:
        return ReminderConfig.load(self.reminders_file)

    @property
    def ages(self) -> AgePolicy:
        return AgePolicy(
            {
                Org.DOAN: AgeRange(self.doan_age_min, self.doan_age_max),
                Org.HOI: AgeRange(self.hoi_age_min, self.hoi_age_max),
            }
        )

    @property
    def token(self) -> str:
        assert self.telegram_bot_token is not None
        return self.telegram_bot_token.get_secret_value()

    @property
    def first_token(self) -> SecretStr:
        """What invite links are derived from when LINK_SECRET is not set."""
        found = self.telegram_bot_token or self.zalo_bot_token
        assert found is not None
        return found

    @property
    def secrets(self) -> list[str]:
        """Every configured secret: none of them may ever reach a log line."""
        values = [self.telegram_bot_token, self.zalo_bot_token, self.zalo_webhook_secret]
        values.append(self.telegram_webhook_secret)
        values.append(self.link_secret)
        found = [v.get_secret_value() for v in values if v is not None]
        # A token's secret half on its own too: URLs and messages may carry only that part.
        found += [v.split(":", 1)[1] for v in found if ":" in v]
        return [v for v in found if len(v) >= 6]


class ConfigError(Exception):
    """Bad configuration, already phrased for the operator: one line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


T = TypeVar("T", bound=StorageSettings)


def load_settings(kind: type[T], **overrides: Any) -> T:
    from bot import texts  # the catalog words the operator's messages too

    try:
        return kind(**overrides)
    except ValidationError as exc:
        raise ConfigError([texts.config_problem(err) for err in exc.errors()]) from None
