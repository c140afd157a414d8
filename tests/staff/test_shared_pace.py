"""Several workers on one PostgreSQL keep to one bulk rate together: the database hands out the send slots, so two
pacers never go faster together than one alone may, and a 429 seen by one pauses both."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.delivery.broadcaster import DatabaseSlots
from bot.delivery.pacing import Pacer
from storage import Database

pytestmark = pytest.mark.postgres
RATE = 20


def most_in_any_second(times: list[float]) -> int:
    ordered, best, start = sorted(times), 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_two_workers_sharing_slots_send_no_faster_together_than_the_rate(postgres_url: str) -> None:
    worker_a, worker_b = await Database.open(postgres_url), await Database.open(postgres_url)
    sends: list[float] = []

    async def send_all(db: Database, chats: range) -> None:
        pacer = Pacer(RATE, shared=DatabaseSlots(db))
        for chat in chats:
            assert await pacer.wait(chat)
            sends.append(time.time())

    try:
        started = time.time()
        await asyncio.gather(send_all(worker_a, range(0, 40)), send_all(worker_b, range(1000, 1040)))
        took = time.time() - started
    finally:
        await worker_a.close()
        await worker_b.close()
    assert len(sends) == 80
    assert most_in_any_second(sends) <= RATE, "two workers together went over the shared rate"
    assert took >= 80 / RATE * 0.9, "the slots were not shared: each worker paced on its own"
    spacing = Pacer(RATE, shared=DatabaseSlots(worker_a)).interval  # the shared slots' margin (bot/delivery/pacing)
    assert took < 80 * spacing * 1.15, "sharing made sending needlessly slow"


async def test_a_429_seen_by_one_worker_pauses_the_other(postgres_url: str) -> None:
    worker_a, worker_b = await Database.open(postgres_url), await Database.open(postgres_url)
    try:
        told, other = Pacer(RATE, shared=DatabaseSlots(worker_a)), Pacer(RATE, shared=DatabaseSlots(worker_b))
        told.pause(1.5)
        await asyncio.sleep(0.2)  # the pause reaches the database
        started = time.monotonic()
        assert await other.wait(7)
        assert time.monotonic() - started >= 1.1, "the other worker sent during the pause Telegram asked for"
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_a_stop_while_waiting_for_a_shared_slot_gives_the_send_back(postgres_url: str) -> None:
    async with await Database.open(postgres_url) as db:
        pacer = Pacer(RATE, shared=DatabaseSlots(db))
        pacer.pause(5)
        await asyncio.sleep(0.2)
        stop = asyncio.Event()
        waiting = asyncio.create_task(pacer.wait(9, stop))
        await asyncio.sleep(0.3)
        stop.set()
        assert await asyncio.wait_for(waiting, timeout=2) is False
