"""The fake Telegram's memory: update queue, chats, messages and everything the bot sent (no locking here)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tests.botapi import fakes
from tests.botapi.model import (
    JSON,
    CallbackAnswer,
    ReceivedDocument,
    RecordedRequest,
    StoredMessage,
    WebhookConfig,
)


@dataclass
class Store:
    """Mutable server state; callers must hold the owning ApiState lock."""

    bot_user: JSON
    next_update_id: int = 1
    queue: list[JSON] = field(default_factory=list)
    redeliver: list[JSON] = field(default_factory=list)
    history: dict[int, JSON] = field(default_factory=dict)
    duplicate_next: int = 0
    duplicate_ids: set[int] = field(default_factory=set)
    allowed_updates: list[str] | None = None
    users: dict[int, JSON] = field(default_factory=dict)
    chats: dict[int | str, JSON] = field(default_factory=dict)
    messages: dict[int, dict[int, StoredMessage]] = field(default_factory=dict)
    message_counters: dict[int, int] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    callback_queries: dict[str, JSON] = field(default_factory=dict)
    answered_queries: set[str] = field(default_factory=set)
    callback_answers: list[CallbackAnswer] = field(default_factory=list)
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    documents: list[ReceivedDocument] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)  # file_id -> bytes users sent, for getFile
    next_callback_id: int = 1
    webhook: WebhookConfig | None = None  # set by setWebhook: getUpdates then answers 409

    # -- chats and messages -------------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        """Message ids grow per chat, shared by user and bot messages, as in Telegram."""
        value = self.message_counters.get(chat_id, 0) + 1
        self.message_counters[chat_id] = value
        return value

    def remember_user(self, user_id: int, **overrides: Any) -> JSON:
        """Create or update a user, keeping earlier details unless new ones are given."""
        known = self.users.get(user_id)
        fresh = fakes.user(
            user_id,
            overrides.get("first_name") or (known or {}).get("first_name"),
            overrides.get("username") or (known or {}).get("username"),
            overrides.get("language_code") or (known or {}).get("language_code") or "en",
        )
        self.users[user_id] = fresh
        return fresh

    def chat_for(self, user: JSON, chat_id: int | None, chat_type: str, title: str | None) -> JSON:
        """Resolve (and remember) the chat an injected message lives in."""
        if chat_type == "private":
            chat = fakes.private_chat(user)
        else:
            if chat_id is None:
                raise ValueError("group and channel messages need an explicit chat_id")
            known = self.chats.get(chat_id)
            chat = known if known and title is None else fakes.group_chat(chat_id, chat_type, title)
        self.chats[chat["id"]] = chat
        return chat

    def store_message(self, data: JSON, from_bot: bool, **extra: Any) -> StoredMessage:
        """Keep a message so later edits, callbacks and replies can find it."""
        chat_id = data["chat"]["id"]
        stored = StoredMessage(
            chat_id=chat_id, message_id=data["message_id"], data=data, from_bot=from_bot, **extra
        )
        self.messages.setdefault(chat_id, {})[stored.message_id] = stored
        return stored

    def find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """A live (not deleted) message, or None."""
        found = self.messages.get(chat_id, {}).get(message_id)
        return None if found is None or found.deleted else found

    def bot_messages(self, chat_id: int) -> list[StoredMessage]:
        """Deep copies of the bot's messages in one chat, oldest first."""
        return [copy.deepcopy(m) for m in self.messages.get(chat_id, {}).values() if m.from_bot]

    # -- updates --------------------------------------------------------------------------

    def add_update(self, payload: JSON, keep_id: bool = False) -> JSON:
        """Queue an update with the next monotonic update_id (unless keep_id for fuzzing)."""
        update = copy.deepcopy(payload)
        if not keep_id or "update_id" not in update:
            update = {
                "update_id": self.next_update_id,
                **{k: v for k, v in update.items() if k != "update_id"},
            }
        self.next_update_id = max(self.next_update_id, int(update["update_id"]) + 1)
        self.queue.append(update)
        self.history[update["update_id"]] = update
        if self.duplicate_next > 0:
            self.duplicate_next -= 1
            self.duplicate_ids.add(update["update_id"])
        return update

    def deliver_again(self, update_id: int) -> None:
        """Schedule one more delivery of an already seen update (simulates Telegram's at-least-once)."""
        self.redeliver.append(self.history[update_id])

    def confirm(self, offset: int | None) -> None:
        """Apply getUpdates offset semantics: ids below offset are confirmed and forgotten."""
        if offset is None:
            return
        if offset < 0:
            self.queue = self.queue[offset:]
            return
        kept: list[JSON] = []
        for update in self.queue:
            if update["update_id"] >= offset:
                kept.append(update)
            elif update["update_id"] in self.duplicate_ids:
                self.duplicate_ids.discard(update["update_id"])
                self.redeliver.append(update)
        self.queue = kept

    def is_allowed(self, update: JSON) -> bool:
        """Filter by the bot's allowed_updates, defaulting to Telegram's standard set."""
        kind = fakes.update_type(update)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in fakes.NOT_DELIVERED_BY_DEFAULT

    def pending(self, limit: int, offset: int | None = None) -> list[JSON]:
        """Updates a getUpdates call would return now, re-deliveries first so the last id stays highest."""
        floor = offset if offset is not None and offset > 0 else 0
        fresh = [u for u in self.queue if u["update_id"] >= floor and self.is_allowed(u)]
        return ([u for u in self.redeliver if self.is_allowed(u)] + fresh)[:limit]

    def pending_count(self) -> int:
        """Updates not yet confirmed (polling) or acknowledged (webhook), re-deliveries included."""
        return len(self.queue) + len(self.redeliver)

    def drop_pending(self) -> None:
        """drop_pending_updates=True of setWebhook and deleteWebhook: forget every queued update."""
        self.queue.clear()
        self.redeliver.clear()

    def take(self, limit: int, offset: int | None = None) -> list[JSON]:
        """Return pending updates, consuming the one-shot re-deliveries among them."""
        batch = self.pending(limit, offset)
        delivered = {id(u) for u in batch}
        self.redeliver = [u for u in self.redeliver if id(u) not in delivered]
        return batch
