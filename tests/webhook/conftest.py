"""A real database on each backend for the webhook's tests, and Telegram-shaped updates to post."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import Database

SECRET = "s3cret_Token-for-the-tests_0123456789"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database under test: a SQLite file, or a fresh database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'webhook.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    database = await Database.open(url)
    yield database
    await database.close()


def message_update(update_id: int, user_id: int, text: str = "hello") -> dict[str, Any]:
    """A private text message, as Telegram posts it."""
    person = {"id": user_id, "is_bot": False, "first_name": "Tenant"}
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "date": 1_605_000_000, "text": text, "from": person,
                    "chat": {"id": user_id, "type": "private", "first_name": "Tenant"}},
    }


def button_update(update_id: int, user_id: int, data: str = "next") -> dict[str, Any]:
    """A button press, which Telegram queues apart from the same tenant's messages."""
    person = {"id": user_id, "is_bot": False, "first_name": "Tenant"}
    return {
        "update_id": update_id,
        "callback_query": {"id": str(update_id), "from": person, "chat_instance": "1", "data": data,
                           "message": {"message_id": 1, "date": 1_605_000_000, "text": "Question",
                                       "chat": {"id": user_id, "type": "private"}}},
    }


def poll_update(update_id: int) -> dict[str, Any]:
    """A poll's new state: neither a user nor a chat, so the no-tenant queue."""
    return {
        "update_id": update_id,
        "poll": {"id": "1", "question": "Which?", "options": [{"text": "A", "voter_count": 1}],
                 "total_voter_count": 1, "is_closed": False, "is_anonymous": True, "type": "regular",
                 "allows_multiple_answers": False},
    }


def body(update: dict[str, Any]) -> str:
    return json.dumps(update)
