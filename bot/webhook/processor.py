"""Applying stored webhook updates: per tenant one at a time in update_id order, whichever worker stored them.

A worker takes a tenant (storage/tenant_locks.py: across processes on PostgreSQL), applies that tenant's waiting
updates lowest id first, deleting each from the inbox once applied, and gives the tenant back when none are left.
Different tenants run side by side, up to `concurrency` at once, so one slow tenant never holds up the others.
The processor looks for work when the server has just stored an update (nudge) and every `poll_seconds`, which
finds what another worker stored, or a dead worker left.

The steps dedupe by update id in the database, so an update applied but not yet deleted (a crash in between) is
a no-op when it is applied again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from storage import Database, StorageUnavailableError, inbox
from storage.inbox import InboxUpdate
from storage.tenant_locks import LocksLost, TenantLocks, open_tenant_locks

log = logging.getLogger(__name__)

CONCURRENT_TENANTS = 32
POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0
STOP_SECONDS = 4.0  # for the update in hand at SIGTERM; then it is cut short (rolled back, applied again later)
RETENTION = timedelta(days=7)  # an update waiting longer than this is deleted unapplied (storage/inbox.py)
RETENTION_EVERY = timedelta(hours=1)

Apply = Callable[[InboxUpdate], Awaitable[None]]
LocksFactory = Callable[[Database], Awaitable[TenantLocks]]


def _now() -> datetime:
    return datetime.now(UTC)


class InboxProcessor:
    """One per worker process: a scanning loop, and a task per tenant it holds."""

    def __init__(
        self,
        db: Database,
        apply: Apply,
        worker: str,
        concurrency: int = CONCURRENT_TENANTS,
        poll_seconds: float = POLL_SECONDS,
        locks: LocksFactory = open_tenant_locks,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.db = db
        self.apply = apply
        self.worker = worker
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self._open_locks = locks
        self._clock = clock
        self._locks: TenantLocks | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._tenants: dict[int | None, asyncio.Task[None]] = {}
        self._waiting: dict[int | None, int] = {}
        self._next_retention = clock()

    # ------------------------------------------------------------------ for the server and the handlers

    def nudge(self) -> None:
        """An update was just stored: look now rather than at the next poll."""
        self._wake.set()

    def in_hand_for(self, tenant: int) -> int:
        """How many of this tenant's updates are waiting, the one being applied included (more than one: a flood,
        and the replies are paced: bot.runtime.Runtime.send)."""
        return self._waiting.get(tenant, 0)

    # ------------------------------------------------------------------ start and stop

    async def start(self) -> None:
        """Open the lock table (a connection of its own on PostgreSQL) and start looking for work."""
        self._locks = await self._open_locks(self.db)
        self._loop_task = asyncio.create_task(self._run(), name=f"webhook-processor:{self.worker}")

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Take no new update; let each tenant's update in hand finish (for up to `timeout`), then give every
        tenant back. What is still waiting stays in the inbox for another worker, or for the next start."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        running = list(self._tenants.values())
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            if late:
                log.warning("%d update(s) were still being applied after %.0f s and were cut short; they stay "
                            "stored and are applied again later", len(late), timeout)
        if self._locks is not None:
            await self._locks.close()
            self._locks = None

    # ------------------------------------------------------------------ the scanning loop

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self._scan()
                failures = 0
                wait = self.poll_seconds
            except Exception as error:  # the database or the lock connection: wait a little longer each time
                failures += 1
                wait = min(self.poll_seconds * 2 ** min(failures, 6), MAX_BACKOFF_SECONDS)
                log.warning("webhook processor (%s) could not look for updates (%s: %s); trying again in %.1f s",
                            self.worker, type(error).__name__, error, wait)
                if isinstance(error, LocksLost):
                    await self._replace_locks()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()

    async def _scan(self) -> None:
        """Take every waiting tenant no one holds, while there is room."""
        await self._retention()
        if self._locks is None or not await self._locks.still_held():  # also this worker's heartbeat
            await self._replace_locks()
        room = self.concurrency - len(self._tenants)
        if room <= 0 or self._locks is None:
            return
        # Tenants held by other workers are skipped, so look further than the room there is.
        for tenant in await inbox.pending_tenants(self.db, limit=self.concurrency * 8):
            if self._stopping or len(self._tenants) >= self.concurrency:
                return
            if tenant in self._tenants:
                continue
            if await self._locks.try_take(tenant):
                self._tenants[tenant] = asyncio.create_task(self._drain(tenant), name=f"webhook-tenant:{tenant}")

    async def _replace_locks(self) -> None:
        """The lock connection failed: tenants in hand finish the update they are on and stop (checked before each
        update), then a new connection is opened and work goes on."""
        if self._tenants:
            await asyncio.gather(*self._tenants.values(), return_exceptions=True)
        old, self._locks = self._locks, None
        if old is not None:
            await old.close()
        try:
            self._locks = await self._open_locks(self.db)
            log.info("webhook processor (%s) has a new tenant lock connection", self.worker)
        except Exception as error:
            log.warning("webhook processor (%s) could not open a tenant lock connection (%s); trying again",
                        self.worker, type(error).__name__)

    async def _retention(self) -> None:
        now = self._clock()
        if now < self._next_retention:
            return
        self._next_retention = now + RETENTION_EVERY
        dropped = await inbox.purge_received_before(self.db, now - RETENTION)
        if dropped:
            log.warning("%d webhook update(s) waited more than %d days unapplied and were deleted",
                        dropped, RETENTION.days)

    # ------------------------------------------------------------------ one tenant

    async def _drain(self, tenant: int | None) -> None:
        """Apply the tenant's waiting updates lowest id first, one at a time, then give the tenant back."""
        locks = self._locks
        assert locks is not None
        try:
            while not self._stopping:
                if not await locks.still_held():
                    log.warning("webhook processor (%s) lost its tenant locks; the tenant's next update waits for "
                                "whoever takes it", self.worker)
                    return
                row = await inbox.next_for(self.db, tenant)
                if row is None:
                    return
                self._waiting[tenant] = row.waiting
                await self._apply_one(row)
        except Exception as error:  # the database failed: the rows stay, the tenant is tried again later
            log.warning("webhook processor (%s) stopped applying a tenant's updates (%s); they stay stored",
                        self.worker, type(error).__name__)
        finally:
            self._waiting.pop(tenant, None)
            self._tenants.pop(tenant, None)
            with contextlib.suppress(Exception):  # a lost lock connection has released it already
                await locks.release(tenant)
            self._wake.set()  # look again: more may have arrived while this tenant was held

    async def _apply_one(self, row: InboxUpdate) -> None:
        log.info("applying update %d (worker %s)", row.update_id, self.worker)
        try:
            await self.apply(row)
        except (asyncio.CancelledError, StorageUnavailableError):
            raise  # the row stays: applied again once the database is back (a no-op if it got that far)
        except Exception as error:  # an update that cannot be read or handled must not block the queue for ever
            log.error("update %d could not be applied and is dropped: %r", row.update_id, error, exc_info=error)
        await inbox.done(self.db, row.update_id)
        log.info("applied update %d (worker %s)", row.update_id, self.worker)
