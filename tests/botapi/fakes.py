"""Builders for Bot API objects (users, chats, messages, media) shaped like real Telegram payloads."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from tests.botapi.markup import utf16_len
from tests.botapi.model import JSON

UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# Telegram's default when allowed_updates was never set or set to []: everything but these.
NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def now() -> int:
    """Unix time as Telegram stamps message dates."""
    return int(time.time())


def file_ids(seed: str) -> JSON:
    """Stable fake file_id/file_unique_id pair so the same content maps to the same ids."""
    digest = hashlib.sha1(seed.encode()).hexdigest()
    return {"file_id": f"BQACAgIAAx{digest[:40]}", "file_unique_id": f"AgAD{digest[:12]}"}


def user(
    user_id: int, first_name: str | None = None, username: str | None = None, language_code: str = "en"
) -> JSON:
    """A human Telegram User object."""
    data: JSON = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
    if username:
        data["username"] = username
    if language_code:
        data["language_code"] = language_code
    return data


def bot_user(bot_id: int, first_name: str, username: str) -> JSON:
    """The bot's own User object, as returned by getMe."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": first_name,
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def private_chat(sender: JSON) -> JSON:
    """The private Chat object between the bot and a user."""
    chat: JSON = {"id": sender["id"], "type": "private", "first_name": sender["first_name"]}
    if "username" in sender:
        chat["username"] = sender["username"]
    return chat


def group_chat(chat_id: int, chat_type: str = "supergroup", title: str | None = None) -> JSON:
    """A group, supergroup or channel Chat object."""
    return {"id": chat_id, "type": chat_type, "title": title or f"Chat {chat_id}"}


def command_entities(text: str) -> list[JSON]:
    """Mark a leading /command the way Telegram clients do, so CommandHandler matches."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0] if text.strip() else text
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


def message(message_id: int, chat: JSON, sender: JSON | None, **fields: Any) -> JSON:
    """A Message object; extra fields (text, sticker, photo, ...) are merged in verbatim."""
    data: JSON = {"message_id": message_id, "date": now(), "chat": chat}
    if sender is not None:
        data["from"] = sender
    data.update({key: value for key, value in fields.items() if value is not None})
    return data


def sticker(emoji: str = "👍") -> JSON:
    """A regular static sticker."""
    return {
        **file_ids(f"sticker:{emoji}"),
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
    }


def photo_sizes(seed: str = "photo") -> list[JSON]:
    """The usual three PhotoSize variants Telegram sends for one photo."""
    return [
        {**file_ids(f"{seed}:{width}"), "width": width, "height": width * 3 // 4, "file_size": width * 40}
        for width in (90, 320, 1280)
    ]


def voice(duration: int = 3) -> JSON:
    """A voice note."""
    return {
        **file_ids(f"voice:{duration}"),
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_size": duration * 4000,
    }


def document(filename: str, data: bytes, mime_type: str | None = None) -> JSON:
    """A Document object describing uploaded bytes."""
    doc: JSON = {**file_ids(f"doc:{filename}:{hashlib.sha1(data).hexdigest()}"), "file_name": filename}
    if mime_type:
        doc["mime_type"] = mime_type
    doc["file_size"] = len(data)
    return doc


def contact(phone_number: str, first_name: str, user_id: int | None = None) -> JSON:
    """A shared contact."""
    data: JSON = {"phone_number": phone_number, "first_name": first_name}
    if user_id is not None:
        data["user_id"] = user_id
    return data


def chat_member_update(chat: JSON, actor: JSON, bot: JSON, old_status: str, new_status: str) -> JSON:
    """A my_chat_member payload, e.g. the user blocking (kicked) or restarting (member) the bot."""
    return {
        "chat": chat,
        "from": actor,
        "date": now(),
        "old_chat_member": {
            "status": old_status,
            "user": bot,
            **({"until_date": 0} if old_status == "kicked" else {}),
        },
        "new_chat_member": {
            "status": new_status,
            "user": bot,
            **({"until_date": 0} if new_status == "kicked" else {}),
        },
    }


def update_type(update: JSON) -> str | None:
    """Which Update field a payload carries, for allowed_updates filtering."""
    return next((key for key in update if key != "update_id"), None)
