"""psycopg connections with the aiosqlite calls the storage modules make: execute (awaited or as a context),
execute_fetchall, executemany, rowcount and the rest; one pool per process, a transaction per write."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from storage.postgres.sql import bound
from storage.postgres.values import configure, row_factory
from storage.records import StorageUnavailableError

POOL_SIZE = 10  # a worker's coroutines share these; PostgreSQL's default max_connections (100) fits several workers
CONNECT_TIMEOUT_S = 10


def _storable(params: Sequence[Any]) -> tuple[Any, ...]:
    """PostgreSQL text cannot hold NUL: a tenant's stray NUL is kept as U+FFFD (the replacement character)."""
    return tuple(p.replace("\0", "\ufffd") if isinstance(p, str) and "\0" in p else p for p in params)


def _bound(sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """psycopg's statement and values (see storage/postgres/sql.py), NULs made storable."""
    text, values = bound(sql, params)
    return text, _storable(values)


COPY_ESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}
COPY_ESCAPE = re.compile(r"\\(.)", re.S)


def copy_text_lines(text: str) -> str:
    """Rows of one column in COPY's text format as the values themselves, each ended by CRLF: a raw newline only
    ever ends a row (one inside a value comes as backslash-n), and COPY TO writes no other escapes than these."""
    text = text.replace("\n", "\r\n")
    if "\\" in text:
        text = COPY_ESCAPE.sub(lambda match: COPY_ESCAPES.get(match.group(1), match.group(1)), text)
    return text


class Cursor:
    """A statement's result, read in full (steps and short reads are small; exports stream instead)."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount
        self.lastrowid = None  # PostgreSQL has none: statements use RETURNING

    async def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchall(self) -> list[Any]:
        rest, self._at = self._rows[self._at :], len(self._rows)
        return rest

    async def fetchmany(self, size: int) -> list[Any]:
        chunk = self._rows[self._at : self._at + size]
        self._at += len(chunk)
        return chunk

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while (row := await self.fetchone()) is not None:
            yield row

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def close(self) -> None:
        return None


class _Pending:
    """What execute() returns: awaited for a cursor, or used as `async with conn.execute(...) as cursor`."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._run.__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> Cursor:
        return await self._run  # type: ignore[no-any-return]

    async def __aexit__(self, *exc: object) -> None:
        return None


class Connection:
    """One psycopg connection dressed as aiosqlite's: the storage modules call it the same way."""

    dialect = "postgresql"

    def __init__(self, raw: psycopg.AsyncConnection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Pending:
        return _Pending(self._execute(sql, params))

    async def _execute(self, sql: str, params: Sequence[Any]) -> Cursor:
        async with self.raw.cursor() as cursor:
            await cursor.execute(*_bound(sql, params))
            rows = await cursor.fetchall() if cursor.description is not None else []
            return Cursor(rows, cursor.rowcount)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        cursor = await self._execute(sql, params)
        return await cursor.fetchall()

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Cursor:
        async with self.raw.cursor() as cursor:
            text = bound(sql, ())[0]
            await cursor.executemany(text, [_bound(sql, p)[1] for p in seq])
            return Cursor([], cursor.rowcount)

    async def execute_script(self, script: str) -> None:
        """Several statements with no parameters (a migration), sent as one."""
        await self.raw.execute(script.encode())  # bytes: psycopg sends it as it is, with no placeholder parsing

    async def stream(self, sql: str, params: Sequence[Any], size: int, plain: bool) -> AsyncIterator[list[Any]]:
        """Rows a chunk at a time through a server-side cursor (inside the caller's transaction): flat memory."""
        factory: Any = psycopg.rows.tuple_row if plain else row_factory
        cursor = self.raw.cursor(name="export_rows", row_factory=factory)
        try:
            await cursor.execute(*_bound(sql, params))
            while chunk := await cursor.fetchmany(size):
                yield chunk
        finally:
            await cursor.close()

    async def copy_lines(self, sql: str, params: Sequence[Any], size: int) -> AsyncIterator[tuple[str, int]]:
        """A one-column query's values as CRLF-ended lines, `size` rows a block (text, rows), streamed by
        COPY ... TO STDOUT inside the caller's transaction: the server sends while we write, nothing is loaded
        value by value, and memory stays flat."""
        text, values = _bound(sql, params)
        encoding = self.raw.info.encoding
        async with self.raw.cursor() as cursor, cursor.copy(f"COPY ({text}) TO STDOUT", values) as copy:
            batch: list[Any] = []
            async for row in copy:  # one row each: its value in COPY's text format, then a newline
                batch.append(row)
                if len(batch) >= size:
                    yield copy_text_lines(b"".join(batch).decode(encoding)), len(batch)
                    batch = []
            if batch:
                yield copy_text_lines(b"".join(batch).decode(encoding)), len(batch)

    async def rollback(self) -> None:
        await self.raw.rollback()

    async def close(self) -> None:
        await self.raw.close()


TRANSIENT = (psycopg.OperationalError, PoolTimeout)


def is_transient(error: BaseException) -> bool:
    """Faults of the server or the network (down, restarting, out of connections, disk full), not of our SQL."""
    return isinstance(error, TRANSIENT)  # DiskFull and AdminShutdown are OperationalErrors too


async def _configure(raw: psycopg.AsyncConnection[Any]) -> None:
    configure(raw)
    await raw.execute("SET TIME ZONE 'UTC'")


async def connect(url: str) -> Connection:
    """A connection of its own (an export's long read), autocommit until the caller begins."""
    try:
        raw = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as error:
        raise StorageUnavailableError(str(error)) from error
    await _configure(raw)
    return Connection(raw)


class Pool:
    """The process's connections: writes get a transaction each, reads borrow a connection for one statement."""

    dialect = "postgresql"

    def __init__(self, url: str, size: int = POOL_SIZE) -> None:
        self.url = url
        self.pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url, min_size=1, max_size=size, open=False, configure=_configure, timeout=CONNECT_TIMEOUT_S,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
        )

    async def open(self) -> None:
        try:
            await self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except PoolTimeout as error:
            await self.pool.close()
            raise StorageUnavailableError(f"cannot reach PostgreSQL ({error})") from error

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """BEGIN ... COMMIT on a pooled connection, rolled back on any exception."""
        try:
            async with self.pool.connection() as raw, raw.transaction():
                yield Connection(raw)
        except TRANSIENT as error:
            raise StorageUnavailableError(str(error)) from error

    @asynccontextmanager
    async def borrowed(self) -> AsyncIterator[Connection]:
        """A pooled connection in autocommit, for reads."""
        try:
            async with self.pool.connection() as raw:
                yield Connection(raw)
        except TRANSIENT as error:
            raise StorageUnavailableError(str(error)) from error

    async def close(self) -> None:
        await self.pool.close()


class Reader:
    """Database.reader on PostgreSQL: each statement borrows a pooled connection and returns its rows."""

    dialect = "postgresql"

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Pending:
        return _Pending(self._execute(sql, params))

    async def _execute(self, sql: str, params: Sequence[Any]) -> Cursor:
        async with self._pool.borrowed() as conn:
            return await conn._execute(sql, params)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        cursor = await self._execute(sql, params)
        return await cursor.fetchall()

    async def close(self) -> None:
        return None
