"""Why Telegram could not be reached, in a few words, and the token kept out of every line."""

from __future__ import annotations

import socket

from telegram.error import NetworkError, TimedOut

from bot.logging_setup import redacted
from bot.startup import _why_unreachable

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ"


def failed(cause: BaseException) -> NetworkError:
    try:
        raise NetworkError("aiohttp failed") from cause
    except NetworkError as error:
        return error


def test_each_way_of_not_reaching_telegram_is_named_in_a_few_words() -> None:
    # (aiohttp's own ClientConnectorError, refused, is met for real in tests/faults/test_startup_failures.py)
    assert _why_unreachable(failed(ConnectionRefusedError(111, "refused"))) == "the connection was refused"
    assert _why_unreachable(failed(socket.gaierror(-2, "Name or service not known"))) == (
        "its name could not be looked up")
    assert _why_unreachable(TimedOut()) == "it did not answer in time"
    assert _why_unreachable(failed(ValueError("something else"))) == "the connection failed"


def test_the_token_and_its_secret_half_are_taken_out_but_the_bot_id_stays() -> None:
    line = f"url http://x/bot{TOKEN}/getMe and {TOKEN.split(':')[1]} alone, bot 123456"
    cleaned = redacted(line, TOKEN)
    assert TOKEN.split(":")[1] not in cleaned and "bot 123456" in cleaned
