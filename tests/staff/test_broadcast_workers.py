"""Two workers on one PostgreSQL share a broadcast: each recipient is claimed by one of them (FOR UPDATE SKIP
LOCKED), never both, and a reminder both workers fire at once is written once."""

from __future__ import annotations

import asyncio

import pytest

from storage import Database, broadcasts, recipients
from storage import broadcast_drafts as drafts
from storage.broadcast_drafts import Draft
from storage.recipients import Outcome
from tests.staff.population import AT
from tests.storage.builders import CONSULTATION, answer

pytestmark = pytest.mark.postgres
TENANTS = 60
STAFF = 900002


async def two_workers(url: str) -> tuple[Database, Database]:
    return await Database.open(url), await Database.open(url)


async def test_two_workers_claiming_one_broadcast_take_each_recipient_once(postgres_url: str) -> None:
    worker_a, worker_b = await two_workers(postgres_url)
    try:
        for user_id in range(1, TENANTS + 1):
            await answer(worker_a, user_id, "q1", f"answer {user_id}")
        await drafts.save(worker_a, Draft(STAFF, "tok", "preview", AT, audience="agreed", text="Hello"))
        job = await broadcasts.create_staff_broadcast(worker_a, CONSULTATION, STAFF, "tok", False, AT)
        assert job is not None and job.total == TENANTS

        async def drain(db: Database) -> list[int]:
            taken: list[int] = []
            settle: list[Outcome] = []
            while batch := await recipients.claim(db, job, 3, AT, settle=settle):
                taken += [c.user_id for c in batch]
                await asyncio.sleep(0.005)  # a send
                settle = [Outcome(c.user_id, "sent", c.attempts + 1) for c in batch]
            await recipients.record(db, job.id, settle)
            return taken

        by_a, by_b = await asyncio.gather(drain(worker_a), drain(worker_b))
        assert not set(by_a) & set(by_b), "a recipient was claimed by both workers: they would get it twice"
        assert sorted(by_a + by_b) == list(range(1, TENANTS + 1))
        assert by_a and by_b, "both workers took part"
        tally = await broadcasts.finish(worker_a, job.id, AT)
        assert tally.sent == TENANTS
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_a_reminder_fired_by_two_workers_at_once_is_written_once(postgres_url: str) -> None:
    worker_a, worker_b = await two_workers(postgres_url)
    try:
        for user_id in range(1, 6):
            await answer(worker_a, user_id, "q1", "partly done")
        made = await asyncio.gather(*(
            broadcasts.create_reminder(db, CONSULTATION, "halfway", "started_not_finished", "Please finish", AT)
            for db in (worker_a, worker_b, worker_a, worker_b)))
        written = [job for job in made if job is not None]
        assert len(written) == 1 and written[0].total == 5
        assert await broadcasts.sent_reminder_ids(worker_b, CONSULTATION) == {"halfway"}
    finally:
        await worker_a.close()
        await worker_b.close()
