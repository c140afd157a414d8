"""The real bot as a subprocess against the local Bot API server, and tenants who talk to it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from conversations.state import Answer
from storage import Database
from tests.botapi import BotApiServer
from tests.botapi.model import StoredMessage

PROJECT = Path(__file__).resolve().parents[2]
TOKEN = "7000001:AAE2e_test_token_with_enough_length_x"
CONSULTATION_ID = "connexus-procurement-2020"
T = TypeVar("T")
ADMIN_ID = 900001
STAFF_ID = 900002
WEBHOOK_URL = "https://bot.example.org/telegram"
WEBHOOK_SECRET = "e2e-secret_0123456789abcdefghij"


def free_port() -> int:
    """A TCP port nobody listens on just now, for a webhook worker."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_env(database_url: str, port: int, worker: str = "w1") -> dict[str, str]:
    """The settings of one `consultation-bot run --webhook` worker on `port` (pass them to BotProcess)."""
    return {"DATABASE_URL": database_url, "WEBHOOK_URL": WEBHOOK_URL, "WEBHOOK_PORT": str(port),
            "WEBHOOK_SECRET": WEBHOOK_SECRET, "WORKER_NAME": worker}


class BotProcess:
    """`consultation-bot run` as a real process, pointed at the local server.

    `database_url` is the database the bot uses (sqlite:///<workdir>/consultation.db unless DATABASE_URL says
    otherwise): every helper that reads the bot's database opens that. `database` is the SQLite file, when it is
    one. With WEBHOOK_URL among the settings the bot runs as a webhook worker (`run --webhook`).
    """

    def __init__(self, api: BotApiServer, workdir: Path, **env: str) -> None:
        self.api = api
        self.workdir = workdir
        self.log_path = workdir / "bot.log"
        self.database = workdir / "consultation.db"
        now = datetime.now(UTC)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CONSULTATION_", "TELEGRAM_"))},
            "PYTHONPATH": str(PROJECT),
            "BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": f"sqlite:///{self.database}",
            "ADMIN_IDS": str(ADMIN_ID),
            "STAFF_IDS": str(STAFF_ID),
            "CONSULTATION_OPENS_AT": (now - timedelta(days=1)).isoformat(),
            "CONSULTATION_CLOSES_AT": (now + timedelta(days=30)).isoformat(),
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.database_url = self.env["DATABASE_URL"]
        if self.database_url.startswith("sqlite:///"):  # a test that puts the file elsewhere (a small tmpfs, say)
            self.database = Path(self.database_url.removeprefix("sqlite:///"))
        self.process: subprocess.Popen[bytes] | None = None
        # ["--webhook"] with WEBHOOK_URL set: then start() waits for "webhook ready" rather than "Application started"
        self.args: list[str] = ["--webhook"] if "WEBHOOK_URL" in env else []
        self.command_prefix: list[str] = []  # e.g. setpriv, to run the bot without root's file override

    def start(self, wait: bool = True) -> BotProcess:
        """Start the bot and (by default) wait until it is polling for updates."""
        log_size = len(self.log())
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command_prefix, sys.executable, "-m", "bot.cli", "run", *self.args], cwd=self.workdir,
                env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
            )
        if wait:
            ready = "webhook ready" if "--webhook" in self.args else "Application started"
            self.wait_for_log(ready, after=log_size, timeout=30)
        return self

    @property
    def webhook(self) -> bool:
        """True for a webhook worker, False for long polling."""
        return "--webhook" in self.args

    @property
    def on_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:///")

    def wait_for_log(self, text: str, after: int = 0, timeout: float = 30) -> None:
        """Wait until the bot's log shows `text` (written after byte `after`); fail early if it died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log()[after:]:
                return
            assert not self.exited(), f"the bot exited early:\n{self.log()}"
            time.sleep(0.05)
        raise AssertionError(f"the bot's log never showed {text!r}:\n{self.log()}")

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Stop the bot with a signal and return its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the bot did not stop within {timeout}s\n{self.log()}") from None

    def kill(self) -> None:
        """kill -9: no chance to tidy up."""
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


class Tenant:
    """A person in a private chat with the bot."""

    def __init__(self, api: BotApiServer, user_id: int) -> None:
        self.api = api
        self.user_id = user_id
        self.seen = 0

    def messages(self) -> list[StoredMessage]:
        return self.api.sent_messages(self.user_id)

    def says(self, text: str, expect: str | None = None, timeout: float = 10) -> list[StoredMessage]:
        """Send a message and wait for the reply (containing `expect`, when given)."""
        self.api.send_text(self.user_id, text)
        return self.wait(expect, timeout)

    def taps(self, label: str, expect: str | None = None, timeout: float = 10) -> list[StoredMessage]:
        """Press the newest button whose label contains `label`, and wait for the reply."""
        message, data = self.find_button(label)
        self.api.press_button(self.user_id, message.message_id, data)
        return self.wait(expect, timeout)

    def find_button(self, label: str) -> tuple[StoredMessage, str]:
        """The newest message with a button labelled like this, and that button's data."""
        for message in reversed(self.messages()):
            for button in message.buttons:
                if label.lower() in str(button.get("text", "")).lower():
                    return message, str(button["callback_data"])
        raise AssertionError(f"no button like {label!r}; last message: {self.last_text()!r}")

    def wait(self, expect: str | None, timeout: float = 10) -> list[StoredMessage]:
        """Wait for new messages (one containing `expect`, if given); return what is new."""
        start = self.seen

        def arrived() -> Any:
            new = self.messages()[start:]
            if expect is None:
                return new
            return new if any(expect in (m.text or "") for m in new) else None

        new: list[StoredMessage] = self.api.wait_for(arrived, timeout=timeout, what=f"a reply with {expect!r}")
        time.sleep(0.05)  # let the rest of a multi-message reply land before the next action
        new = self.messages()[start:]
        self.seen = len(self.messages())
        return new

    def last_text(self) -> str:
        messages = self.messages()
        return messages[-1].text or "" if messages else ""

    def text_since(self, index: int) -> str:
        return "\n".join(m.text or "" for m in self.messages()[index:])


def eventually(predicate: Any, timeout: float = 10, what: str = "condition") -> Any:
    """Poll something outside the server (the bot's database) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_database(bot: BotProcess, reader: Callable[[Database], Awaitable[T]]) -> T:
    """Open the bot's database (its SQLite file or its PostgreSQL database) with the storage layer, read something,
    close it again."""

    async def run() -> T:
        db = await Database.open(bot.database_url)
        try:
            return await reader(db)
        finally:
            await db.close()

    return asyncio.run(run())


def current_answers(bot: BotProcess, user_id: int) -> dict[str, Answer]:
    """A tenant's answers that count, by question id, as the bot stored them."""

    async def read(db: Database) -> dict[str, Answer]:
        return {a.question_id: a.answer for a in await db.current_answers(user_id, CONSULTATION_ID)}

    return read_database(bot, read)


def query(bot: BotProcess, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of one SELECT (written with '?' placeholders, as storage/ writes them) on the bot's database, as tuples."""

    async def read(db: Database) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await db.reader.execute_fetchall(sql, params)]

    return read_database(bot, read)


def settled(bot: BotProcess, timeout: float = 15) -> None:
    """Wait until the bot has taken every queued update: polling, fetched and confirmed; a webhook worker,
    acknowledged (stored) and then applied by its processor, so its inbox is empty."""
    if not bot.webhook:
        bot.api.wait_for(lambda: bot.api.pending_update_count() == 0, timeout=timeout, what="the queue to drain")
        return
    bot.api.wait_delivered(timeout)
    eventually(lambda: query(bot, "SELECT count(*) FROM update_inbox")[0][0] == 0, timeout, "the inbox to empty")
