"""Configuration from the environment or a .env file, validated once at startup."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from scheduler.calendar import ReminderConfig
from storage.validation import AgePolicy, AgeRange, Org

TELEGRAM_API = "https://api.telegram.org/bot"
TELEGRAM_FILES = "https://api.telegram.org/file/bot"
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class StorageSettings(BaseSettings):
    """What the offline commands (import-units, export-units) need: no bot token."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_path: Path = Path("data/motcongmot.db")
    timezone: str = "Asia/Ho_Chi_Minh"
    log_level: str = "INFO"

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
    telegram_bot_token: SecretStr
    telegram_api_base_url: str = TELEGRAM_API
    telegram_file_base_url: str = TELEGRAM_FILES
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
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
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("token_shape")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("telegram_api_base_url", "telegram_file_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("url_shape")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(re.fullmatch(r"\d+", p) for p in parts):
                raise ValueError("admin_ids_shape")
            return [int(p) for p in parts]
        return value

    @model_validator(mode="after")
    def _ranges(self) -> Settings:
        if self.doan_age_min > self.doan_age_max or self.hoi_age_min > self.hoi_age_max:
            raise ValueError("age_range_order")
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
        return self.telegram_bot_token.get_secret_value()


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
