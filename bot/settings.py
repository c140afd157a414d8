"""Settings from the environment and `.env`; a missing or malformed one stops start-up with one clear line."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

from storage.urls import is_postgres_url, postgres_url, without_password

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///data/consultation.db"
TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Telegram's rule for setWebhook's secret_token
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram posts to
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8080


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
    # Webhook mode (`consultation-bot run --webhook`); read only then.
    webhook_url: str = ""
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    webhook_secret: str = field(default="", repr=False)
    # In the log lines of applied updates (the process id when empty) and at the front of this process's broadcast
    # claimer name (storage/claimers.py; the host's name when empty).
    worker_name: str = ""

    @property
    def webhook_path(self) -> str:
        """The path Telegram posts to: WEBHOOK_URL's own."""
        return urlsplit(self.webhook_url).path or "/"

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


def _loopback(host: str) -> bool:
    """localhost, 127.x.x.x or ::1: a Bot API server on this machine (the tests' emulator)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _webhook_url(raw: str) -> str:
    """Where Telegram posts: https, or http to this machine only (a local Bot API server in tests)."""
    if not raw:
        raise SettingsError("WEBHOOK_URL is not set: --webhook needs the public https:// address Telegram posts "
                            "updates to, e.g. https://bot.example.org/telegram (your reverse proxy's)")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise SettingsError(f"WEBHOOK_URL: '{raw}' is not a URL like https://bot.example.org/telegram") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment or parts.username:
        raise SettingsError(f"WEBHOOK_URL: '{raw}' should look like https://bot.example.org/telegram")
    if parts.scheme == "http" and not _loopback(host):
        raise SettingsError(f"WEBHOOK_URL: '{raw}' should start with https:// (Telegram posts only over HTTPS; "
                            "http:// is accepted only for a Bot API server on this machine)")
    if parts.scheme == "https" and port is not None and port not in WEBHOOK_PORTS:
        raise SettingsError(f"WEBHOOK_URL: port {port} cannot be used: Telegram posts only to ports "
                            "443, 80, 88 and 8443")
    if (parts.path or "/") == "/healthz":
        raise SettingsError("WEBHOOK_URL: its path cannot be /healthz, which answers health checks")
    return raw


def _webhook_port(raw: str) -> int:
    """The port this process listens on (behind the proxy): any, usually 8080."""
    if not raw:
        return DEFAULT_WEBHOOK_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"WEBHOOK_PORT: '{raw}' should be a port number between 1 and 65535, e.g. 8080")
    return int(raw)


def _webhook_secret(raw: str) -> str:
    """The secret Telegram sends back with every update; never echoed, not even when it is wrong."""
    if not raw:
        raise SettingsError("WEBHOOK_SECRET is not set: --webhook needs a secret that every update must carry; make "
                            "one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
    if not WEBHOOK_SECRET_PATTERN.match(raw):
        raise SettingsError("WEBHOOK_SECRET should be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's "
                            "rule); make one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
    return raw


def read_settings(env: dict[str, str] | None = None, require_token: bool = True, webhook: bool = False) -> Settings:
    """Build Settings from an environment mapping (os.environ by default); the WEBHOOK_ ones only for webhook mode."""
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
    settings = Settings(
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
        worker_name=env.get("WORKER_NAME", "").strip(),
    )
    if not webhook:
        return settings
    return replace(
        settings,
        webhook_url=_webhook_url(env.get("WEBHOOK_URL", "").strip()),
        webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or DEFAULT_WEBHOOK_LISTEN,
        webhook_port=_webhook_port(env.get("WEBHOOK_PORT", "").strip()),
        webhook_secret=_webhook_secret(env.get("WEBHOOK_SECRET", "").strip()),
    )
