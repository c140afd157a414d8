"""Keeps the bot inside Telegram's limits without ever holding up an answer to a tenant's own action.

Telegram limits bulk notifications to about 30 messages a second, and any one chat to about one a second with short
bursts; it puts no limit on replies to a user's own action, and answerCallbackQuery is free (../shared/DESIGN.md,
"Facts that bite"). So each request is one of three kinds of traffic:

- a reply (the default): goes at once;
- PACED, a message to one chat that nobody asked for just now (a flood's merged replies, a staff member's progress
  edits): waits for that chat's budget, TELEGRAM_CHAT_SEND_RATE a second after a burst of CHAT_BURST;
- BULK, broadcasts and reminders: waits for the chat's budget and, all together, for TELEGRAM_SEND_RATE.

After a 429 everything to that chat waits as long as Telegram asked, and so does all bulk traffic, which then resumes
slower and wins its pace back gradually.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)
LIMITED_PREFIXES = ("send", "edit", "copy", "forward")
CHAT_BURST = 5
TRAFFIC = "traffic"
BULK: dict[str, str] = {TRAFFIC: "bulk"}  # rate_limit_args of a broadcast or reminder send
PACED: dict[str, str] = {TRAFFIC: "paced"}  # rate_limit_args of an unsolicited message to one chat


class TokenBucket:
    """`rate` tokens a second, holding at most `capacity` (the burst Telegram tolerates)."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.ceiling = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def slow_down(self) -> None:
        """Telegram said we were too fast: halve the rate and start empty, then win it back gradually.

        Without this every sender waiting out a 429 fires the moment the pause ends, and the burst earns the next
        429: a storm that feeds itself. Halving per 429 (to an eighth at most) and adding back a thirtieth of the
        setting each second finds the rate Telegram accepts, as TCP does.
        """
        self.rate = max(self.ceiling / 8, self.rate / 2)
        self.tokens = min(self.tokens, 0.0)

    def wait_time(self, now: float) -> float:
        """Seconds until a token is free (0 if one is free now)."""
        elapsed = now - self.stamp
        if self.rate < self.ceiling:
            self.rate = min(self.ceiling, self.rate + elapsed * self.ceiling / 30)
        self.tokens = min(self.capacity if self.rate >= self.ceiling else 1.0, self.tokens + elapsed * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1

    def full(self, now: float) -> bool:
        """True when idle long enough to forget."""
        return self.wait_time(now) == 0 and self.tokens >= self.capacity


def chat_of(endpoint: str, data: dict[str, Any]) -> int | None:
    """The chat a rate-limited request writes to, if it writes to one."""
    if not endpoint.startswith(LIMITED_PREFIXES):
        return None
    chat = data.get("chat_id")
    return chat if isinstance(chat, int) else None


def traffic_of(rate_limit_args: dict[str, Any] | None) -> str:
    """'reply', 'paced' or 'bulk' (see the module's docstring)."""
    return str((rate_limit_args or {}).get(TRAFFIC, "reply"))


def limit_args(bot: object, traffic: dict[str, str]) -> Any:
    """rate_limit_args for this bot: PTB refuses them on a bot without a rate limiter (a test's, say)."""
    return traffic if isinstance(getattr(bot, "rate_limiter", None), FairRateLimiter) else None


class FairRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Replies at once; paced and bulk messages within their budgets; a 429 obeyed for its chat and for bulk."""

    def __init__(self, overall_rate: float = 30, chat_rate: float = 1, chat_burst: float = CHAT_BURST,
                 max_retries: int = 5) -> None:
        self.bulk = TokenBucket(overall_rate, max(1.0, overall_rate))
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.max_retries = max_retries
        self.chats: dict[int, TokenBucket] = {}
        self.chat_paused_until: dict[int, float] = {}
        self.bulk_paused_until = 0.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _bucket(self, chat: int) -> TokenBucket:
        bucket = self.chats.get(chat)
        if bucket is None:
            bucket = self.chats[chat] = TokenBucket(self.chat_rate, self.chat_burst)
        return bucket

    async def _acquire(self, chat: int | None, traffic: str) -> None:
        """Wait for what this kind of traffic must wait for, then take its tokens."""
        bucket = self._bucket(chat) if chat is not None and traffic != "reply" else None
        bulk = traffic == "bulk"
        while True:
            now = time.monotonic()
            wait = self.chat_paused_until.get(chat, 0.0) - now if chat is not None else 0.0
            if bulk:
                wait = max(wait, self.bulk_paused_until - now, self.bulk.wait_time(now))
            if bucket is not None:
                wait = max(wait, bucket.wait_time(now))
            if wait <= 0:
                if bulk:
                    self.bulk.take()
                if bucket is not None:
                    bucket.take()
                return
            await asyncio.sleep(wait)

    def _forget_idle_chats(self) -> None:
        """Keep the per-chat tables small: idle chats have full buckets and no pause, and need no memory."""
        if len(self.chats) > 10_000:
            now = time.monotonic()
            self.chats = {c: b for c, b in self.chats.items() if not b.full(now)}
        if len(self.chat_paused_until) > 1_000:
            now = time.monotonic()
            self.chat_paused_until = {c: t for c, t in self.chat_paused_until.items() if t > now}

    def _obey(self, chat: int | None, seconds: float) -> None:
        """A 429: that chat and all bulk traffic wait; one storm halves the bulk pace once, however many it hit."""
        now = time.monotonic()
        if chat is not None:
            self.chat_paused_until[chat] = max(self.chat_paused_until.get(chat, 0.0), now + seconds)
        if now >= self.bulk_paused_until:
            self.bulk.slow_down()
        self.bulk_paused_until = max(self.bulk_paused_until, now + seconds)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = chat_of(endpoint, data)
        limited = endpoint.startswith(LIMITED_PREFIXES)
        traffic = traffic_of(rate_limit_args)
        for attempt in range(self.max_retries + 1):
            if limited:
                await self._acquire(chat, traffic)
                self._forget_idle_chats()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt >= self.max_retries:
                    raise
                seconds = error.retry_after if isinstance(error.retry_after, int | float) else (
                    error.retry_after.total_seconds())
                log.warning("Telegram asked us to wait %.1fs (429); pausing that chat and bulk sends", seconds)
                self._obey(chat, float(seconds))
                if chat is None and traffic != "bulk":  # no chat pause to wait for (answerCallbackQuery): wait here
                    await asyncio.sleep(float(seconds))
        raise AssertionError("unreachable")
