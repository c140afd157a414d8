"""The processor: a tenant's updates one at a time in update_id order, across workers; tenants side by side."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
import pytest

from bot.webhook.processor import InboxProcessor
from storage import Database, StorageUnavailableError, inbox
from storage.inbox import InboxUpdate
from storage.tenant_locks import INBOX_TENANT_LOCK, PostgresTenantLocks, TenantLocks, open_tenant_locks
from tests.webhook.conftest import message_update

pytestmark = pytest.mark.webhook


@dataclass
class Applied:
    tenant: int | None
    update_id: int
    worker: str
    start: float
    end: float = 0.0


@dataclass
class Recorder:
    """A fake process_update: records when each update starts and ends, and takes its time."""

    seconds: Callable[[InboxUpdate], float] = lambda row: 0.01
    applied: list[Applied] = field(default_factory=list)
    hold: dict[int, asyncio.Event] = field(default_factory=dict)  # update id -> wait for this before finishing

    def apply_for(self, worker: str) -> Callable[[InboxUpdate], Awaitable[None]]:
        async def apply(row: InboxUpdate) -> None:
            entry = Applied(row.tenant_id, row.update_id, worker, time.monotonic())
            self.applied.append(entry)
            await asyncio.sleep(self.seconds(row))
            if row.update_id in self.hold:
                await self.hold[row.update_id].wait()
            entry.end = time.monotonic()

        return apply

    def order_of(self, tenant: int | None) -> list[int]:
        return [a.update_id for a in self.applied if a.tenant == tenant]

    def overlaps(self) -> list[tuple[int, int]]:
        """Pairs of one tenant's updates that were being applied at the same time."""
        found = []
        by_tenant: dict[int | None, list[Applied]] = {}
        for entry in self.applied:
            by_tenant.setdefault(entry.tenant, []).append(entry)
        for entries in by_tenant.values():
            entries.sort(key=lambda a: a.start)
            for before, after in itertools.pairwise(entries):
                if after.start < (before.end or float("inf")):
                    found.append((before.update_id, after.update_id))
        return found


async def store(db: Database, update_id: int, tenant: int | None, *processors: InboxProcessor) -> None:
    await inbox.store(db, update_id, tenant, json.dumps(message_update(update_id, tenant or 1)),
                      datetime.now(UTC))
    for processor in processors:
        processor.nudge()


async def until(predicate: Callable[[], bool], timeout: float = 15, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def two_workers(postgres_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two processes' worth of database: each its own pool on the one PostgreSQL."""
    first = await Database.open(postgres_url)
    second = await Database.open(postgres_url)
    yield first, second
    await first.close()
    await second.close()


async def test_one_worker_applies_a_tenants_updates_in_id_order_whatever_order_they_were_stored_in(
    db: Database,
) -> None:
    recorder = Recorder()
    recorder.hold[100] = asyncio.Event()
    processor = InboxProcessor(db, recorder.apply_for("w1"), "w1", poll_seconds=0.05)
    await processor.start()
    try:
        await store(db, 100, 7, processor)
        await until(lambda: recorder.order_of(7) == [100], what="update 100 in hand")
        for update_id in (105, 103, 101, 104, 102):  # arrive while the tenant is held
            await store(db, update_id, 7, processor)
        recorder.hold[100].set()
        await until(lambda: len(recorder.order_of(7)) == 6, what="all six applied")
    finally:
        await processor.stop()
    assert recorder.order_of(7) == [100, 101, 102, 103, 104, 105]
    assert recorder.overlaps() == []
    assert await inbox.pending_tenants(db, 10) == []


@pytest.mark.postgres
async def test_two_workers_apply_each_tenants_updates_in_order_one_at_a_time_and_share_the_tenants(
    two_workers: tuple[Database, Database],
) -> None:
    first, second = two_workers
    random.seed(15)
    recorder = Recorder(seconds=lambda row: random.uniform(0.005, 0.03))
    a = InboxProcessor(first, recorder.apply_for("a"), "a", poll_seconds=0.1)
    b = InboxProcessor(second, recorder.apply_for("b"), "b", poll_seconds=0.1)
    await a.start()
    await b.start()
    tenants = list(range(1, 21))
    workers = ((first, a), (second, b))  # as the server does: the worker that stored an update is nudged
    try:
        for tenant in tenants:  # each tenant's first update is held (by one worker or the other) while the rest arrive
            recorder.hold[tenant] = asyncio.Event()
            db, processor = random.choice(workers)
            await store(db, tenant, tenant, processor)
        await until(lambda: len(recorder.applied) == 20, what="every tenant's first update in hand")
        ids = [(100 + n, tenant) for n, tenant in enumerate(t for t in tenants for _ in range(5))]
        random.shuffle(ids)  # stored out of order, each by either worker
        for update_id, tenant in ids:
            db, processor = random.choice(workers)
            await store(db, update_id, tenant, processor)
        for event in recorder.hold.values():
            event.set()
        await until(lambda: len(recorder.applied) == 120 and all(e.end for e in recorder.applied),
                    what="every update applied")
    finally:
        await a.stop()
        await b.stop()
    for tenant in tenants:
        assert recorder.order_of(tenant) == [tenant, *sorted(u for u, t in ids if t == tenant)], tenant
    assert sorted(a.update_id for a in recorder.applied) == [*tenants, *range(100, 200)]  # each once
    assert recorder.overlaps() == []
    assert {entry.worker for entry in recorder.applied} == {"a", "b"}
    assert await inbox.pending_tenants(first, 10) == []


@pytest.mark.postgres
async def test_a_slow_tenant_does_not_delay_the_others(two_workers: tuple[Database, Database]) -> None:
    first, second = two_workers
    slow = 99
    recorder = Recorder(seconds=lambda row: 2.0 if row.tenant_id == slow else 0.01)
    a = InboxProcessor(first, recorder.apply_for("a"), "a", poll_seconds=0.1)
    b = InboxProcessor(second, recorder.apply_for("b"), "b", poll_seconds=0.1)
    await a.start()
    await b.start()
    try:
        await store(first, 1, slow, a, b)
        await store(first, 2, slow, a, b)
        await until(lambda: recorder.order_of(slow) == [1], what="the slow tenant's first update in hand")
        started = time.monotonic()
        for n in range(30):
            await store(random.choice((first, second)), 10 + n, n % 10, a, b)
        await until(lambda: len(recorder.applied) == 31, what="the fast tenants' updates")
        fast_took = time.monotonic() - started
        await until(lambda: len(recorder.applied) == 32 and all(e.end for e in recorder.applied), what="the rest")
    finally:
        await a.stop()
        await b.stop()
    first_slow = recorder.applied[0]
    fast_end = max(e.end for e in recorder.applied if e.tenant != slow)
    assert fast_end < first_slow.end, "a fast tenant waited for the slow one"
    assert fast_took < 1.5
    assert recorder.order_of(slow) == [1, 2]
    assert recorder.overlaps() == []


async def test_a_worker_applies_at_most_its_concurrency_of_tenants_at_once(db: Database) -> None:
    in_hand: list[int] = []
    finished: list[int] = []
    most = 0

    async def apply(row: InboxUpdate) -> None:
        nonlocal most
        in_hand.append(row.update_id)
        most = max(most, len(in_hand))
        await asyncio.sleep(0.05)
        in_hand.remove(row.update_id)
        finished.append(row.update_id)

    processor = InboxProcessor(db, apply, "w", concurrency=4, poll_seconds=0.05)
    await processor.start()
    try:
        for n in range(12):
            await store(db, n + 1, n, processor)
        await until(lambda: len(finished) == 12, what="all applied")
    finally:
        await processor.stop()
    assert most == 4
    assert await inbox.pending_tenants(db, 20) == []


async def test_an_update_that_cannot_be_applied_is_dropped_and_does_not_block_the_tenant(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    applied: list[int] = []

    async def apply(row: InboxUpdate) -> None:
        if row.update_id == 1:
            raise ValueError("not an update python-telegram-bot can read")
        applied.append(row.update_id)

    processor = InboxProcessor(db, apply, "w", poll_seconds=0.05)
    await processor.start()
    try:
        await store(db, 1, 5, processor)
        await store(db, 2, 5, processor)
        await until(lambda: applied == [2], what="the next update")
    finally:
        await processor.stop()
    assert "update 1 could not be applied and is dropped" in caplog.text


async def test_an_update_is_kept_when_the_database_fails_while_it_is_applied(db: Database) -> None:
    attempts: list[int] = []

    async def apply(row: InboxUpdate) -> None:
        attempts.append(row.update_id)
        if len(attempts) == 1:
            raise StorageUnavailableError("disk full")

    processor = InboxProcessor(db, apply, "w", poll_seconds=0.05)
    await processor.start()
    try:
        await store(db, 1, 5, processor)
        await until(lambda: len(attempts) == 2, what="a second attempt")
    finally:
        await processor.stop()
    assert attempts == [1, 1]


async def test_stop_lets_the_update_in_hand_finish_and_leaves_the_rest_stored(db: Database) -> None:
    recorder = Recorder(seconds=lambda row: 0.3)
    processor = InboxProcessor(db, recorder.apply_for("w"), "w", poll_seconds=0.05)
    await processor.start()
    await store(db, 1, 5, processor)
    await store(db, 2, 5, processor)
    await until(lambda: recorder.order_of(5) == [1], what="update 1 in hand")
    await processor.stop()
    assert recorder.applied[0].end > 0
    assert recorder.order_of(5) == [1]
    left = await inbox.next_for(db, 5)
    assert left is not None and left.update_id == 2


@pytest.mark.postgres
async def test_a_worker_whose_lock_connection_dies_gives_the_tenant_to_the_other(
    two_workers: tuple[Database, Database], postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = two_workers
    recorder = Recorder()
    opened: list[PostgresTenantLocks] = []

    async def locks_once(db: Database) -> TenantLocks:
        """Worker a's lock connection, and then none: it has lost the database for good."""
        if opened:
            raise StorageUnavailableError("no route to the database")
        opened.append(await PostgresTenantLocks.open(db.url))
        return opened[0]

    apply_a = recorder.apply_for("a")

    async def apply_and_lose_the_lock_connection(row: InboxUpdate) -> None:
        await apply_a(row)
        if row.update_id == 1:  # the lock connection dies while update 1 is being applied
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (opened[0].backend_pid,))

    a = InboxProcessor(first, apply_and_lose_the_lock_connection, "a", poll_seconds=0.05, locks=locks_once)
    b = InboxProcessor(second, recorder.apply_for("b"), "b", poll_seconds=0.05)
    await a.start()
    await store(first, 1, 5, a)
    await store(first, 2, 5, a)
    await until(lambda: recorder.order_of(5) == [1], what="a has update 1")
    await b.start()
    try:
        await until(lambda: recorder.order_of(5) == [1, 2] and recorder.applied[1].end > 0, what="update 2")
    finally:
        await a.stop()
        await b.stop()
    assert [(e.update_id, e.worker) for e in recorder.applied] == [(1, "a"), (2, "b")]
    assert recorder.overlaps() == []
    assert "lost its tenant locks" in caplog.text


@pytest.mark.postgres
async def test_a_tenant_held_on_one_lock_connection_cannot_be_taken_on_another(postgres_url: str) -> None:
    async with await Database.open(postgres_url) as db:
        mine, theirs = await open_tenant_locks(db), await open_tenant_locks(db)
        try:
            assert await mine.try_take(5)
            assert not await mine.try_take(5)  # not twice in one worker either
            assert not await theirs.try_take(5)
            assert await theirs.try_take(None) and not await mine.try_take(None)
            await mine.release(5)
            assert await theirs.try_take(5)
        finally:
            await mine.close()
            await theirs.close()


def test_the_inbox_lock_namespace_is_not_one_the_steps_use() -> None:
    """The steps take storage.dialect's locks inside their transactions while a worker holds this one: sharing a
    namespace would make a worker wait for itself."""
    from storage import dialect

    used = {value for name, value in vars(dialect).items() if name.endswith("_LOCK") and isinstance(value, int)}
    assert used and INBOX_TENANT_LOCK not in used
