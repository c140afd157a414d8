"""Keeps the bot inside Telegram's limits: ~30 messages/s overall, ~1/s per chat, replies before broadcasts."""

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
LOW = "low"  # rate_limit_args={"priority": LOW} marks a broadcast: it waits while replies are waiting


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


class FairRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Throttles before sending, pauses everything on a 429, and lets replies overtake broadcasts."""

    def __init__(self, overall_rate: float = 30, chat_rate: float = 1, chat_burst: float = 5,
                 max_retries: int = 5) -> None:
        self.overall = TokenBucket(overall_rate, max(1.0, overall_rate))
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.max_retries = max_retries
        self.chats: dict[int, TokenBucket] = {}
        self.paused_until = 0.0
        self.replies_waiting = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def _acquire(self, chat: int | None, low: bool) -> None:
        """Wait for the overall and per-chat budgets (and for replies, if this is a broadcast)."""
        bucket = None
        if chat is not None:
            bucket = self.chats.get(chat) or self.chats.setdefault(chat, TokenBucket(self.chat_rate, self.chat_burst))
        while True:
            now = time.monotonic()
            wait = max(self.paused_until - now, self.overall.wait_time(now), bucket.wait_time(now) if bucket else 0)
            if low and self.replies_waiting:
                wait = max(wait, 0.01)
            if wait <= 0:
                self.overall.take()
                if bucket is not None:
                    bucket.take()
                return
            await asyncio.sleep(wait)

    def _forget_idle_chats(self) -> None:
        """Keep the per-chat table small: idle chats have full buckets and need no memory."""
        if len(self.chats) > 10_000:
            now = time.monotonic()
            self.chats = {c: b for c, b in self.chats.items() if not b.full(now)}

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
        low = bool(rate_limit_args and rate_limit_args.get("priority") == LOW)
        for attempt in range(self.max_retries + 1):
            if limited:
                if not low:
                    self.replies_waiting += 1
                try:
                    await self._acquire(chat, low)
                finally:
                    if not low:
                        self.replies_waiting -= 1
                self._forget_idle_chats()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt >= self.max_retries:
                    raise
                seconds = error.retry_after if isinstance(error.retry_after, int | float) else (
                    error.retry_after.total_seconds())
                log.warning("Telegram asked us to wait %.1fs (429); pausing all sends, then going slower", seconds)
                now = time.monotonic()
                if limited and now >= self.paused_until:  # one storm halves the rate once, however many it hit
                    self.overall.slow_down()
                self.paused_until = max(self.paused_until, now + float(seconds))
                if not limited:  # not paced by _acquire (e.g. answerCallbackQuery): wait out the pause here
                    await asyncio.sleep(max(0.0, self.paused_until - time.monotonic()))
        raise AssertionError("unreachable")
