"""Who may apply a tenant's webhook updates right now: a lock per tenant that holds across worker processes.

PostgreSQL: a session-level advisory lock per tenant, all of a worker's on one connection of their own. A worker that
dies (kill -9, a lost machine) loses that connection, and the server drops its locks with it, so no tenant stays
taken by a dead worker. SQLite: one worker per file, so a set in this process is enough.

The namespace is not storage.dialect's TENANT_LOCK, on purpose: a worker holds this lock on its lock connection
while the step it runs takes TENANT_LOCK as a transaction lock on a pooled connection; the same key there would
make the worker wait for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol

from storage.records import StorageUnavailableError

if TYPE_CHECKING:
    from storage.database import Database
    from storage.postgres.connection import Connection

INBOX_TENANT_LOCK = 1502  # advisory lock namespace: "this worker applies this tenant's webhook updates"
NO_TENANT = "no tenant"  # the key of the queue of updates that belong to no user


class LocksLost(StorageUnavailableError):
    """The lock connection failed: every tenant this worker held may be another worker's now."""


class TenantLocks(Protocol):
    """What the webhook processor needs from a lock table."""

    async def try_take(self, tenant: int | None) -> bool:
        """Take the tenant if no one (this worker included) holds it; never waits."""
        ...

    async def release(self, tenant: int | None) -> None:
        """Give the tenant back."""
        ...

    async def still_held(self) -> bool:
        """False once the locks may have been lost (then nothing more may be applied under them)."""
        ...

    async def close(self) -> None:
        """Release everything."""
        ...


def _key(tenant: int | None) -> str:
    return NO_TENANT if tenant is None else str(tenant)


class LocalTenantLocks:
    """SQLite: one worker per database file, so the locks only need to hold within this process."""

    def __init__(self) -> None:
        self._held: set[int | None] = set()

    async def try_take(self, tenant: int | None) -> bool:
        if tenant in self._held:
            return False
        self._held.add(tenant)
        return True

    async def release(self, tenant: int | None) -> None:
        self._held.discard(tenant)

    async def still_held(self) -> bool:
        return True

    async def close(self) -> None:
        self._held.clear()


class PostgresTenantLocks:
    """pg_try_advisory_lock per tenant on one dedicated connection (which can hold any number of them)."""

    def __init__(self, conn: Connection, backend_pid: int) -> None:
        self._conn = conn
        self.backend_pid = backend_pid  # the server process holding the locks (tests end it to play a dead worker)
        self._statement = asyncio.Lock()  # one statement at a time on the one connection
        self._held: dict[int | None, int] = {}
        self.lost = False

    @classmethod
    async def open(cls, url: str) -> PostgresTenantLocks:
        from storage.postgres.connection import connect  # psycopg is loaded only by those who use it

        conn = await connect(url)
        rows = list(await conn.execute_fetchall("SELECT pg_backend_pid() AS pid"))
        return cls(conn, int(rows[0]["pid"]))

    async def _ask(self, sql: str, params: tuple[object, ...] = ()) -> bool:
        if self.lost:
            raise LocksLost("the tenant lock connection was lost")
        try:
            async with self._statement:
                rows = list(await self._conn.execute_fetchall(sql, params))
        except Exception as error:  # the server went, or ended this session: its locks went with it
            self.lost = True
            self._held.clear()
            raise LocksLost(f"the tenant lock connection failed ({type(error).__name__})") from error
        return bool(rows[0][0])

    async def try_take(self, tenant: int | None) -> bool:
        if tenant in self._held:
            return False
        taken = await self._ask("SELECT pg_try_advisory_lock(?, hashtext(?::text))", (INBOX_TENANT_LOCK, _key(tenant)))
        if taken:
            self._held[tenant] = 1
        return taken

    async def release(self, tenant: int | None) -> None:
        if self._held.pop(tenant, None) is None or self.lost:
            return
        await self._ask("SELECT pg_advisory_unlock(?, hashtext(?::text))", (INBOX_TENANT_LOCK, _key(tenant)))

    async def still_held(self) -> bool:
        """One round trip: the session answering proves it (and every lock it holds) is still there."""
        try:
            return await self._ask("SELECT true")
        except LocksLost:
            return False

    async def close(self) -> None:
        self._held.clear()
        with contextlib.suppress(Exception):  # already gone: so are the locks
            await self._conn.close()  # the server releases the session's locks


async def open_tenant_locks(db: Database) -> TenantLocks:
    """The lock table for this database's backend."""
    if db.postgres:
        return await PostgresTenantLocks.open(db.url)
    return LocalTenantLocks()
