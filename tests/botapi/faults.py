"""Fault injection for the fake Bot API: scripted errors, blocked users, delays, outages, flood limits."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tests.botapi.model import ApiError


@dataclass
class FailRule:
    """A scripted failure consumed by the next matching requests."""

    method: str
    error_code: int
    description: str | None
    retry_after: int | None
    remaining: int
    chat_id: int | str | None = None


@dataclass
class FloodLimit:
    """A sliding one-second window limit that answers 429 like Telegram's flood control."""

    per_second: int | None
    per_chat_per_second: int | None
    retry_after: int
    recent: deque[float] = field(default_factory=deque)
    recent_by_chat: dict[Any, deque[float]] = field(default_factory=dict)


def _matches(pattern: str, method: str) -> bool:
    """Method names compare case-insensitively, '*' matches every method."""
    return pattern == "*" or pattern.lower() == method.lower()


class FaultInjection:
    """Thread-safe fault configuration consulted by the server before running each method."""

    def __init__(self, seed: int = 0) -> None:
        self._fault_lock = threading.Lock()
        self._rules: list[FailRule] = []
        self._error_rates: dict[str, tuple[float, int, str | None]] = {}
        self._blocked: dict[int | str, float] = {}
        self._delays: dict[str, float] = {}
        self._down = False
        self._floods: dict[str, FloodLimit] = {}
        self._random = random.Random(seed)

    def fail_next(
        self,
        method: str,
        error_code: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` ('*' = any) fail with this Telegram error."""
        with self._fault_lock:
            self._rules.append(FailRule(method, error_code, description, retry_after, times, chat_id))

    def set_error_rate(
        self, method: str, percent: float, error_code: int = 500, description: str | None = None
    ) -> None:
        """Fail `percent`% of calls of `method` (seeded, reproducible); percent=0 removes the rule."""
        with self._fault_lock:
            if percent <= 0:
                self._error_rates.pop(method.lower(), None)
            else:
                self._error_rates[method.lower()] = (percent, error_code, description)

    def block_user(self, chat_id: int | str, percent: float = 100.0) -> None:
        """Answer 403 'bot was blocked by the user' to `percent`% of calls addressed to this chat."""
        with self._fault_lock:
            self._blocked[chat_id] = percent

    def unblock_user(self, chat_id: int | str) -> None:
        """Let calls to this chat succeed again."""
        with self._fault_lock:
            self._blocked.pop(chat_id, None)

    def set_delay(self, method: str, seconds: float) -> None:
        """Hang calls of `method` ('*' = any) for `seconds` before answering; 0 removes the delay."""
        with self._fault_lock:
            if seconds <= 0:
                self._delays.pop(method.lower(), None)
            else:
                self._delays[method.lower()] = seconds

    def set_down(self, down: bool = True) -> None:
        """Simulate an outage: every request gets 502 Bad Gateway while down."""
        with self._fault_lock:
            self._down = down

    def set_flood_limit(
        self,
        method: str = "sendMessage",
        per_second: int | None = 30,
        per_chat_per_second: int | None = None,
        retry_after: int = 1,
    ) -> None:
        """Enforce Telegram-like flood control on `method`: over the limit answers 429 with retry_after."""
        with self._fault_lock:
            self._floods[method.lower()] = FloodLimit(per_second, per_chat_per_second, retry_after)

    def clear_faults(self) -> None:
        """Drop every injected fault so a test can continue on a healthy server."""
        with self._fault_lock:
            self._rules.clear()
            self._error_rates.clear()
            self._blocked.clear()
            self._delays.clear()
            self._floods.clear()
            self._down = False

    @property
    def is_down(self) -> bool:
        """Whether set_down(True) is in effect."""
        with self._fault_lock:
            return self._down

    def delay_for(self, method: str) -> float:
        """Seconds to hang this call (the longer of the method-specific and '*' delays)."""
        with self._fault_lock:
            return max(self._delays.get(method.lower(), 0.0), self._delays.get("*", 0.0))

    def injected_error(self, method: str, params: dict[str, Any], now: float) -> ApiError | None:
        """Decide whether this call fails, in the order: scripted, blocked, random 5xx, flood."""
        chat_id = params.get("chat_id")
        with self._fault_lock:
            for rule in self._rules:
                if _matches(rule.method, method) and rule.chat_id in (None, chat_id):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return ApiError(rule.error_code, rule.description, rule.retry_after)
            percent = self._blocked.get(chat_id) if chat_id is not None else None
            if percent is not None and self._random.random() * 100 < percent:
                return ApiError(403, "Forbidden: bot was blocked by the user")
            rate = self._error_rates.get(method.lower()) or self._error_rates.get("*")
            if rate is not None and self._random.random() * 100 < rate[0]:
                return ApiError(rate[1], rate[2])
            flood = self._floods.get(method.lower())
            if flood is not None:
                return self._flood_check(flood, chat_id, now)
        return None

    @staticmethod
    def _flood_check(flood: FloodLimit, chat_id: Any, now: float) -> ApiError | None:
        """Sliding-window accounting; only accepted calls count towards the limit."""
        windows = [(flood.recent, flood.per_second)]
        if flood.per_chat_per_second is not None and chat_id is not None:
            windows.append((flood.recent_by_chat.setdefault(chat_id, deque()), flood.per_chat_per_second))
        for window, limit in windows:
            while window and now - window[0] >= 1.0:
                window.popleft()
            if limit is not None and len(window) >= limit:
                return ApiError(429, None, flood.retry_after)
        for window, _ in windows:
            window.append(now)
        return None
