"""Settings from UNIONBOT_* environment variables or a .env file (see .env.example)."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.flood import FloodRule
from storage.crypto import EncryptionKeyError, configure

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"

# The departments of the duty list (实施机构) and the setting that names each one's staff chat.
DEPARTMENT_SETTINGS = {
    "组织部": "staff_chat_organization",
    "民主管理部": "staff_chat_democratic_management",
    "权益保障部": "staff_chat_rights",
    "宣传教育部": "staff_chat_publicity",
}


# What Telegram accepts as a webhook's secret_token.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it in one line."""


class StorageSettings(BaseSettings):
    """What the commands that only read the database need (union-bot misses)."""

    model_config = SettingsConfigDict(
        env_prefix="UNIONBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("data")
    database_url: str = ""
    # Personal data is encrypted at rest (storage.crypto) with UNIONBOT_ENCRYPTION_KEY, or with
    # the key file (default <data_dir>/union-bot.key, written 0600 by `union-bot keys new`).
    # Several keys, comma-separated or a line each: the first encrypts, every one decrypts.
    encryption_key: SecretStr | None = None
    key_file: Path | None = None
    # Uploaded files are kept here (default: <data_dir>/files), encrypted.
    files_dir: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                make_url(value)
            except ArgumentError:
                raise ValueError("expected a URL such as sqlite:///data/union-bot.db") from None
        return value

    @model_validator(mode="after")
    def _database(self) -> StorageSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'union-bot.db'}"
        return self

    @property
    def uploads_dir(self) -> Path:
        return self.files_dir or self.data_dir / "files"

    @property
    def key_path(self) -> Path:
        return self.key_file or self.data_dir / "union-bot.key"

    def encryption_keys(self) -> list[str]:
        """The keys, newest first; EncryptionKeyError (one line) when there is none or the key
        file can be read by others."""
        if self.encryption_key is not None:
            secret = self.encryption_key.get_secret_value().replace(",", "\n")
            return [key.strip() for key in secret.splitlines() if key.strip()]
        path = self.key_path
        if not path.is_file():
            raise EncryptionKeyError(
                f"no encryption key: set UNIONBOT_ENCRYPTION_KEY, or run `union-bot keys new` "
                f"(it writes {path})"
            )
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise EncryptionKeyError(
                f"the key file {path} can be read by others (mode {mode:o}): chmod 600 {path}"
            )
        lines = path.read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]

    def use_keys(self) -> None:
        """Encrypt and decrypt personal data with these settings' keys from now on."""
        configure(self.encryption_keys())


class Settings(StorageSettings):
    token: SecretStr = Field(description="The bot token from @BotFather")
    api_base_url: str = DEFAULT_API_BASE_URL
    api_base_file_url: str = ""
    union_name: str = "天津市河东区总工会"
    staff_chat_general: int
    staff_chat_organization: int | None = None
    staff_chat_democratic_management: int | None = None
    staff_chat_rights: int | None = None
    staff_chat_publicity: int | None = None
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    # Below this score the bot asks back ("您是想问：") instead of answering.
    confident_score: float = Field(default=45.0, ge=0, le=100)
    outbox_retry_seconds: float = Field(default=30.0, gt=0)
    # Drafts: kept this long after the last answer, with a reminder this long before; a member
    # back after a pause is first asked whether to continue.
    draft_keep_days: float = Field(default=7.0, gt=0)
    draft_remind_before_hours: float = Field(default=24.0, ge=0)
    draft_resume_after_hours: float = Field(default=6.0, gt=0)
    # How long personal data is kept (bot.retention; the notices members read say the same):
    # a case's content this long after it was closed, and a case with nothing recorded on it
    # this long is closed as expired and emptied, its department warned case_warn_days before;
    # unanswered questions (misses) and the rows of members gone quiet, with nothing else kept.
    case_keep_days: float = Field(default=3 * 365, gt=0)
    case_warn_days: float = Field(default=7.0, gt=0)
    miss_keep_days: float = Field(default=90.0, gt=0)
    member_keep_days: float = Field(default=365.0, gt=0)
    # Case handling: the time limit of a consultation in working days (a form's is in its
    # file); the morning digest (Beijing time) and what it flags; and how many new cards a
    # staff chat gets in an hour before the rest wait for the digest.
    consultation_time_limit_days: int = Field(default=3, ge=1)
    digest_at: time = time(9, 0)
    unaccepted_alert_hours: float = Field(default=4.0, gt=0)
    cards_per_hour: int = Field(default=30, ge=1)
    # Telegram's flood limits, kept by the bot (bot.pacing): messages a second overall (0: no
    # limit, for a self-hosted Bot API server), a private chat's short burst and a group's
    # messages a minute. The delivery worker also looks for due outbox rows this often.
    send_rate_per_second: float = Field(default=30.0, ge=0)
    private_burst: int = Field(default=3, ge=1)
    group_messages_per_minute: int = Field(default=20, ge=1)
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    # How much the bot logs. Every level is safe to use: log lines never carry ID numbers,
    # phones, what members wrote, or the token (bot.redaction).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # This process's name among several on one database (default: host and data folder): the
    # same name after a restart, so that it finds again the updates it was handling.
    instance_name: str = ""
    # Flood control per member (bot.flood): messages at once, then one every N seconds; the
    # pause for one who floods; how many consultations (转人工) a member may open in a day.
    flood_burst: float = Field(default=12.0, ge=1)
    flood_refill_seconds: float = Field(default=2.0, gt=0)
    flood_cooldown_seconds: float = Field(default=30.0, ge=0)
    consultations_per_day: int = Field(default=5, ge=1)
    # `union-bot webhook`: the public https URL Telegram posts updates to (its path is the one
    # served), the secret Telegram sends with each (requests without it are refused), and
    # where this process listens behind the reverse proxy.
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_shape(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError(
                "Telegram posts only to https URLs, e.g. https://bot.example.org/hook"
            )
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("expected 1–256 characters of A–Z, a–z, 0–9, _ and -")
        return value

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        bot_id, _, secret = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("expected the form 123456789:ABC… from @BotFather")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as http://127.0.0.1:8081/bot")
        return value.rstrip("/")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _id_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(",", " ").split())
        return value

    @model_validator(mode="after")
    def _warned_within_the_keeping_time(self) -> Settings:
        if self.case_warn_days >= self.case_keep_days:
            raise ValueError(
                "UNIONBOT_CASE_WARN_DAYS must be shorter than UNIONBOT_CASE_KEEP_DAYS: staff "
                "are warned that long before an idle case is closed"
            )
        return self

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        if not self.api_base_file_url:
            # A self-hosted Bot API server serves files under /file/bot next to /bot.
            base = self.api_base_url
            self.api_base_file_url = (
                base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"
            )
        return self

    @property
    def flood_rule(self) -> FloodRule:
        return FloodRule(
            burst=self.flood_burst,
            refill_seconds=self.flood_refill_seconds,
            cooldown=timedelta(seconds=self.flood_cooldown_seconds),
        )

    @property
    def bot_id(self) -> int:
        return int(self.token.get_secret_value().partition(":")[0])

    def staff_chat_for(self, department: str | None) -> int:
        """The department's staff chat, or the general one when unknown or not configured."""
        name = DEPARTMENT_SETTINGS.get(department or "")
        chat: int | None = getattr(self, name) if name else None
        return chat if chat is not None else self.staff_chat_general

    def staff_chats(self) -> dict[int, str]:
        """Every staff chat and the name shown for it."""
        chats = {self.staff_chat_general: "综合工作群"}
        for department, name in DEPARTMENT_SETTINGS.items():
            chat = getattr(self, name)
            if chat is not None:
                chats.setdefault(chat, f"{department}工作群")
        return chats


SettingsT = TypeVar("SettingsT", bound=StorageSettings)


def load_settings(kind: type[SettingsT], **overrides: Any) -> SettingsT:
    """Settings from the environment; a problem becomes one line that names the setting."""
    try:
        return kind(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        problem = "is missing" if first["type"] == "missing" else f"is invalid: {first['msg']}"
        raise SettingsError(f"UNIONBOT_{field.upper()} {problem}") from None
