"""python-telegram-bot's HTTP calls over aiohttp: the same requests at under half the CPU of httpx (benchmarks/).

Every Bot API call costs the bot CPU in its HTTP client, and a consultation step makes three or four of them; with
httpx that was most of the bot's time. This transport sends exactly what PTB's own HTTPXRequest sends (form fields,
or multipart when a file is attached) and raises the same errors (TimedOut, NetworkError), keeping the aiohttp error
as the cause so `answer_may_be_lost` can tell a request that never left from one whose answer was lost.
"""

from __future__ import annotations

import aiohttp
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# Failures before the request was written: it certainly did not reach Telegram, so sending it again is safe.
NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError,
            httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def answer_may_be_lost(error: BaseException) -> bool:
    """Whether Telegram may have acted on a failed call (a read timeout, a dropped connection): never repeat it."""
    cause = error.__cause__
    if not isinstance(error, NetworkError) or cause is None or isinstance(cause, NOT_SENT):
        return False
    return isinstance(cause, aiohttp.ClientError | TimeoutError | httpx.ReadTimeout | httpx.ReadError
                      | httpx.RemoteProtocolError | httpx.WriteTimeout | httpx.WriteError)


def _seconds(value: object, default: float | None) -> float | None:
    """A timeout PTB passed for this call, or ours when it passed its 'use the default' marker."""
    return float(value) if isinstance(value, int | float) else default


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded pool; timeouts as HTTPXRequest names them."""

    def __init__(self, connection_pool_size: int, connect_timeout: float = 10.0, read_timeout: float = 15.0,
                 write_timeout: float = 15.0, pool_timeout: float = 10.0) -> None:
        self._pool_size = connection_pool_size
        self._connect, self._read, self._write, self._pool = connect_timeout, read_timeout, write_timeout, pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """PTB adds this to getUpdates' long-poll time."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one call; aiohttp's errors become PTB's, with the original kept as the cause."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _seconds(read_timeout, self._read)
        connect = _seconds(connect_timeout, self._connect)
        pool = _seconds(pool_timeout, self._pool)
        data: aiohttp.FormData | dict[str, str] | None = None
        total = None
        if request_data is not None and request_data.contains_files:
            data = _multipart(request_data)
            write = _seconds(write_timeout, self._write)
            total = None if write is None or read is None else write + read  # aiohttp has no write timeout
        elif request_data is not None:
            data = request_data.json_parameters
        timeout = aiohttp.ClientTimeout(total=total, connect=None if pool is None or connect is None
                                        else pool + connect, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut(f"aiohttp.{type(error).__name__}") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """The parameters and files as one multipart body, the way httpx would build it."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
