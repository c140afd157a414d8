"""Opening SQLite connections with the settings durability depends on, and one writer transaction at a time."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiosqlite

from storage.records import StorageUnavailableError

BUSY_TIMEOUT_MS = 5000

# Order matters: the busy timeout first so switching to WAL can wait for another process.
PRAGMAS: tuple[tuple[str, str], ...] = (
    ("busy_timeout", str(BUSY_TIMEOUT_MS)),
    ("journal_mode", "WAL"),  # readers never block the writer, and a commit is one append
    ("synchronous", "FULL"),  # fsync the WAL at every commit: an acknowledged answer survives a power cut
    ("foreign_keys", "ON"),  # per connection; erasure relies on the cascades being real
    ("secure_delete", "ON"),  # erased text is overwritten with zeros, not left in free pages
    ("wal_autocheckpoint", "0"),  # checkpoints run beside the writer (storage/checkpointer.py), not in a commit
)


async def _pragma(conn: aiosqlite.Connection, name: str, value: str) -> None:
    """Set a pragma; switching a new file to WAL while another process does the same can report "locked"
    without waiting on the busy handler, so that one is tried again for a while."""
    for attempt in range(100):
        try:
            await conn.execute(f"PRAGMA {name} = {value}")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or attempt == 99:
                raise
            await asyncio.sleep(0.05)


async def _worker_stopped(pending: aiosqlite.Connection) -> None:
    """After a failed open, aiosqlite stops its worker thread without waiting; that thread then answers on this
    loop, and if the loop has closed meanwhile (a bot that could not start) it dies with a traceback. Wait for it."""
    thread = getattr(pending, "_thread", None)
    for _ in range(200):
        if thread is None or not thread.is_alive():
            return
        await asyncio.sleep(0.005)


async def connect(path: Path) -> aiosqlite.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves) with every pragma applied and checked."""
    pending = aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn = await pending
    except BaseException:
        await _worker_stopped(pending)
        raise
    try:
        conn.row_factory = sqlite3.Row
        for name, value in PRAGMAS:
            await _pragma(conn, name, value)
        rows = list(await conn.execute_fetchall("PRAGMA journal_mode"))
        if str(rows[0][0]).lower() != "wal":
            raise RuntimeError(
                f"could not switch {path} to WAL journal mode (got {rows[0][0]!r}); "
                "put the database on a local disk, not a network share"
            )
    except BaseException:
        await conn.close()
        raise
    return conn


TRANSIENT = ("locked", "busy", "readonly", "read-only", "disk", "full", "i/o", "unable to open")


def is_transient(error: BaseException) -> bool:
    """Faults of the machine, not of our SQL: locked by another process, read-only, disk full, I/O."""
    return isinstance(error, sqlite3.OperationalError) and any(word in str(error).lower() for word in TRANSIENT)


async def _rollback(conn: aiosqlite.Connection) -> None:
    """Roll back if a transaction is open; a failed BEGIN (locked, read-only) leaves none to roll back."""
    with suppress(sqlite3.Error):
        await conn.rollback()


class Writer:
    """The one write connection of a process; its lock keeps two coroutines out of one transaction."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path
        self._reconnect = False
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (cancellation included); lock held only here."""
        async with self._lock:
            if self._reconnect and self.path is not None:
                await self._reopen(self.path)
            try:
                # IMMEDIATE takes the write lock up front: a deferred read-then-write transaction
                # can fail with "database is locked" without ever calling the busy handler.
                await self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                await self.conn.execute("COMMIT")
            except BaseException as error:
                # Shielded so a second cancellation cannot leave the shared connection inside a transaction;
                # the worker thread runs statements in order, so the rollback lands before anyone else's BEGIN.
                await asyncio.shield(_rollback(self.conn))
                if is_transient(error):
                    # SQLite opens a file it may not write read-only and never upgrades that connection:
                    # reconnect before the next write, so the bot recovers once the file is writable again.
                    self._reconnect = "readonly" in str(error).lower() or "read-only" in str(error).lower()
                    raise StorageUnavailableError(str(error)) from error
                raise

    async def _reopen(self, path: Path) -> None:
        """A fresh write connection; if the file is still read-only the next write says so again."""
        with suppress(sqlite3.Error):
            await self.conn.close()
        self.conn = await connect(path)
        self._reconnect = False

    async def close(self) -> None:
        """Wait for a transaction in flight, then close."""
        async with self._lock:
            await self.conn.close()
