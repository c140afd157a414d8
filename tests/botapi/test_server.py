"""Prove the fake Bot API speaks real Telegram to an unmodified python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import threading
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.botapi import DEFAULT_TOKEN, BotApiServer
from tests.botapi.markup import parse_html, parse_markdown_v2
from tests.botapi.model import JSON, ApiError

USER = 4242


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta retry_after so RetryAfter.retry_after does not warn."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    """A fresh server per test so state never leaks between tests."""
    async with BotApiServer() as api:
        yield api


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    """A real PTB Bot pointed at the fake, with a pool big enough for concurrency tests."""
    request = HTTPXRequest(connection_pool_size=64, read_timeout=5)
    async with Bot(DEFAULT_TOKEN, base_url=server.base_url, request=request) as client:
        yield client


@pytest.fixture
def started(server: BotApiServer) -> int:
    """A user who has /started the bot, so the bot may write to them."""
    server.send_text(USER, "/start")
    return USER


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One row of callback buttons labelled by their data."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d) for d in data]])


async def test_get_me(bot: Bot, server: BotApiServer) -> None:
    """Bot.initialize already called getMe; the bot identity comes from the token."""
    me = await bot.get_me()
    assert me.is_bot and me.id == 123456789 and me.username == server.bot_user["username"]


async def test_send_message_round_trips_inline_keyboard(bot: Bot, server: BotApiServer, started: int) -> None:
    """sendMessage answers a real Message and the keyboard survives the trip."""
    markup = keyboard("yes", "no")
    sent = await bot.send_message(started, "Agree?", reply_markup=markup)
    assert isinstance(sent, Message)
    assert sent.text == "Agree?" and sent.chat.id == started and sent.from_user and sent.from_user.is_bot
    assert sent.reply_markup == markup
    stored = server.last_message(started)
    assert stored.message_id == sent.message_id and stored.button_texts == ["YES", "NO"]
    assert server.requests("sendMessage")[0].params["reply_markup"] == markup.to_dict()


async def test_injected_text_and_callback_arrive_typed(bot: Bot, server: BotApiServer, started: int) -> None:
    """Injected updates parse into the PTB types handlers rely on."""
    first = await bot.get_updates(timeout=1)
    assert first[0].message and first[0].message.text == "/start"
    assert first[0].message.entities[0].type == "bot_command"
    sent = await bot.send_message(started, "Pick", reply_markup=keyboard("a", "b"))
    server.press_button(started, sent.message_id, button_text="B")
    updates = await bot.get_updates(offset=first[-1].update_id + 1, timeout=1)
    assert len(updates) == 1 and isinstance(updates[0], Update)
    query = updates[0].callback_query
    assert isinstance(query, CallbackQuery) and query.data == "b"
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert await query.answer("Noted")
    assert server.callback_answers()[0].text == "Noted" and server.callback_answers()[0].data == "b"


async def test_offsets_confirm_and_unconfirmed_updates_are_redelivered(
    bot: Bot, server: BotApiServer
) -> None:
    """Like Telegram: updates stay until an offset above them is sent."""
    ids = [server.send_text(USER, f"m{i}")["update_id"] for i in range(3)]
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert await bot.get_updates(offset=ids[-1] + 1) == ()
    assert server.pending_update_count() == 0
    assert [u.update_id for u in await bot.get_updates(limit=1)] == []


async def test_long_poll_wakes_on_update_and_times_out_empty(bot: Bot, server: BotApiServer) -> None:
    """getUpdates returns as soon as something is queued, or () after its timeout."""
    started_at = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
    assert 0.25 < time.monotonic() - started_at < 2
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for_requests_async("getUpdates", 1)
    await asyncio.sleep(0.05)
    started_at = time.monotonic()
    server.send_text(USER, "hello")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message and updates[0].message.text == "hello"
    assert time.monotonic() - started_at < 1


async def test_duplicate_and_redelivery(bot: Bot, server: BotApiServer) -> None:
    """duplicate_next/deliver_again re-send confirmed updates, as Telegram may after a restart."""
    server.duplicate_next()
    update_id = server.send_text(USER, "once")["update_id"]
    assert [u.update_id for u in await bot.get_updates()] == [update_id]
    assert [u.update_id for u in await bot.get_updates(offset=update_id + 1)] == [update_id]
    assert await bot.get_updates(offset=update_id + 1) == ()
    server.deliver_again(update_id)
    assert [u.update_id for u in await bot.get_updates(offset=update_id + 1)] == [update_id]


@pytest.mark.parametrize(
    ("inject", "attribute"),
    [
        (lambda s: s.send_sticker(USER), "sticker"),
        (lambda s: s.send_photo(USER, caption="look"), "photo"),
        (lambda s: s.send_voice(USER), "voice"),
        (lambda s: s.send_location(USER), "location"),
        (lambda s: s.send_contact(USER), "contact"),
        (lambda s: s.send_document(USER), "document"),
    ],
)
async def test_media_updates_parse(
    bot: Bot, server: BotApiServer, inject: Callable[[BotApiServer], JSON], attribute: str
) -> None:
    """Every media builder yields a Message PTB's filters recognise."""
    inject(server)
    (update,) = await bot.get_updates()
    assert update.message is not None and getattr(update.message, attribute)


async def test_edits_channel_posts_and_raw_updates(bot: Bot, server: BotApiServer) -> None:
    """edited_message, channel_post, my_chat_member and raw injection all reach the bot."""
    message_id = server.send_text(USER, "first")["message"]["message_id"]
    server.edit_text(USER, message_id, "second")
    server.send_channel_post(-100123, "news")
    server.user_blocks_bot(USER)
    server.inject_raw({"message": {"message_id": 99, "date": 0, "chat": {"id": 5, "type": "private"}}})
    updates = await bot.get_updates()
    assert updates[1].edited_message and updates[1].edited_message.text == "second"
    assert updates[2].channel_post and updates[2].channel_post.chat.type == "channel"
    assert updates[3].my_chat_member and updates[3].my_chat_member.new_chat_member.status == "kicked"
    assert updates[4].message and updates[4].message.message_id == 99
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "still there?")
    server.send_text(USER, "/vote@consultation_test_bot", chat_type="supergroup", chat_id=-100555)
    (group_update,) = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert group_update.message and group_update.message.chat.type == "supergroup"
    assert group_update.message.entities[0].length == len("/vote@consultation_test_bot")
    in_group = await bot.send_message(-100555, "Poll", reply_markup=keyboard("a"))
    server.press_button(USER, in_group.message_id, "a", chat_id=-100555)
    (press,) = await bot.get_updates(offset=group_update.update_id + 1)
    assert press.callback_query and press.callback_query.from_user.id == USER


async def test_conflict_detection() -> None:
    """With detect_conflicts, a second poller terminates the first with 409, as Telegram does."""
    async with BotApiServer(detect_conflicts=True) as api:
        first, second = Bot(DEFAULT_TOKEN, base_url=api.base_url), Bot(DEFAULT_TOKEN, base_url=api.base_url)
        async with first, second:
            older = asyncio.create_task(first.get_updates(timeout=5))
            await api.wait_for_async(lambda: api.requests("getUpdates"), what="first poll")
            newer = asyncio.create_task(second.get_updates(timeout=dtm.timedelta(seconds=0.2)))
            with pytest.raises(Conflict):
                await older
            assert await newer == ()


async def test_retry_after(bot: Bot, server: BotApiServer, started: int) -> None:
    """429 carries retry_after, which PTB turns into RetryAfter."""
    server.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(started, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert server.requests("sendMessage")[0].status == 429
    assert (await bot.send_message(started, "hi again")).text == "hi again"


async def test_blocked_user_is_forbidden(bot: Bot, server: BotApiServer, started: int) -> None:
    """block_user answers 403 'bot was blocked by the user' until unblocked."""
    server.block_user(started)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(started, "hi")
    server.unblock_user(started)
    assert await bot.send_message(started, "hi")


async def test_bad_requests(bot: Bot, server: BotApiServer, started: int) -> None:
    """Telegram's common 400s: too long, unknown chat, huge callback_data, broken HTML/MarkdownV2."""
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(started, "x" * 4097)
    assert await bot.send_message(started, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hello stranger")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(started, "k", reply_markup=keyboard("d" * 65))
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(started, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
        await bot.send_message(started, "<div>no</div>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(started, "Done.", parse_mode="MarkdownV2")
    html = await bot.send_message(
        started, "<b>Bold</b> &amp; <a href='https://x.org'>link</a>", parse_mode="HTML"
    )
    assert html.text == "Bold & link" and [e.type for e in html.entities] == ["bold", "text_link"]


async def test_edit_semantics(bot: Bot, server: BotApiServer, started: int) -> None:
    """Identical edits are refused; editing text without reply_markup drops the keyboard."""
    sent = await bot.send_message(started, "Q1", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Q1", started, sent.message_id, reply_markup=keyboard("a"))
    edited = await bot.edit_message_text("Thanks", started, sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Thanks" and edited.reply_markup is None
    stored = server.sent_messages(started)[0]
    assert stored.text == "Thanks" and stored.reply_markup is None and stored.previous_texts == ["Q1"]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(started, sent.message_id)
    await bot.edit_message_reply_markup(started, sent.message_id, reply_markup=keyboard("z"))
    assert server.sent_messages(started)[0].button_texts == ["Z"]
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("nope", started, 777)


async def test_wrong_token_is_invalid(server: BotApiServer) -> None:
    """A token the server does not know gets 401, which PTB reports as InvalidToken."""
    with pytest.raises(InvalidToken):
        async with Bot("111:wrong", base_url=server.base_url):
            pass
    assert server.requests()[0].status == 401 and not server.requests()[0].token_ok


async def test_unknown_method_and_raw_encoding(server: BotApiServer) -> None:
    """Raw HTTP: unknown methods are 404 with Telegram's body; JSON bodies work too."""
    async with aiohttp.ClientSession() as session:
        async with session.post(server.method_url("noSuchMethod")) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with session.post(server.method_url("getMe"), json={}) as response:
            assert (await response.json())["result"]["is_bot"] is True


async def test_send_document_keeps_bytes_and_filename(bot: Bot, server: BotApiServer, started: int) -> None:
    """Multipart uploads are decoded: bytes, filename and caption are kept."""
    payload = b"id,answer\n1,yes\n"
    sent = await bot.send_document(started, payload, filename="answers.csv", caption="Your answers")
    assert (
        sent.document and sent.document.file_name == "answers.csv" and sent.document.file_size == len(payload)
    )
    (document,) = server.documents(started)
    assert (
        document.data == payload and document.filename == "answers.csv" and document.caption == "Your answers"
    )


async def test_commands_scope_and_actions(bot: Bot, server: BotApiServer, started: int) -> None:
    """setMyCommands is recorded per scope; harmless methods succeed."""
    commands = [BotCommand("start", "Begin"), BotCommand("help", "Help")]
    assert await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    assert server.commands({"type": "all_private_chats"}) == [c.to_dict() for c in commands]
    assert server.commands() is None
    assert await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert server.commands({"type": "all_private_chats"}) is None
    assert await bot.send_chat_action(started, "typing")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert server.pending_update_count() == 0
    assert await bot.close()


async def test_outage_5xx_and_delay(bot: Bot, server: BotApiServer, started: int) -> None:
    """502 while down and injected 5xx surface as NetworkError; a hung call times out."""
    server.set_down(True)
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.get_me()
    server.set_down(False)
    server.fail_next("*", 500, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(started, "x")
    server.set_delay("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(started, "slow", read_timeout=0.2)
    server.set_delay("sendMessage", 0)
    assert (await bot.send_message(started, "fast")).text == "fast"


async def test_many_concurrent_sends_and_rate_helper(bot: Bot, server: BotApiServer, started: int) -> None:
    """Parallel PTB sends are all stored with unique ids; the rate helper counts sends per window."""
    sent = await asyncio.gather(*(bot.send_message(started, f"n{i}") for i in range(100)))
    assert len({m.message_id for m in sent}) == 100
    assert sorted(m.text or "" for m in server.sent_messages(started)) == sorted(f"n{i}" for i in range(100))
    assert server.max_sends_in_any_second(window=60) == 100
    server.clear_requests()
    for burst in (3, 2):
        for _ in range(burst):
            await bot.send_message(started, "x")
        await asyncio.sleep(0.3)
    assert server.max_sends_in_any_second(window=0.2) == 3
    assert server.max_sends_in_any_second(window=10) == 5
    assert server.max_sends_in_any_second(chat_id=12345) == 0


async def test_thousands_of_raw_sends_while_long_polls_wait(server: BotApiServer) -> None:
    """The server itself is never the bottleneck: 2000 raw sends and 50 parked long polls."""
    server.add_chat(USER)
    url = server.method_url
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:

        async def call(method: str, data: dict[str, str]) -> JSON:
            async with session.post(url(method), data=data) as response:
                result: JSON = await response.json()
                return result

        polls = [asyncio.create_task(call("getUpdates", {"timeout": "5"})) for _ in range(50)]
        replies = await asyncio.gather(
            *(call("sendMessage", {"chat_id": str(USER), "text": "t"}) for _ in range(2000))
        )
        assert all(r["ok"] for r in replies)
        server.send_text(USER, "wake up")
        woken = await asyncio.wait_for(asyncio.gather(*polls), 2)
        assert all(r["result"][0]["message"]["text"] == "wake up" for r in woken)


async def test_flood_limit(bot: Bot, server: BotApiServer, started: int) -> None:
    """set_flood_limit answers 429 beyond N calls per second."""
    server.set_flood_limit("sendMessage", per_second=5, retry_after=3)
    results = await asyncio.gather(
        *(bot.send_message(started, "x") for _ in range(8)), return_exceptions=True
    )
    assert sum(isinstance(r, RetryAfter) for r in results) == 3


async def test_wait_for_times_out_with_context(server: BotApiServer) -> None:
    """A failed wait says what the bot did send, so e2e failures explain themselves."""
    with pytest.raises(TimeoutError, match="got 0"):
        await server.wait_for_messages_async(USER, 1, timeout=0.1)


async def test_application_end_to_end(server: BotApiServer) -> None:
    """An unmodified PTB Application polls the fake and answers a /start."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome!")

    app: Application = ApplicationBuilder().token(DEFAULT_TOKEN).base_url(server.base_url).build()  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
        server.send_text(USER, "/start")
        (reply,) = await server.wait_for_messages_async(USER, 1)
        assert reply.text == "Welcome!"
        await app.updater.stop()
        await app.stop()
    assert server.requests()[0].method == "getMe"
    assert {"deleteWebhook", "getUpdates", "sendMessage"} <= {r.method for r in server.requests()}
    assert server.pending_update_count() == 0


def test_threaded_server_and_sync_waits() -> None:
    """Sync mode: server on a thread, the bot elsewhere, the test blocks on a Condition."""
    with BotApiServer() as api:
        api.send_text(USER, "/start")

        async def reply_later() -> None:
            await asyncio.sleep(0.1)
            async with Bot(DEFAULT_TOKEN, base_url=api.base_url) as client:
                await client.send_message(USER, "from another thread")

        worker = threading.Thread(target=asyncio.run, args=(reply_later(),))
        worker.start()
        (message,) = api.wait_for_messages(USER, 1, timeout=5)
        worker.join()
        assert message.text == "from another thread"


def test_markup_parsers() -> None:
    """HTML and MarkdownV2 parsing produce Telegram's UTF-16 offsets and refusals."""
    assert parse_html("😀<i>x</i>") == ("😀x", [{"type": "italic", "offset": 2, "length": 1}])
    text, entities = parse_html('<pre><code class="language-python">a&lt;b</code></pre>')
    assert text == "a<b" and entities == [{"type": "pre", "language": "python", "offset": 0, "length": 3}]
    assert parse_markdown_v2(r"*bold* \. [x](https://e.org)")[1][0]["type"] == "bold"
    for broken in ("<b><i>x</b></i>", "</b>", "<br/>", '<span class="x">y</span>'):
        with pytest.raises(ApiError, match=r"(?i)can.t parse entities"):
            parse_html(broken)
