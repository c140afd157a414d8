"""Start-up checks that end in one line saying what to do: the database can be written, and Telegram takes the token.

Without them a rejected token came out as a traceback holding the whole token (one wrong character leaks the rest),
followed by aiohttp's "Unclosed client session" noise; an unreachable Telegram or an unwritable folder, as long
tracebacks. Each line names the setting to look at and never holds the token or any part of it but the bot's id.
"""

from __future__ import annotations

import socket
import sqlite3
import ssl
from typing import Any
from urllib.parse import urlparse

from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot.runtime import Runtime
from bot.settings import DEFAULT_API_BASE_URL, StartupError
from storage import Database, StorageUnavailableError, sqlite_path
from storage.urls import is_postgres_url, without_password


def bot_id(token: str) -> str:
    """The number before the colon: the bot's public id, safe to show."""
    return token.split(":", 1)[0]


def _why_unreachable(error: NetworkError) -> str:
    """A few words on why the connection failed, from the error's causes (never their text, which may hold a URL)."""
    if isinstance(error, TimedOut):
        return "it did not answer in time"
    cause: BaseException | None = error.__cause__
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return "its name could not be looked up"
        if isinstance(cause, ssl.SSLError | ssl.CertificateError):
            return "its certificate was not accepted"
        if isinstance(cause, ConnectionRefusedError):
            return "the connection was refused"
        if isinstance(cause, TimeoutError):
            return "it did not answer in time"
        cause = getattr(cause, "os_error", None) or cause.__cause__ or cause.__context__
    return "the connection failed"


async def open_database(runtime: Runtime) -> None:
    """Open (and migrate) the database before anything else: a folder that cannot be written stops us here."""
    url = runtime.settings.database_url
    if is_postgres_url(url):
        await _open_postgres(runtime, url)
        return
    folder = sqlite_path(url).parent
    try:
        runtime.database = await Database.open(url)
    except (OSError, sqlite3.Error, StorageUnavailableError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise StartupError(
            f"the database in {folder} cannot be written ({reason.lower()}): make sure the folder exists and the "
            "bot's user may write to it, or set DATABASE_URL to somewhere it can"
        ) from None
    except RuntimeError as error:  # connect(): the file system cannot hold SQLite's write-ahead log
        raise StartupError(str(error)) from None


async def _open_postgres(runtime: Runtime, url: str) -> None:
    """Connect (and migrate) a PostgreSQL database; a refusal names the server, never the password."""
    try:
        runtime.database = await Database.open(url)
    except (ValueError, StorageUnavailableError) as error:
        reason = str(error).replace(url, without_password(url))
        password = urlparse(url).password
        if password:
            reason = reason.replace(password, "***")
        first = reason.strip().splitlines()[0] if reason.strip() else "no reason given"
        raise StartupError(
            f"the PostgreSQL database at {without_password(url)} cannot be used ({first}): check DATABASE_URL, "
            "that the server is running and that this user may connect"
        ) from None


async def reach_telegram(application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    """Initialise the Application, which asks Telegram who the bot is (getMe): the token and the network, checked."""
    settings = runtime.settings
    where = urlparse(settings.api_base_url).netloc or settings.api_base_url
    try:
        await application.initialize()
    except InvalidToken:
        also = "" if settings.api_base_url == DEFAULT_API_BASE_URL else " (and TELEGRAM_API_BASE_URL, which is set)"
        raise StartupError(
            f"Telegram did not accept the BOT_TOKEN of bot {bot_id(settings.bot_token)}. Check the token with "
            f"@BotFather: /mybots, choose the bot, API Token{also}"
        ) from None
    except NetworkError as error:
        raise StartupError(
            f"Telegram could not be reached at {where} ({_why_unreachable(error)}): check the network, "
            "or TELEGRAM_API_BASE_URL"
        ) from None


async def abandon(application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    """After a failed start: close what was opened, so nothing is left to complain at exit."""
    await application.bot.shutdown()  # the HTTP sessions; a no-op if they were never opened
    if runtime.database is not None:
        await runtime.database.close()
        runtime.database = None
