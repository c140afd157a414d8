"""The local Bot API server with a per-chat inbox, so thousands of simulated tenants can wait without polling.

The stock server wakes every waiter on every change (fine for tests, quadratic for 500 tenants); here each
answered sendMessage / answerCallbackQuery is handed straight to the one tenant it belongs to.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tests.botapi import BotApiServer
from tests.botapi.model import RecordedRequest

TOKEN = "7000001:AAE2e_bench_token_with_enough_length_x"


@dataclass(frozen=True)
class Delivery:
    """Something the bot did in a chat, and when its request reached the server (time.monotonic)."""

    kind: str  # "message" or "answer"
    at: float
    message: dict[str, Any]
    query_id: str = ""

    @property
    def text(self) -> str:
        return str(self.message.get("text", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.message.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


class BenchServer(BotApiServer):
    """BotApiServer that routes the bot's answers to per-chat asyncio queues (run it in the driver's loop)."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__(token=token)
        self.inboxes: dict[int, asyncio.Queue[Delivery]] = {}
        self.sent = 0
        self._poll_waiter: asyncio.Future[float] | None = None

    def inbox(self, chat_id: int) -> asyncio.Queue[Delivery]:
        """The queue a tenant reads the bot's messages from (created on first use)."""
        queue = self.inboxes.get(chat_id)
        if queue is None:
            queue = self.inboxes[chat_id] = asyncio.Queue()
        return queue

    def forget_requests(self) -> None:
        """Drop the request log and message store between runs, so a long run does not slow the next."""
        with self._lock:
            self._store.requests.clear()
            self._store.messages.clear()
            self._store.callback_queries.clear()
            self._store.answered_queries.clear()
            self._store.callback_answers.clear()
            self._store.history.clear()

    def expect_poll(self) -> asyncio.Future[float]:
        """A future resolved with the arrival time of the next getUpdates (a bot's start-up is done)."""
        self._poll_waiter = asyncio.get_running_loop().create_future()
        return self._poll_waiter

    def _record(self, method: str, params: dict[str, Any], files: Any, at: float, token_ok: bool) -> RecordedRequest:
        waiter = self._poll_waiter
        if method == "getUpdates" and waiter is not None and not waiter.done():
            waiter.set_result(at)
            self._poll_waiter = None
        return super()._record(method, params, files, at, token_ok)

    def _finish(self, record: RecordedRequest, status: int, response: Any) -> None:
        super()._finish(record, status, response)
        if status != 200:
            return
        if record.method == "sendMessage":
            self.sent += 1
            chat = record.params.get("chat_id")
            if isinstance(chat, int) and chat in self.inboxes:
                self.inboxes[chat].put_nowait(Delivery("message", record.time, response))
        elif record.method == "answerCallbackQuery":
            query_id = str(record.params.get("callback_query_id", ""))
            chat = int(query_id[:-8]) if len(query_id) > 8 else 0  # ids are f"{user_id}{seq:08d}"
            if chat in self.inboxes:
                self.inboxes[chat].put_nowait(Delivery("answer", record.time, {}, query_id))
