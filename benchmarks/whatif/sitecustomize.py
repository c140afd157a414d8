"""Prototype fixes, applied to the bot process from outside (PYTHONPATH) so no product file is edited.

Python imports `sitecustomize` at start-up; this one patches what BENCH_PATCHES names (comma separated) once the
product modules are importable. Each patch is the smallest change that shows what a proposed fix would gain;
the real fix belongs in the file named in its docstring.
"""

from __future__ import annotations

import os

PATCHES = {p.strip() for p in os.environ.get("BENCH_PATCHES", "").split(",") if p.strip()}


def _adaptive_poll() -> None:
    """bot/ordering.py + bot/telegram_bot.py: while BUSY updates are still being handled, wait 20 ms before the
    next getUpdates, so it brings a batch rather than one update; when the bot is idle nothing waits.

    PerTenantUpdateProcessor counts the updates in hand; TolerantBot._post consults the count before getUpdates.
    """
    import asyncio

    from bot import ordering, telegram_bot

    busy, pause = 8, 0.02
    in_hand = [0]
    process = ordering.PerTenantUpdateProcessor.do_process_update

    async def do_process_update(self: object, update: object, coroutine: object) -> None:
        in_hand[0] += 1
        try:
            await process(self, update, coroutine)  # type: ignore[arg-type]
        finally:
            in_hand[0] -= 1

    post = telegram_bot.TolerantBot._post

    async def _post(self: object, endpoint: str, data: object = None, *args: object, **kwargs: object) -> object:
        if endpoint == "getUpdates" and in_hand[0] >= busy:
            await asyncio.sleep(pause)
        return await post(self, endpoint, data, *args, **kwargs)  # type: ignore[arg-type]

    ordering.PerTenantUpdateProcessor.do_process_update = do_process_update  # type: ignore[method-assign]
    telegram_bot.TolerantBot._post = _post  # type: ignore[method-assign]


def _pool() -> None:
    """bot/telegram_bot.py make_bot: connection_pool_size 16 instead of 64 (httpcore scans every pooled
    connection, checking its socket, on each request; 16 is what the broadcaster keeps in flight)."""
    from bot import telegram_bot

    original = telegram_bot.HTTPXRequest  # type: ignore[attr-defined]

    def request(*args: object, **kwargs: object) -> object:
        if kwargs.get("connection_pool_size") == 64:
            kwargs["connection_pool_size"] = int(os.environ.get("BENCH_POOL_SIZE", "16"))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    telegram_bot.HTTPXRequest = request  # type: ignore[attr-defined,assignment]


def _aiohttp() -> None:
    """bot/telegram_bot.py make_bot: python-telegram-bot's requests over aiohttp instead of httpx (a BaseRequest
    subclass, ~60 lines). A real one must also map aiohttp's errors the way the broadcaster relies on for
    at-most-once (a lost answer is `unknown`, never resent); this prototype only measures the cost per request."""
    import aiohttp
    from telegram.error import NetworkError, TimedOut
    from telegram.request import BaseRequest, RequestData

    from bot import telegram_bot

    class AiohttpRequest(BaseRequest):
        def __init__(self, connection_pool_size: int = 1, read_timeout: float | None = 5.0,
                     connect_timeout: float | None = 5.0, **_ignored: object) -> None:
            self._size, self._read, self._connect = connection_pool_size, read_timeout, connect_timeout
            self._session: aiohttp.ClientSession | None = None

        @property
        def read_timeout(self) -> float | None:
            return self._read

        async def initialize(self) -> None:
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._size))

        async def shutdown(self) -> None:
            if self._session is not None:
                await self._session.close()

        async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                             read_timeout: object = None, write_timeout: object = None,
                             connect_timeout: object = None, pool_timeout: object = None) -> tuple[int, bytes]:
            assert self._session is not None
            read = read_timeout if isinstance(read_timeout, int | float) else self._read
            timeout = aiohttp.ClientTimeout(sock_read=read, connect=self._connect)
            data = request_data.json_parameters if request_data else None
            try:
                async with self._session.request(method, url, data=data, timeout=timeout,
                                                 headers={"User-Agent": self.USER_AGENT}) as response:
                    return response.status, await response.read()
            except TimeoutError as error:
                raise TimedOut from error
            except aiohttp.ClientError as error:
                raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    telegram_bot.HTTPXRequest = AiohttpRequest  # type: ignore[attr-defined,assignment]


def _no_keyboard_clear() -> None:
    """bot/sending.py KeyboardTracker.clear as a no-op: what removing old buttons costs (not a fix by itself)."""
    from bot import sending

    async def clear(self: object, bot: object, chat_id: int, message_id: int | None = None) -> None:
        return None

    sending.KeyboardTracker.clear = clear  # type: ignore[method-assign]


def _safety() -> None:
    """bot/pacing.py SAFETY = 1.03 instead of 1.1: the pacer aims at rate/SAFETY, so 1.1 caps any broadcast at
    0.91 of BROADCAST_RATE however fast the bot is."""
    from bot import pacing

    pacing.SAFETY = 1.03  # read by Pacer.__init__


APPLY = {
    "safety": _safety, "poll": _adaptive_poll, "nokeyboard": _no_keyboard_clear, "pool": _pool, "aiohttp": _aiohttp,
}
for _name in sorted(PATCHES):
    if _name in APPLY:
        APPLY[_name]()
