"""Settings from the environment and `.env`; a missing or malformed one stops start-up with one clear line."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dotenv import load_dotenv

from storage.urls import is_postgres_url, postgres_url, without_password

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///data/consultation.db"
TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class SettingsError(Exception):
    """A setting that cannot be used; the message names it and says how to fix it."""


class StartupError(Exception):
    """Settings that look right but do not work (bot.startup): the message is one line saying what to do.

    Kept here, beside SettingsError, so the command line can catch it without importing Telegram's library.
    """


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    bot_token: str = field(repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: frozenset[int] = frozenset()
    staff_ids: frozenset[int] = frozenset()
    consultation_file: Path | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    broadcast_rate: float = 20.0
    send_rate: float = 30.0
    chat_send_rate: float = 1.0
    log_level: str = "INFO"

    def is_admin(self, user_id: int) -> bool:
        """Admins are recognised by numeric Telegram id, never by username."""
        return user_id in self.admin_ids

    def is_staff(self, user_id: int) -> bool:
        """Staff commands are open to staff and admins."""
        return user_id in self.staff_ids or user_id in self.admin_ids


def load_dotenv_file(path: str | None = None) -> None:
    """Read `.env` (if any) without overriding what the environment already says."""
    load_dotenv(path or os.environ.get("DOTENV_PATH") or Path.cwd() / ".env", override=False)


def _ids(name: str, raw: str) -> frozenset[int]:
    """A comma-separated list of numeric Telegram user ids."""
    ids = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d+", part):
            raise SettingsError(
                f"{name}: '{part}' is not a numeric Telegram user id (usernames are not accepted; "
                "ask the person to message @userinfobot to find their id)"
            )
        ids.add(int(part))
    return frozenset(ids)


def _instant(name: str, raw: str) -> datetime | None:
    """An ISO 8601 date-time override; a local time is read in the consultation's zone later."""
    if not raw.strip():
        return None
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}: '{raw}' is not an ISO 8601 date and time, e.g. 2020-11-30T17:00:00") from None


def _rate(env: dict[str, str], name: str, default: str) -> float:
    """A messages-per-second setting."""
    raw = env.get(name, "").strip() or default
    try:
        rate = float(raw)
    except ValueError:
        rate = 0.0
    if not 0 < rate <= 10_000:
        raise SettingsError(f"{name}: '{raw}' should be a number of messages a second, e.g. {default}")
    return rate


def read_settings(env: dict[str, str] | None = None, require_token: bool = True) -> Settings:
    """Build Settings from an environment mapping (os.environ by default)."""
    env = dict(os.environ if env is None else env)
    token = env.get("BOT_TOKEN", "").strip()
    if require_token and not token:
        raise SettingsError(
            "BOT_TOKEN is not set: get a token from @BotFather in Telegram, then put BOT_TOKEN=... in .env "
            "(see .env.example)"
        )
    if token and not TOKEN_PATTERN.match(token):
        raise SettingsError("BOT_TOKEN does not look like a bot token (it should look like 123456:ABC-DEF...)")
    base_url = env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
    if not re.match(r"^https?://", base_url):
        raise SettingsError(f"TELEGRAM_API_BASE_URL: '{base_url}' should start with http:// or https://")
    database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError(f"DATABASE_URL: '{without_password(database_url)}' should look like "
                            "sqlite:///data/consultation.db or postgresql://user:password@host:5432/database")
    if is_postgres_url(database_url):
        try:
            postgres_url(database_url)
        except ValueError as error:
            raise SettingsError(str(error)) from None
    rate = _rate(env, "BROADCAST_RATE", "20")
    level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"LOG_LEVEL: '{level}' should be DEBUG, INFO, WARNING or ERROR")
    file_raw = env.get("CONSULTATION_FILE", "").strip()
    return Settings(
        bot_token=token,
        api_base_url=base_url,
        database_url=database_url,
        admin_ids=_ids("ADMIN_IDS", env.get("ADMIN_IDS", "")),
        staff_ids=_ids("STAFF_IDS", env.get("STAFF_IDS", "")),
        consultation_file=Path(file_raw) if file_raw else None,
        opens_at=_instant("CONSULTATION_OPENS_AT", env.get("CONSULTATION_OPENS_AT", "")),
        closes_at=_instant("CONSULTATION_CLOSES_AT", env.get("CONSULTATION_CLOSES_AT", "")),
        broadcast_rate=rate,
        send_rate=_rate(env, "TELEGRAM_SEND_RATE", "30"),
        chat_send_rate=_rate(env, "TELEGRAM_CHAT_SEND_RATE", "1"),
        log_level=level,
    )
