"""Bot API method implementations over a Store; each returns the JSON result or raises ApiError."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from typing import Any

from tests.botapi import fakes
from tests.botapi.markup import render, utf16_len
from tests.botapi.model import (
    JSON,
    ApiError,
    CallbackAnswer,
    ReceivedDocument,
    StoredMessage,
    UploadedFile,
    bad_request,
)
from tests.botapi.store import Store
from tests.botapi.webhook_methods import delete_webhook, get_webhook_info, set_webhook

MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")

Params = dict[str, Any]
Files = dict[str, UploadedFile]
Handler = Callable[[Store, Params, Files], Any]


def resolve_chat(store: Store, params: Params) -> JSON:
    """Only chats that talked to the bot exist for it; others are 'chat not found' like Telegram."""
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise bad_request("chat_id is empty")
    if isinstance(chat_id, str):
        name = chat_id.removeprefix("@")
        for chat in store.chats.values():
            if chat.get("username") == name:
                return chat
        raise bad_request("chat not found")
    found = store.chats.get(chat_id)
    if found is None:
        raise bad_request("chat not found")
    return found


def validate_markup(markup: Any) -> JSON | None:
    """Refuse keyboards Telegram would refuse, notably callback_data over 64 bytes."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
        elif "url" in button:
            if not str(button["url"]).startswith(("http://", "https://", "tg://")):
                raise bad_request(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")
        elif not BUTTON_ACTIONS & button.keys():
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            )
    return markup


def split_markup(markup: JSON | None) -> tuple[JSON | None, JSON | None]:
    """Telegram echoes inline keyboards in the Message; other markups only affect the client."""
    if markup is not None and "inline_keyboard" in markup:
        return markup, None
    return None, markup


def reply_to(store: Store, chat_id: int, params: Params) -> JSON | None:
    """Attach reply_to_message when the bot replies, refusing unknown targets like Telegram."""
    reply = params.get("reply_parameters")
    if not isinstance(reply, dict):
        reply = {"message_id": params["reply_to_message_id"]} if "reply_to_message_id" in params else None
    if reply is None:
        return None
    target = store.find_message(reply.get("chat_id", chat_id), int(reply.get("message_id", 0)))
    if target is None:
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    data = copy.deepcopy(target.data)
    data.pop("reply_to_message", None)
    return data


def render_text(
    params: Params, key: str, limit: int, too_long: str, entities_key: str
) -> tuple[str, list[JSON]]:
    """Parse text/caption with parse_mode and enforce Telegram's length limits."""
    raw = params.get(key)
    source = "" if raw is None else str(raw)
    plain, entities = render(source, params.get("parse_mode"), params.get(entities_key))
    if utf16_len(plain) > limit:
        raise bad_request(too_long)
    return plain, entities


def send_message(store: Store, params: Params, files: Files) -> JSON:
    """sendMessage: store the bot's message so tests can read, edit and press it later."""
    chat = resolve_chat(store, params)
    plain, entities = render_text(params, "text", MAX_TEXT, "message is too long", "entities")
    if not plain.strip():
        raise bad_request("message text is empty")
    inline, keyboard = split_markup(validate_markup(params.get("reply_markup")))
    data = fakes.message(
        store.next_message_id(chat["id"]),
        chat,
        store.bot_user,
        reply_to_message=reply_to(store, chat["id"], params),
        text=plain,
        entities=entities or None,
        reply_markup=inline,
    )
    store.store_message(
        data, True, source_text=str(params["text"]), parse_mode=params.get("parse_mode"), keyboard=keyboard
    )
    return copy.deepcopy(data)


def editable(store: Store, params: Params, missing: str) -> StoredMessage:
    """Find the bot message an edit targets, with Telegram's refusal texts."""
    chat = resolve_chat(store, params)
    if params.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    stored = store.find_message(chat["id"], int(params["message_id"]))
    if stored is None:
        raise bad_request(missing)
    if not stored.from_bot:
        raise bad_request("message can't be edited")
    return stored


def edit_message_text(store: Store, params: Params, files: Files) -> JSON | bool:
    """editMessageText: omitting reply_markup removes the inline keyboard, exactly as Telegram does."""
    if params.get("inline_message_id"):
        return True
    stored = editable(store, params, "message to edit not found")
    if "text" not in stored.data:
        raise bad_request("there is no text in the message to edit")
    plain, entities = render_text(params, "text", MAX_TEXT, "message is too long", "entities")
    if not plain.strip():
        raise bad_request("message text is empty")
    inline, _ = split_markup(validate_markup(params.get("reply_markup")))
    old = stored.data
    if plain == old["text"] and entities == old.get("entities", []) and inline == old.get("reply_markup"):
        raise bad_request(NOT_MODIFIED)
    stored.previous_texts.append(old["text"])
    old["text"] = plain
    for key, value in (("entities", entities), ("reply_markup", inline)):
        if value:
            old[key] = value
        else:
            old.pop(key, None)
    old["edit_date"] = fakes.now()
    stored.source_text = str(params["text"])
    stored.parse_mode = params.get("parse_mode")
    return copy.deepcopy(old)


def edit_message_reply_markup(store: Store, params: Params, files: Files) -> JSON | bool:
    """editMessageReplyMarkup: replace or (when omitted) remove the inline keyboard."""
    if params.get("inline_message_id"):
        return True
    stored = editable(store, params, "message to edit not found")
    inline, _ = split_markup(validate_markup(params.get("reply_markup")))
    if inline == stored.data.get("reply_markup"):
        raise bad_request(NOT_MODIFIED)
    if inline:
        stored.data["reply_markup"] = inline
    else:
        stored.data.pop("reply_markup", None)
    stored.data["edit_date"] = fakes.now()
    return copy.deepcopy(stored.data)


def delete_message(store: Store, params: Params, files: Files) -> bool:
    """deleteMessage: mark deleted (kept for inspection) so later edits fail like Telegram."""
    chat = resolve_chat(store, params)
    stored = store.find_message(chat["id"], int(params.get("message_id") or 0))
    if stored is None:
        raise bad_request("message to delete not found")
    stored.deleted = True
    return True


def answer_callback_query(store: Store, params: Params, files: Files) -> bool:
    """answerCallbackQuery: each query may be answered once, and only if we issued it."""
    query_id = str(params.get("callback_query_id", ""))
    query = store.callback_queries.get(query_id)
    if query is None or query_id in store.answered_queries:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    store.answered_queries.add(query_id)
    store.callback_answers.append(
        CallbackAnswer(
            callback_query_id=query_id,
            text=None if text is None else str(text),
            show_alert=bool(params.get("show_alert", False)),
            url=params.get("url"),
            cache_time=params.get("cache_time"),
            user_id=query["from"]["id"],
            data=query.get("data"),
            message_id=(query.get("message") or {}).get("message_id"),
            time=time.monotonic(),
        )
    )
    return True


def send_document(store: Store, params: Params, files: Files) -> JSON:
    """sendDocument: keep the uploaded bytes and filename for assertions."""
    chat = resolve_chat(store, params)
    upload = files.get("document")
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        filename, payload, mime = upload.filename or "document", upload.data, upload.content_type
    else:
        reference = str(params.get("document") or "")
        known = next(
            (d for d in store.documents if fakes.document(d.filename or "", d.data)["file_id"] == reference),
            None,
        )
        if known is not None:
            filename, payload, mime = known.filename or "document", known.data, known.mime_type
        elif reference.startswith(("http://", "https://")):
            filename, payload, mime = reference.rsplit("/", 1)[-1] or "document", b"", None
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
    caption, entities = render_text(
        params, "caption", MAX_CAPTION, "message caption is too long", "caption_entities"
    )
    inline, keyboard = split_markup(validate_markup(params.get("reply_markup")))
    data = fakes.message(
        store.next_message_id(chat["id"]),
        chat,
        store.bot_user,
        reply_to_message=reply_to(store, chat["id"], params),
        document=fakes.document(filename, payload, mime),
        caption=caption or None,
        caption_entities=entities or None,
        reply_markup=inline,
    )
    store.store_message(
        data, True, source_text=params.get("caption"), parse_mode=params.get("parse_mode"), keyboard=keyboard
    )
    store.documents.append(
        ReceivedDocument(chat["id"], data["message_id"], filename, payload, mime, caption or None)
    )
    return copy.deepcopy(data)


def get_file(store: Store, params: Params, files: Files) -> JSON:
    """getFile: a file a user sent (or the bot sent), with the path to download it from /file/bot<token>/."""
    file_id = str(params.get("file_id") or "")
    data = store.uploads.get(file_id)
    if data is None:
        known = next((d for d in store.documents if fakes.document(d.filename or "", d.data)["file_id"] == file_id),
                     None)
        if known is None:
            raise bad_request("invalid file_id")
        data = known.data
        store.uploads[file_id] = data
    return {"file_id": file_id, "file_unique_id": f"u{file_id[-12:]}", "file_size": len(data),
            "file_path": f"documents/{file_id}"}


def send_chat_action(store: Store, params: Params, files: Files) -> bool:
    """sendChatAction: validate like Telegram, nothing to store."""
    resolve_chat(store, params)
    if params.get("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def commands_key(params: Params) -> tuple[str, str]:
    """Commands are stored per (scope, language) like Telegram's command lists."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def set_my_commands(store: Store, params: Params, files: Files) -> bool:
    """setMyCommands: validate names/descriptions and remember the list for its scope."""
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not COMMAND_NAME.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("command description must be non-empty")
    store.commands[commands_key(params)] = copy.deepcopy(commands)
    return True


def delete_my_commands(store: Store, params: Params, files: Files) -> bool:
    """deleteMyCommands: forget the list for that scope."""
    store.commands.pop(commands_key(params), None)
    return True


def get_my_commands(store: Store, params: Params, files: Files) -> list[JSON]:
    """getMyCommands: the list last set for that scope."""
    return copy.deepcopy(store.commands.get(commands_key(params), []))


def get_me(store: Store, params: Params, files: Files) -> JSON:
    """getMe: the bot's own user, which PTB fetches in Bot.initialize."""
    return copy.deepcopy(store.bot_user)


def harmless(store: Store, params: Params, files: Files) -> bool:
    """Methods with no observable effect in tests (close, logOut, profile setters)."""
    return True


HANDLERS: dict[str, Handler] = {
    "getme": get_me,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "setmycommands": set_my_commands,
    "deletemycommands": delete_my_commands,
    "getmycommands": get_my_commands,
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
    "senddocument": send_document,
    "getfile": get_file,
    "sendchataction": send_chat_action,
    "close": harmless,
    "logout": harmless,
    "setmydescription": harmless,
    "setmyshortdescription": harmless,
    "setmyname": harmless,
    "setchatmenubutton": harmless,
}


def dispatch(store: Store, method: str, params: Params, files: Files) -> Any:
    """Route a method name case-insensitively (as Telegram does) or answer 404."""
    handler = HANDLERS.get(method.lower())
    if handler is None:
        raise ApiError(404, "Not Found: method not found")
    return handler(store, params, files)
