"""Under load the bot fetches updates in batches; a lone tenant's message is still fetched at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from telegram import Update

from bot.delivery import telegram_bot
from bot.delivery.transport import AiohttpRequest
from bot.tenant.ordering import BUSY_UPDATES, PerTenantUpdateProcessor
from tests.botapi import DEFAULT_TOKEN, BotApiServer


def update_from(user_id: int, update_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": "hi", "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "T"}}}, None)


async def test_the_bot_is_busy_only_while_enough_updates_are_in_hand() -> None:
    processor = PerTenantUpdateProcessor()
    release = asyncio.Event()

    async def handler() -> None:
        await release.wait()

    tasks = [asyncio.create_task(processor.do_process_update(update_from(100 + i % 3, i), handler()))
             for i in range(BUSY_UPDATES)]
    await asyncio.sleep(0.01)
    assert processor.busy(), "updates waiting behind their tenant's earlier ones count as in hand too"
    release.set()
    await asyncio.gather(*tasks)
    assert not processor.busy() and processor.in_hand == 0


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as api:
        yield api


async def poll_once(server: BotApiServer, busy: bool) -> tuple[int, float]:
    """Two tenants write 0.1 s apart; how many updates one poll brings, and how long it took."""
    server.send_text(1001, "first")

    async def second() -> None:
        await asyncio.sleep(0.1)
        server.send_text(1002, "second")

    bot = telegram_bot.TolerantBot(DEFAULT_TOKEN, base_url=server.base_url, busy=lambda: busy,
                                   request=AiohttpRequest(connection_pool_size=2))
    async with bot:
        later = asyncio.create_task(second())
        started = time.monotonic()
        updates = await bot.get_updates(timeout=0)
        took = time.monotonic() - started
        await later
    return len(updates), took


async def test_an_idle_bot_fetches_a_message_at_once(server: BotApiServer) -> None:
    count, took = await poll_once(server, busy=False)
    assert count == 1 and took < 0.1


async def test_a_busy_bot_waits_a_moment_and_fetches_a_batch(
    server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_bot, "BATCH_WAIT_SECONDS", 0.5)  # wide, so a slow machine cannot blur it
    count, _took = await poll_once(server, busy=True)
    assert count == 2
