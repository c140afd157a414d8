"""Thread-safe test-side API of the fake Bot API: inject user actions, observe the bot, wait, no polling."""

from __future__ import annotations

import asyncio
import copy
import itertools
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

from tests.botapi import fakes
from tests.botapi.methods import commands_key
from tests.botapi.model import (
    JSON,
    CallbackAnswer,
    ReceivedDocument,
    RecordedRequest,
    StoredMessage,
    UploadedFile,
)
from tests.botapi.store import Store

T = TypeVar("T")


def _wake(future: asyncio.Future[None]) -> None:
    """Resolve a waiter future unless it already timed out."""
    if not future.done():
        future.set_result(None)


class ApiState:
    """All state access goes through one RLock; waits use threading.Condition or asyncio futures."""

    def __init__(self, token: str, bot_first_name: str, bot_username: str) -> None:
        prefix = token.split(":", 1)[0]
        self.token = token
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._store = Store(
            bot_user=fakes.bot_user(int(prefix) if prefix.isdigit() else 123456, bot_first_name, bot_username)
        )
        self._server_thread: int | None = None
        self._request_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self.internal_errors: list[BaseException] = []

    @property
    def bot_user(self) -> JSON:
        """The bot's User object as getMe returns it."""
        return copy.deepcopy(self._store.bot_user)

    def _changed(self) -> None:
        """Wake every sync and async waiter; call with the lock held after any mutation."""
        self._cond.notify_all()
        waiters, self._async_waiters = self._async_waiters, []
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, future in waiters:
            if loop is current:
                _wake(future)
            else:
                with suppress(RuntimeError):  # that loop is already closed
                    loop.call_soon_threadsafe(_wake, future)

    def _register_waiter(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """A future resolved on the next change; register with the lock held to avoid lost wakeups."""
        future: asyncio.Future[None] = loop.create_future()
        self._async_waiters.append((loop, future))
        return future

    def _inject(self, payload: JSON, keep_id: bool = False) -> JSON:
        """Queue an update (lock taken here) and return a copy of what the bot will receive."""
        with self._lock:
            update = self._store.add_update(payload, keep_id)
            self._changed()
            return copy.deepcopy(update)

    # -- request log --------------------------------------------------------------------------

    def _record(
        self, method: str, params: JSON, files: dict[str, UploadedFile], at: float, token_ok: bool
    ) -> RecordedRequest:
        """Log a request on arrival so the order reflects what the bot did."""
        with self._lock:
            record = RecordedRequest(next(self._request_seq), method, params, at, token_ok, files)
            self._store.requests.append(record)
            return record

    def _finish(self, record: RecordedRequest, status: int, response: Any) -> None:
        """Attach the answer to the logged request and wake waiters."""
        with self._lock:
            record.status = status
            record.response = response
            self._changed()

    def requests(self, method: str | None = None) -> list[RecordedRequest]:
        """Every request so far in arrival order (optionally one method, case-insensitive)."""
        with self._lock:
            chosen = [r for r in self._store.requests if method is None or r.method.lower() == method.lower()]
            return copy.deepcopy(chosen)

    def clear_requests(self) -> None:
        """Forget the request log, e.g. after setup so assertions see only the scenario."""
        with self._lock:
            self._store.requests.clear()

    def max_sends_in_any_second(
        self, method: str = "sendMessage", chat_id: int | None = None, window: float = 1.0
    ) -> int:
        """Largest number of `method` calls (optionally to one chat) inside any `window`-second span."""
        times = sorted(
            r.time
            for r in self.requests(method)
            if r.token_ok and (chat_id is None or r.params.get("chat_id") == chat_id)
        )
        best = start = 0
        for end, moment in enumerate(times):
            while moment - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- what the bot produced ---------------------------------------------------------------

    def sent_messages(self, chat_id: int) -> list[StoredMessage]:
        """The bot's messages in a chat, oldest first, with edits applied (deleted ones flagged)."""
        with self._lock:
            return self._store.bot_messages(chat_id)

    def last_message(self, chat_id: int) -> StoredMessage:
        """The bot's most recent message in a chat."""
        messages = self.sent_messages(chat_id)
        if not messages:
            raise LookupError(f"the bot has sent nothing to chat {chat_id}")
        return messages[-1]

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """Any stored message (user's or bot's) by id."""
        with self._lock:
            found = self._store.messages.get(chat_id, {}).get(message_id)
            return copy.deepcopy(found)

    def callback_answers(self) -> list[CallbackAnswer]:
        """answerCallbackQuery calls in order."""
        with self._lock:
            return copy.deepcopy(self._store.callback_answers)

    def documents(self, chat_id: int | None = None) -> list[ReceivedDocument]:
        """Files the bot sent with sendDocument (bytes and filename kept)."""
        with self._lock:
            return [
                copy.deepcopy(d) for d in self._store.documents if chat_id is None or d.chat_id == chat_id
            ]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON] | None:
        """Command list set for a scope (default scope if None); None when never set."""
        with self._lock:
            found = self._store.commands.get(commands_key({"scope": scope, "language_code": language_code}))
            return copy.deepcopy(found)

    def all_commands(self) -> dict[tuple[str, str], list[JSON]]:
        """Every command list keyed by (scope JSON, language_code)."""
        with self._lock:
            return copy.deepcopy(self._store.commands)

    def known_chats(self) -> list[int | str]:
        """Chats the bot may write to (users who wrote first, groups seen)."""
        with self._lock:
            return list(self._store.chats)

    def pending_update_count(self) -> int:
        """Updates queued but not yet confirmed by the bot."""
        with self._lock:
            return len(self._store.queue) + len(self._store.redeliver)

    # -- waiting without busy sleeping -----------------------------------------------------------

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:
        """Block until predicate() is truthy (re-checked on every change) and return its value."""
        if threading.get_ident() == self._server_thread:
            raise RuntimeError("wait_for would block the server's own event loop; use wait_for_async there")
        with self._cond:
            result = self._cond.wait_for(predicate, timeout)
        if not result:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        return result

    async def wait_for_async(
        self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Await until predicate() is truthy (re-checked on every change) and return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                result = predicate()
                if result:
                    return result
                future = self._register_waiter(loop)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            with suppress(TimeoutError):
                await asyncio.wait_for(future, remaining)

    def _messages_ready(self, chat_id: int, count: int) -> Callable[[], list[StoredMessage]]:
        """Predicate: at least `count` bot messages in the chat."""

        def ready() -> list[StoredMessage]:
            sent = sum(m.from_bot for m in self._store.messages.get(chat_id, {}).values())
            return self._store.bot_messages(chat_id) if sent >= count else []

        return ready

    def _requests_ready(self, method: str, count: int) -> Callable[[], list[RecordedRequest]]:
        """Predicate: at least `count` answered requests of a method."""

        def ready() -> list[RecordedRequest]:
            done = [
                r for r in self._store.requests if r.method.lower() == method.lower() and r.status is not None
            ]
            return copy.deepcopy(done) if len(done) >= count else []

        return ready

    def _answers_ready(self, count: int) -> Callable[[], list[CallbackAnswer]]:
        """Predicate: at least `count` callback answers."""

        def ready() -> list[CallbackAnswer]:
            answers = self._store.callback_answers
            return copy.deepcopy(answers) if len(answers) >= count else []

        return ready

    def _describe(self, chat_id: int, count: int) -> str:
        """Timeout text that shows what the bot did send, to make failures self-explanatory."""
        texts = [m.text for m in self.sent_messages(chat_id)]
        return f"{count} bot messages in chat {chat_id} (got {len(texts)}: {texts!r})"

    def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 5.0) -> list[StoredMessage]:
        """Block until the bot has sent at least `count` messages to the chat; return them all."""
        try:
            return self.wait_for(self._messages_ready(chat_id, count), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {self._describe(chat_id, count)}"
            ) from None

    async def wait_for_messages_async(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[StoredMessage]:
        """Await until the bot has sent at least `count` messages to the chat; return them all."""
        try:
            return await self.wait_for_async(self._messages_ready(chat_id, count), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {self._describe(chat_id, count)}"
            ) from None

    def wait_for_requests(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until `count` calls of `method` were answered; return them."""
        return self.wait_for(self._requests_ready(method, count), timeout, f"{count} answered {method} calls")

    async def wait_for_requests_async(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Await until `count` calls of `method` were answered; return them."""
        return await self.wait_for_async(
            self._requests_ready(method, count), timeout, f"{count} answered {method} calls"
        )

    def wait_for_callback_answers(self, count: int = 1, timeout: float = 5.0) -> list[CallbackAnswer]:
        """Block until `count` callback queries were answered."""
        return self.wait_for(self._answers_ready(count), timeout, f"{count} callback answers")

    async def wait_for_callback_answers_async(
        self, count: int = 1, timeout: float = 5.0
    ) -> list[CallbackAnswer]:
        """Await until `count` callback queries were answered."""
        return await self.wait_for_async(self._answers_ready(count), timeout, f"{count} callback answers")
