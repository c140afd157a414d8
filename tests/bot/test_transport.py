"""The aiohttp transport against real sockets: what it sends arrives whole, and a failure says whether it may have."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import NetworkError, TimedOut

from bot.delivery.broadcaster import classify
from bot.delivery.telegram_bot import TolerantBot
from bot.delivery.transport import AiohttpRequest, answer_may_be_lost
from tests.botapi import DEFAULT_TOKEN, BotApiServer

USER = 5151
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as api:
        api.send_text(USER, "/start")
        yield api


def bot_at(base_url: str, read_timeout: float = 5.0) -> Bot:
    return Bot(DEFAULT_TOKEN, base_url=base_url,
               request=AiohttpRequest(connection_pool_size=8, connect_timeout=2, read_timeout=read_timeout))


async def send_to_a_bare_socket(port: int) -> NetworkError:
    """A send to something that is not a Bot API server (the bot is not initialised: that would call getMe)."""
    request = AiohttpRequest(connection_pool_size=1, connect_timeout=2, read_timeout=2)
    async with request:
        bot = Bot(DEFAULT_TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request)
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(USER, "Reminder")
    return caught.value


async def test_a_message_with_buttons_and_html_arrives_as_sent(server: BotApiServer) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Agree", callback_data="opt:q2:agree")]])
    async with bot_at(server.base_url) as bot:
        sent = await bot.send_message(USER, "Do you <b>agree</b>? Tenants' views & ideas",
                                      parse_mode=ParseMode.HTML, reply_markup=markup)
        updates = await bot.get_updates(timeout=0)
    (stored,) = server.sent_messages(USER)
    assert stored.message_id == sent.message_id
    assert stored.text == "Do you agree? Tenants' views & ideas"
    assert [u.message.text for u in updates if u.message] == ["/start"]


async def test_an_export_file_uploads_whole_from_bytes_and_from_disk(server: BotApiServer, tmp_path: Path) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB, every byte value
    path = tmp_path / "responses.csv"
    path.write_bytes(b"\xef\xbb\xbfid,answer\r\n1,\"yes, \"\"really\"\"\"\r\n")
    async with bot_at(server.base_url) as bot:
        await bot.send_document(USER, big, filename="transcripts.zip", caption="Transcripts")
        await bot.send_document(USER, path, filename="responses.csv")
    first, second = server.documents(USER)
    assert (first.filename, first.caption, first.data) == ("transcripts.zip", "Transcripts", big)
    assert (second.filename, second.data) == ("responses.csv", path.read_bytes())


async def test_an_answer_that_never_comes_times_out_and_the_send_is_never_repeated(server: BotApiServer) -> None:
    server.set_delay("sendMessage", 3)
    async with bot_at(server.base_url, read_timeout=0.3) as bot:
        with pytest.raises(TimedOut) as caught:
            await bot.send_message(USER, "Reminder: the consultation closes on Friday")
    assert answer_may_be_lost(caught.value)
    assert classify(caught.value, 1, NOW) == ("unknown", None)


async def test_a_connection_dropped_before_the_answer_counts_as_maybe_delivered() -> None:
    async def swallow_and_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # the whole request arrived: Telegram could have acted on it
        writer.close()

    listener = await asyncio.start_server(swallow_and_hang_up, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        error = await send_to_a_bare_socket(port)
    assert answer_may_be_lost(error)
    assert classify(error, 1, NOW)[0] == "unknown"


async def test_a_refused_connection_is_known_not_sent_and_is_tried_again() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    error = await send_to_a_bare_socket(port)
    assert not answer_may_be_lost(error)
    status, next_try = classify(error, 1, NOW)
    assert status == "pending" and next_try is not None and next_try > NOW


async def test_every_connection_in_use_waits_its_turn_and_then_gives_up_without_sending(
    server: BotApiServer,
) -> None:
    server.set_delay("sendMessage", 2)
    request = AiohttpRequest(connection_pool_size=1, connect_timeout=0.2, read_timeout=5, pool_timeout=0.2)
    async with Bot(DEFAULT_TOKEN, base_url=server.base_url, request=request) as bot:
        first = asyncio.create_task(bot.send_message(USER, "first"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut) as caught:
            await bot.send_message(USER, "second")
        await first
    assert not answer_may_be_lost(caught.value), "it never left: a broadcast may send it again"
    assert [m.text for m in server.sent_messages(USER)] == ["first"]


async def test_the_lean_send_and_button_removal_reach_telegram_as_the_full_calls_would(server: BotApiServer) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Agree", callback_data="opt:q2:agree")]])
    bot = TolerantBot(DEFAULT_TOKEN, base_url=server.base_url, request=AiohttpRequest(connection_pool_size=4))
    async with bot:
        message_id = await bot.send_html(USER, "Question <b>2</b> of 5", markup)
        (stored,) = server.sent_messages(USER)
        assert (stored.message_id, stored.text) == (message_id, "Question 2 of 5")
        assert stored.reply_markup is not None
        await bot.remove_buttons(USER, message_id)
    (stored,) = server.sent_messages(USER)
    assert not stored.reply_markup
