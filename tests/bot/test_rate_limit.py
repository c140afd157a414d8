"""Telegram's limits as the rate limiter keeps them: replies at once, paced and bulk messages within budget,
and a 429 obeyed by that chat and by bulk traffic."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.delivery.rate_limit import BULK, PACED, FairRateLimiter

Sent = list[tuple[int, float]]


async def _send(limiter: FairRateLimiter, chats: list[int], traffic: dict[str, str] | None = None,
                sent: Sent | None = None) -> Sent:
    """Send one message to each chat (at once, side by side); when each reached 'Telegram'."""
    record: Sent = [] if sent is None else sent

    async def call(chat: int) -> bool:
        record.append((chat, time.monotonic()))
        return True

    await asyncio.gather(*(limiter.process_request(call, (c,), {}, "sendMessage", {"chat_id": c}, traffic)
                           for c in chats))
    return record


async def test_replies_to_a_tenants_own_actions_go_at_once_past_the_chat_budget() -> None:
    limiter = FairRateLimiter(overall_rate=30, chat_rate=1, chat_burst=5)
    started = time.monotonic()
    for _ in range(20):  # a brisk tenant: twenty steps, each reply awaited before the next tap
        await _send(limiter, [1])
    assert time.monotonic() - started < 0.2, "a reply waited for the per-chat budget"


async def test_a_paced_chat_gets_a_short_burst_then_its_rate() -> None:
    limiter = FairRateLimiter(overall_rate=1000, chat_rate=10, chat_burst=3)
    sent = await _send(limiter, [1] * 8, PACED)
    start = sent[0][1]
    assert sent[2][1] - start < 0.05          # the burst
    assert sent[7][1] - start >= 0.45         # then 10 a second


async def test_bulk_messages_keep_to_each_chats_budget_after_the_replies_it_just_had() -> None:
    limiter = FairRateLimiter(overall_rate=1000, chat_rate=10, chat_burst=2)
    await _send(limiter, [1, 1], PACED)  # the chat's burst is used up
    started = time.monotonic()
    sent = await _send(limiter, [1, 2], BULK)
    when = {chat: at - started for chat, at in sent}
    assert when[1] >= 0.05, "a broadcast to a chat just written to did not wait for its budget"
    assert when[2] < 0.05, "a broadcast to a quiet chat waited"


async def test_a_flooding_chat_does_not_hold_up_other_chats() -> None:
    limiter = FairRateLimiter(overall_rate=1000, chat_rate=5, chat_burst=1)
    task = asyncio.create_task(_send(limiter, [1] * 20, PACED))
    await asyncio.sleep(0.05)
    others = await _send(limiter, list(range(2, 12)), PACED)
    assert others[-1][1] - others[0][1] < 0.1
    task.cancel()


async def test_bulk_traffic_keeps_to_the_overall_rate() -> None:
    limiter = FairRateLimiter(overall_rate=20, chat_rate=1000, chat_burst=1000)
    sent = await _send(limiter, list(range(100, 160)), BULK)
    assert sent[-1][1] - sent[0][1] >= 1.9, "60 bulk messages at 20 a second (after a burst of 20) take 2 s"


async def test_replies_never_wait_for_the_bulk_budget() -> None:
    limiter = FairRateLimiter(overall_rate=20, chat_rate=1000, chat_burst=1000)
    broadcast: Sent = []
    sending = asyncio.create_task(_send(limiter, list(range(100, 160)), BULK, broadcast))
    await asyncio.sleep(0.1)  # the bulk budget is spent; forty broadcasts wait for it
    replies = await _send(limiter, list(range(1, 6)))
    assert replies[-1][1] - replies[0][1] < 0.05, "replies queued behind a broadcast"
    await sending
    assert [t for _, t in broadcast if t > replies[-1][1]], "the broadcast carried on after the replies"


async def test_after_a_429_that_chat_and_bulk_wait_but_replies_to_others_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    limiter = FairRateLimiter(overall_rate=1000, chat_rate=1000, chat_burst=1000)
    sent: Sent = []
    refused = False

    async def telegram(chat: int) -> bool:
        nonlocal refused
        if chat == 1 and not refused:
            refused = True
            raise RetryAfter(timedelta(seconds=0.5))
        sent.append((chat, time.monotonic()))
        return True

    def request(chat: int, traffic: dict[str, str] | None = None) -> Any:
        return limiter.process_request(telegram, (chat,), {}, "sendMessage", {"chat_id": chat}, traffic)

    started = time.monotonic()
    first = asyncio.create_task(request(1))
    await asyncio.sleep(0.05)  # chat 1 has been told to wait
    await asyncio.gather(request(2), request(1), request(3, BULK), first)
    when = {chat: at - started for chat, at in sent}
    assert when[2] < 0.1, "a reply to another chat waited for chat 1's 429"
    assert sorted(at - started for chat, at in sent if chat == 1)[0] >= 0.5, "chat 1 was written to too soon"
    assert when[3] >= 0.5, "bulk traffic did not wait out the 429"


async def test_after_a_429_bulk_resumes_slower_instead_of_earning_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telegram allows 15 a second here and the bot is set to 60: each pause must not end in a burst that is
    refused again (Telegram lengthens the pauses of a bot that keeps flooding). Resuming at full speed was
    refused 12 times in this run; slowing down after each storm, about 4."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    limiter = FairRateLimiter(overall_rate=60, chat_rate=1000, chat_burst=1000)
    accepted: list[float] = []
    refused = 0

    async def telegram(chat: int) -> bool:
        nonlocal refused
        now = time.monotonic()
        if len([t for t in accepted if now - t < 1.0]) >= 15:
            refused += 1
            raise RetryAfter(timedelta(seconds=0.3))
        accepted.append(now)
        return True

    await asyncio.gather(*(limiter.process_request(telegram, (c,), {}, "sendMessage", {"chat_id": c}, BULK)
                           for c in range(60)))
    assert len(accepted) == 60, "every message went in the end"
    assert refused <= 7, f"{refused} refusals: the pauses ended in bursts"
