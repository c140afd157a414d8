"""What every handler needs, kept in one object on the Application instead of module globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from telegram.ext import ContextTypes

from bot.delivery.outbox import Outbox, Outgoing
from bot.settings import Settings
from conversations.model import Consultation
from storage import Database


def no_backlog(_chat_id: int) -> int:
    """Before the update processor is wired in (and in tests): nothing is ever waiting."""
    return 0


def utc_now() -> datetime:
    """The real clock; tests of time use the engine directly with an injected one."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Settings, the consultation, the open database and the clock, shared by all handlers."""

    settings: Settings
    consultation: Consultation
    clock: Callable[[], datetime] = utc_now
    in_hand: Callable[[int], int] = no_backlog  # a tenant's updates in hand (bot.tenant.ordering)
    database: Database | None = None
    outbox: Outbox | None = None

    @property
    def db(self) -> Database:
        """The database, opened in post_init before any update is handled."""
        if self.database is None:
            raise RuntimeError("the database is not open yet")
        return self.database

    def send(self, chat_id: int, outgoing: Outgoing) -> None:
        """Queue replies for a chat, in order, after whatever is already queued for it.

        A reply goes at once, unless the tenant's next messages were already waiting while this one was handled:
        then they are sending many at once, and their replies are paced and merged (bot.delivery.outbox).
        """
        if self.outbox is None:
            raise RuntimeError("the outbox is not open yet")
        if not outgoing.paced and self.in_hand(chat_id) > 1:
            outgoing = replace(outgoing, paced=True)
        self.outbox.put(chat_id, outgoing)

    def say(self, key: str, **values: object) -> str:
        """The bot's own wording (from conversations/wording/*.toml or the consultation's overrides)."""
        return self.consultation.message(key, **values)


def runtime_of(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The Runtime the builder stored on the Application."""
    runtime = context.application.bot_data["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime
