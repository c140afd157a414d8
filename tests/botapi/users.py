"""Injecting what Telegram users do (messages, media, edits, button presses) as queued updates."""

from __future__ import annotations

import copy
from typing import Any

from tests.botapi import fakes
from tests.botapi.model import JSON
from tests.botapi.state import ApiState


class UserActions(ApiState):
    """Thread-safe builders that turn user actions into realistic Update payloads."""

    def inject_raw(self, update: JSON, keep_id: bool = False) -> JSON:
        """Queue any update dict verbatim (for fuzzing); update_id is reassigned unless keep_id."""
        return self._inject(update, keep_id)

    def send_message(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
        **fields: Any,
    ) -> JSON:
        """Inject a message from a user with arbitrary content fields (text, sticker, photo, ...)."""
        with self._lock:
            sender = self._store.remember_user(
                user_id, first_name=first_name, username=username, language_code=language_code
            )
            chat = self._store.chat_for(sender, chat_id, chat_type, title)
            if reply_to_message_id is not None:
                target = self._store.find_message(chat["id"], reply_to_message_id)
                if target is None:
                    raise KeyError(f"no message {reply_to_message_id} in chat {chat['id']} to reply to")
                fields["reply_to_message"] = {k: v for k, v in target.data.items() if k != "reply_to_message"}
            data = fakes.message(self._store.next_message_id(chat["id"]), chat, sender, **fields)
            self._store.store_message(copy.deepcopy(data), from_bot=False)
            return self._inject({"message": data})

    def send_text(self, user_id: int, text: str, chat_type: str = "private", **kwargs: Any) -> JSON:
        """Inject a text message; '/command' text gets the bot_command entity clients add."""
        entities = kwargs.pop("entities", None) or fakes.command_entities(text) or None
        return self.send_message(user_id, chat_type=chat_type, text=text, entities=entities, **kwargs)

    def send_sticker(self, user_id: int, emoji: str = "👍", **kwargs: Any) -> JSON:
        """Inject a sticker, a classic 'unexpected input' for text-driven flows."""
        return self.send_message(user_id, sticker=fakes.sticker(emoji), **kwargs)

    def send_photo(self, user_id: int, caption: str | None = None, **kwargs: Any) -> JSON:
        """Inject a photo with optional caption."""
        return self.send_message(
            user_id, photo=fakes.photo_sizes(f"photo:{user_id}"), caption=caption, **kwargs
        )

    def send_voice(self, user_id: int, duration: int = 3, **kwargs: Any) -> JSON:
        """Inject a voice note."""
        return self.send_message(user_id, voice=fakes.voice(duration), **kwargs)

    def send_location(
        self, user_id: int, latitude: float = 51.5072, longitude: float = -0.1276, **kwargs: Any
    ) -> JSON:
        """Inject a shared location."""
        return self.send_message(user_id, location={"latitude": latitude, "longitude": longitude}, **kwargs)

    def send_contact(
        self, user_id: int, phone_number: str = "+447700900123", first_name: str = "Alex", **kwargs: Any
    ) -> JSON:
        """Inject a shared contact card (the user's own, so user_id is set)."""
        return self.send_message(user_id, contact=fakes.contact(phone_number, first_name, user_id), **kwargs)

    def send_document(
        self,
        user_id: int,
        filename: str = "file.pdf",
        data: bytes = b"%PDF-1.4",
        mime_type: str = "application/pdf",
        **kwargs: Any,
    ) -> JSON:
        """Inject a document upload from a user; its bytes can then be fetched with getFile, as from Telegram."""
        document = fakes.document(filename, data, mime_type)
        with self._lock:
            self._store.uploads[document["file_id"]] = data
        return self.send_message(user_id, document=document, **kwargs)

    def send_channel_post(self, chat_id: int, text: str, title: str | None = None, **fields: Any) -> JSON:
        """Inject a channel_post (no 'from', sender_chat is the channel)."""
        with self._lock:
            chat = self._store.chat_for({}, chat_id, "channel", title)
            data = fakes.message(
                self._store.next_message_id(chat_id), chat, None, sender_chat=chat, text=text, **fields
            )
            self._store.store_message(copy.deepcopy(data), from_bot=False)
            return self._inject({"channel_post": data})

    def edit_text(self, user_id: int, message_id: int, text: str, chat_id: int | None = None) -> JSON:
        """Inject an edited_message: the user changed an earlier text message."""
        with self._lock:
            stored = self._store.find_message(chat_id if chat_id is not None else user_id, message_id)
            if stored is None or stored.from_bot:
                raise KeyError(f"user message {message_id} not found")
            stored.previous_texts.append(stored.data.get("text", ""))
            stored.data.update(text=text, edit_date=fakes.now())
            return self._inject({"edited_message": stored.data})

    def press_button(
        self,
        user_id: int,
        message_id: int,
        data: str | None = None,
        *,
        button_text: str | None = None,
        chat_id: int | None = None,
    ) -> JSON:
        """Inject a callback_query for a bot message as currently stored (data or visible label)."""
        with self._lock:
            stored = self._store.find_message(chat_id if chat_id is not None else user_id, message_id)
            if stored is None or not stored.from_bot:
                raise KeyError(f"bot message {message_id} not found in chat {chat_id or user_id}")
            if data is None:
                if button_text is None:
                    raise ValueError("press_button needs data or button_text")
                data = stored.callback_data(button_text)
            sender = self._store.remember_user(user_id)
            query_id = f"{user_id}{next(self._query_seq):08d}"
            query = {
                "id": query_id,
                "from": sender,
                "message": stored.data,
                "chat_instance": str(abs(hash((self.token, stored.chat_id))) % 10**18),
                "data": data,
            }
            self._store.callback_queries[query_id] = copy.deepcopy(query)
            return self._inject({"callback_query": query})

    def add_chat(self, chat_id: int, chat_type: str = "private", **fields: Any) -> JSON:
        """Make a chat known without a message (e.g. a user who /started in an earlier run)."""
        with self._lock:
            if chat_type == "private":
                chat = fakes.private_chat(self._store.remember_user(chat_id, **fields))
            else:
                chat = fakes.group_chat(chat_id, chat_type, fields.get("title"))
            self._store.chats[chat_id] = chat
            return copy.deepcopy(chat)

    def duplicate_next(self, count: int = 1) -> None:
        """Deliver the next `count` injected updates twice: again right after they are confirmed."""
        with self._lock:
            self._store.duplicate_next += count

    def deliver_again(self, update_id: int) -> None:
        """Re-deliver an update (even one already confirmed) on the next getUpdates."""
        with self._lock:
            self._store.deliver_again(update_id)
            self._changed()
