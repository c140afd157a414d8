"""Two workers on one PostgreSQL share a broadcast: each recipient is claimed by one of them (FOR UPDATE SKIP
LOCKED), never both; a reminder both workers fire at once is written once; a worker leaves another live worker's
sends in flight alone (they are recorded as sent, not given up as unknown), while a dead worker's become unknown
within seconds and are never sent again; and the job is finished, audited and reported once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.delivery.broadcaster import SWEEP_SECONDS, Broadcaster
from conversations.model import Consultation
from storage import Database, broadcasts, claimers, recipients
from storage import broadcast_drafts as drafts
from storage.broadcast_drafts import Draft
from storage.broadcasts import Job
from storage.claimers import PostgresClaimer
from storage.recipients import Outcome
from tests.staff.population import AT, populate_db
from tests.staff.population import CONSULTATION as POPULATED
from tests.staff.test_broadcaster import FakeBot, make_runtime
from tests.storage.builders import CONSULTATION, answer

pytestmark = [pytest.mark.postgres, pytest.mark.webhook]
TENANTS = 60
STAFF = 900002
REPORT = "Broadcast finished"


async def two_workers(url: str) -> tuple[Database, Database]:
    return await Database.open(url), await Database.open(url)


@dataclass
class Workers:
    """Two workers' databases on one server, a job for 40 tenants, and one fake Telegram they both send to."""

    a: Database
    b: Database
    job: Job
    bot: FakeBot

    def recipients_sent(self) -> Counter[int]:
        return Counter(chat for chat, _, _ in self.bot.sent if chat != STAFF)

    def reports(self) -> list[str]:
        return [text for chat, text, _ in self.bot.sent if chat == STAFF and REPORT in text]

    async def statuses(self) -> dict[int, str]:
        rows = await self.a.reader.execute_fetchall(
            "SELECT user_id, status FROM broadcast_recipients WHERE broadcast_id = ?", (self.job.id,))
        return {int(row[0]): str(row[1]) for row in rows}

    async def finished_lines(self) -> list[str]:
        rows = await self.a.reader.execute_fetchall("SELECT detail FROM audit_log WHERE action = 'broadcast_done'")
        return [str(row[0]) for row in rows]


@pytest.fixture
async def workers(postgres_url: str) -> AsyncIterator[Workers]:
    a, b = await two_workers(postgres_url)
    try:
        await populate_db(a, {"part_way": 30, "finished": 10})
        await drafts.save(a, Draft(STAFF, "tok", "preview", AT, audience="agreed", text="Hello <b>there</b>"))
        # as the /broadcast handler does: the progress message is known when the job is written
        job = await broadcasts.create_staff_broadcast(a, POPULATED, STAFF, "tok", False, AT, progress_message_id=1)
        assert job is not None and job.total == 40
        yield Workers(a, b, job, FakeBot())
    finally:
        await a.close()
        await b.close()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    try:
        async with asyncio.timeout(seconds):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {seconds} s: {what}") from None


async def test_two_workers_claiming_one_broadcast_take_each_recipient_once(postgres_url: str) -> None:
    worker_a, worker_b = await two_workers(postgres_url)
    try:
        for user_id in range(1, TENANTS + 1):
            await answer(worker_a, user_id, "q1", f"answer {user_id}")
        await drafts.save(worker_a, Draft(STAFF, "tok", "preview", AT, audience="agreed", text="Hello"))
        job = await broadcasts.create_staff_broadcast(worker_a, CONSULTATION, STAFF, "tok", False, AT)
        assert job is not None and job.total == TENANTS

        async def drain(db: Database) -> list[int]:
            claimer = await claimers.open_claimer(db)
            taken: list[int] = []
            settle: list[Outcome] = []
            while batch := await recipients.claim(db, job, 3, AT, claimer, settle=settle):
                taken += [c.user_id for c in batch]
                await asyncio.sleep(0.005)  # a send
                settle = [Outcome(c.user_id, "sent", c.attempts + 1) for c in batch]
            await recipients.record(db, job.id, claimer, settle)
            await claimer.close()
            return taken

        by_a, by_b = await asyncio.gather(drain(worker_a), drain(worker_b))
        assert not set(by_a) & set(by_b), "a recipient was claimed by both workers: they would get it twice"
        assert sorted(by_a + by_b) == list(range(1, TENANTS + 1))
        assert by_a and by_b, "both workers took part"
        tally = await broadcasts.finish(worker_a, job.id, AT)
        assert tally is not None and tally.sent == TENANTS
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


async def test_a_job_shared_by_two_broadcasters_reaches_everyone_once_and_is_reported_once(
    workers: Workers, consultation: Consultation
) -> None:
    workers.bot.delay = 0.01  # Telegram's answer takes a moment, so both workers have sends in flight at the end
    both = [Broadcaster(make_runtime(db, consultation, rate=100), workers.bot)  # type: ignore[arg-type]
            for db in (workers.a, workers.b)]
    for broadcaster in both:
        await broadcaster.start()
        broadcaster.wake()
    await eventually(lambda: _done(workers), 20, "the job finished")
    await asyncio.sleep(SWEEP_SECONDS)  # long enough for a second report, if there were going to be one
    for broadcaster in both:
        await broadcaster.stop()
    assert workers.recipients_sent() == dict.fromkeys(await workers.statuses(), 1)
    assert len(workers.reports()) == 1 and "Sent: 40" in workers.reports()[0]
    assert await workers.finished_lines() == [
        f"broadcast {workers.job.id} finished: sent 40, blocked 0, failed 0, skipped 0 (unknown 0)"]


async def test_a_live_workers_sends_in_flight_survive_another_workers_start_and_are_recorded_as_sent(
    workers: Workers, consultation: Consultation
) -> None:
    a = await claimers.open_claimer(workers.a, "a")
    in_flight = await recipients.claim(workers.a, workers.job, 3, AT, a)  # worker A is sending these right now
    b = Broadcaster(make_runtime(workers.b, consultation), workers.bot)  # type: ignore[arg-type]
    await b.start()  # worker B starts, and recovers
    b.wake()
    try:
        await eventually(lambda: _sent_to(workers, 37), 10, "worker B sent the rest")
        await asyncio.sleep(1.0)
        assert not await _done(workers), "B closed the job while A's sends were in flight"
        assert {user: status for user, status in (await workers.statuses()).items()
                if user in {c.user_id for c in in_flight}} == dict.fromkeys((c.user_id for c in in_flight), "sending")
        await recipients.record(workers.a, workers.job.id, a, [Outcome(c.user_id, "sent", 1) for c in in_flight])
        await eventually(lambda: _done(workers), 5, "the job finished once A's answers came")
    finally:
        await b.stop()
        await a.close()
    assert set((await workers.statuses()).values()) == {"sent"}
    assert all(workers.bot.to(c.user_id) == 0 for c in in_flight)  # A's to send, not B's
    [report] = workers.reports()
    assert "Sent: 40" in report and "being sent when the bot stopped" not in report


async def test_a_worker_killed_mid_job_has_its_sends_in_flight_counted_unknown_and_never_sent_again(
    workers: Workers, consultation: Consultation
) -> None:
    a = await claimers.open_claimer(workers.a, "a")
    assert isinstance(a, PostgresClaimer)
    in_flight = {c.user_id for c in await recipients.claim(workers.a, workers.job, 3, AT, a)}
    b = Broadcaster(make_runtime(workers.b, consultation), workers.bot)  # type: ignore[arg-type]
    await b.start()
    b.wake()
    try:
        await eventually(lambda: _sent_to(workers, 37), 10, "worker B sent the rest")
        await asyncio.sleep(0.5)
        assert not await _done(workers)
        # kill -9 of worker A, as the server sees it: A's session ends, and its claimer lock with it
        async with workers.b.transaction() as conn:
            await conn.execute("SELECT pg_terminate_backend(?)", (a.backend_pid,))
        await eventually(lambda: _done(workers), SWEEP_SECONDS + 3, "the survivor finished the job")
        await asyncio.sleep(0.5)
    finally:
        await b.stop()
        await a.close()
    status = await workers.statuses()
    assert {user for user, s in status.items() if s == "unknown"} == in_flight
    assert all(workers.bot.to(user) == 0 for user in in_flight)
    assert workers.recipients_sent() == dict.fromkeys(set(status) - in_flight, 1)
    [report] = workers.reports()
    assert "Sent: 37" in report and "3 of the skipped were being sent when the bot stopped" in report


async def test_a_worker_stopped_gracefully_hands_its_unsent_rows_to_the_other(
    workers: Workers, consultation: Consultation
) -> None:
    a, b = (Broadcaster(make_runtime(db, consultation, rate=20), workers.bot)  # type: ignore[arg-type]
            for db in (workers.a, workers.b))
    for broadcaster in (a, b):
        await broadcaster.start()
        broadcaster.wake()
    await asyncio.sleep(0.6)
    await a.stop()  # SIGTERM: sends in flight finish, the rest go back
    assert not await _done(workers)
    await eventually(lambda: _done(workers), 10, "worker B finished the job")
    await b.stop()
    assert workers.recipients_sent() == dict.fromkeys(await workers.statuses(), 1)
    assert set((await workers.statuses()).values()) == {"sent"}
    [report] = workers.reports()
    assert "Sent: 40" in report


async def _done(workers: Workers) -> bool:
    job = await broadcasts.job(workers.a, workers.job.id)
    return job is not None and job.status == "done"


async def _sent_to(workers: Workers, count: int) -> bool:
    return len(workers.recipients_sent()) >= count


async def test_a_worker_whose_claimer_lock_drops_carries_on_under_a_new_name_and_sends_nobody_twice(
    workers: Workers, consultation: Consultation
) -> None:
    a = Broadcaster(make_runtime(workers.a, consultation, rate=20), workers.bot)  # type: ignore[arg-type]
    await a.start()
    a.wake()
    await eventually(lambda: _sent_to(workers, 5), 10, "sending began")
    first = a._claimer
    assert isinstance(first, PostgresClaimer)
    async with workers.b.transaction() as conn:  # the server ends the lock's session; the worker lives on
        await conn.execute("SELECT pg_terminate_backend(?)", (first.backend_pid,))
    await eventually(lambda: _done(workers), 20, "the job finished")
    assert a._claimer is not None and a._claimer.name != first.name
    await a.stop()
    status = await workers.statuses()
    assert max(workers.recipients_sent().values()) == 1
    assert set(workers.recipients_sent()) == {user for user, s in status.items() if s == "sent"}
    assert {s for s in status.values()} <= {"sent", "unknown"}
    [report] = workers.reports()
    assert "Of 40 in all" in report
