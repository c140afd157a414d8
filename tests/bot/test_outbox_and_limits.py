"""Replies leave in order, a backlog reads as few messages, and the rate limiter keeps Telegram's limits."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.delivery.outbox import Outbox, Outgoing, merge
from bot.delivery.rate_limit import LOW, FairRateLimiter
from bot.delivery.sending import KeyboardTracker
from conversations.replies import Button, Reply


def test_a_backlog_of_acknowledgements_reads_as_one_message_in_order() -> None:
    items = [Outgoing((Reply(f"line {n}"),)) for n in range(3)]
    items += [Outgoing((Reply("Thanks, I've added that."),)) for _ in range(50)]
    merged = merge(items)
    assert len(merged) == 1
    assert merged[0].text == "line 0\n\nline 1\n\nline 2\n\nThanks, I've added that."


def test_a_merged_backlog_keeps_only_the_buttons_still_live() -> None:
    question = Reply("Question 2", ((Button("opt:q2:agree", "Agree"),),))
    reason = Reply("Why?", ((Button("skip:q2", "Skip"),),))
    merged = merge([Outgoing((question,)), Outgoing((Reply("You chose Agree"), reason), clear_latest_keyboard=True)])
    assert [m.button_ids for m in merged] == [("skip:q2",)]
    assert merged[0].text == "Question 2\n\nYou chose Agree\n\nWhy?"


def test_merged_messages_stay_under_telegrams_limit() -> None:
    merged = merge([Outgoing((Reply("x" * 3000),)), Outgoing((Reply("y" * 3000),))])
    assert len(merged) == 2 and all(len(m.text) <= 4096 for m in merged)


async def _send_times(limiter: FairRateLimiter, chats: list[int], low: bool = False) -> list[tuple[int, float]]:
    sent: list[tuple[int, float]] = []

    async def call(chat: int) -> bool:
        sent.append((chat, time.monotonic()))
        return True

    args: dict[str, Any] | None = {"priority": LOW} if low else None
    await asyncio.gather(*(limiter.process_request(call, (c,), {}, "sendMessage", {"chat_id": c}, args)
                           for c in chats))
    return sent


async def test_one_chat_gets_a_short_burst_then_one_message_a_second() -> None:
    limiter = FairRateLimiter(overall_rate=1000, chat_rate=10, chat_burst=3)
    sent = await _send_times(limiter, [1] * 8)
    start = sent[0][1]
    assert sent[2][1] - start < 0.05          # the burst
    assert sent[7][1] - start >= 0.45         # then 10 a second


async def test_a_flooding_chat_does_not_hold_up_other_chats() -> None:
    limiter = FairRateLimiter(overall_rate=1000, chat_rate=5, chat_burst=1)
    task = asyncio.create_task(_send_times(limiter, [1] * 20))
    await asyncio.sleep(0.05)
    others = await _send_times(limiter, list(range(2, 12)))
    assert others[-1][1] - others[0][1] < 0.1
    await task


async def test_replies_go_before_broadcasts_when_both_wait() -> None:
    limiter = FairRateLimiter(overall_rate=20, chat_rate=1000, chat_burst=1000)
    broadcast = asyncio.create_task(_send_times(limiter, list(range(100, 140)), low=True))
    await asyncio.sleep(0.1)
    replies = await _send_times(limiter, list(range(1, 6)))
    broadcast_sent = await broadcast
    later_broadcasts = [t for _, t in broadcast_sent if t > replies[0][1]]
    assert replies[-1][1] - replies[0][1] < 0.4   # five replies at 20/s, not behind 40 broadcasts
    assert later_broadcasts


async def test_after_a_429_sends_resume_slower_instead_of_earning_the_next_one(
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

    await asyncio.gather(*(limiter.process_request(telegram, (c,), {}, "sendMessage", {"chat_id": c}, None)
                           for c in range(60)))
    assert len(accepted) == 60, "every message went in the end"
    assert refused <= 7, f"{refused} refusals: the pauses ended in bursts"


class SlowEditsBot:
    """Sends answer at once; removing buttons takes a slow round trip."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int, float]] = []
        self.next_id = 100

    async def send_html(self, chat_id: int, text: str, markup: Any = None) -> int:
        await asyncio.sleep(0.01)
        self.next_id += 1
        self.log.append(("sent", self.next_id, time.monotonic()))
        return self.next_id

    async def remove_buttons(self, chat_id: int, message_id: int) -> None:
        await asyncio.sleep(0.3)
        self.log.append(("cleared", message_id, time.monotonic()))


async def test_the_next_question_does_not_wait_for_the_old_buttons_to_go() -> None:
    bot = SlowEditsBot()
    keyboards = KeyboardTracker()
    outbox = Outbox(bot, keyboards)  # type: ignore[arg-type]
    question = Reply("Question 1 of 5", ((Button("opt:q1:yes", "Yes"),),))
    outbox.put(7, Outgoing((question,)))
    await outbox.close(timeout=5)
    started = time.monotonic()
    outbox.put(7, Outgoing((Reply("Thanks"), Reply("Question 2 of 5", ((Button("opt:q2:yes", "Yes"),),))),
                          clear_latest_keyboard=True))
    await outbox.close(timeout=5)
    events = [(kind, message_id) for kind, message_id, _ in bot.log]
    assert events == [("sent", 101), ("sent", 102), ("cleared", 101)], "thanks and the next question: one message"
    second_question_at = bot.log[1][2]
    assert second_question_at - started < 0.2, "the reply went out while the old buttons were being removed"
    outbox.put(7, Outgoing((Reply("Thanks again"),), clear_latest_keyboard=True))
    await outbox.close(timeout=5)
    assert bot.log[-1][:2] == ("cleared", 102), "the newest question's buttons go next, not the old ones again"


def test_one_steps_replies_arrive_as_one_message_with_the_questions_buttons() -> None:
    buttons = ((Button("opt:q2:agree", "Agree"),),)
    step = Outgoing((Reply("Thanks, I've got that."), Reply("<b>Aim</b>: local suppliers"),
                     Reply("Question 2 of 5", buttons)))
    assert merge([step]) == [Reply("Thanks, I've got that.\n\n<b>Aim</b>: local suppliers\n\nQuestion 2 of 5", buttons)]


def test_a_reply_too_long_to_join_stays_a_message_of_its_own() -> None:
    long_text = "x" * 4090
    step = Outgoing((Reply(long_text), Reply("Question 3 of 5")))
    assert [len(r.text) for r in merge([step])] == [4090, len("Question 3 of 5")]
