"""Broadcast jobs in the database: exact audiences, written whole, at-most-once, reminders once, erasure wins; a
job closed once, when nobody is waiting or being sent to. On both backends (tests/staff/conftest.py); the tests of
two live workers at once are PostgreSQL's (with SQLite there is one process per file)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from storage import Database, broadcasts, claimers, recipients
from storage import broadcast_drafts as drafts
from storage.audiences import REMINDER_AUDIENCES, STAFF_AUDIENCES
from storage.broadcast_drafts import Draft
from storage.claimers import ClaimerLost, LocalClaimer, PostgresClaimer
from storage.recipients import Outcome
from tests.staff.population import AT, CONSULTATION, Population, populate_db

COUNTS = {"new": 7, "declined": 5, "agreed_not_started": 11, "part_way": 13, "finished": 17}
STAFF = 900002
Claimer = LocalClaimer | PostgresClaimer


@pytest.fixture
async def population(db: Database) -> Population:
    return await populate_db(db, COUNTS, opted_out_every=6, blocked_every=7)


@pytest.fixture
async def claimer(db: Database) -> AsyncIterator[Claimer]:
    """This process's claimer (on PostgreSQL: a connection holding its lock)."""
    opened = await claimers.open_claimer(db, "test")
    yield opened
    await opened.close()


async def statuses(db: Database, job_id: int) -> dict[int, str]:
    rows = await db.reader.execute_fetchall(
        "SELECT user_id, status FROM broadcast_recipients WHERE broadcast_id = ?", (job_id,))
    return {int(row[0]): str(row[1]) for row in rows}


async def audit_lines(db: Database, action: str) -> list[str]:
    rows = await db.reader.execute_fetchall("SELECT detail FROM audit_log WHERE action = ? ORDER BY id", (action,))
    return [str(row[0]) for row in rows]


async def preview(db: Database, audience: str, text: str = "Hello <b>all</b>") -> str:
    """Walk a staff draft to the preview step, as the handlers do; returns its token."""
    token = "abc123"
    await drafts.save(db, Draft(STAFF, token, "preview", AT, audience=audience, text=text))
    return token


@pytest.mark.parametrize("audience", STAFF_AUDIENCES + REMINDER_AUDIENCES)
async def test_each_audience_counts_exactly_the_reachable_tenants_in_it(
    db: Database, population: Population, audience: str
) -> None:
    expected = population.expected(audience)
    assert expected, "the population should make every audience non-empty"
    assert await broadcasts.audience_count(db, CONSULTATION, audience) == len(expected)


async def test_a_confirmed_draft_becomes_a_job_with_every_recipient_written_before_any_send(
    db: Database, population: Population
) -> None:
    token = await preview(db, "agreed")
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, token, False, AT)
    assert job is not None and job.total == len(population.expected("agreed"))
    rows = {user for user, status in (await statuses(db, job.id)).items() if status == "pending"}
    audit = [tuple(row) for row in await db.reader.execute_fetchall("SELECT actor_id, action, detail FROM audit_log")]
    assert rows == population.expected("agreed")
    assert audit == [(STAFF, "broadcast", f"broadcast {job.id} to agreed: {job.total} recipients")]
    assert await drafts.get(db, STAFF) is None
    # pressing Send twice writes one job
    assert await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, token, False, AT) is None


async def test_recipients_in_flight_at_a_crash_are_not_sent_again(db: Database, population: Population) -> None:
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, await preview(db, "finished"), False, AT)
    assert job is not None
    crashed = await claimers.open_claimer(db, "crashed")
    first = await recipients.claim(db, job, 5, AT, crashed)
    await recipients.record(db, job.id, crashed, [Outcome(first[0].user_id, "sent", 1)])
    await crashed.close()  # the process dies here: four rows are left at 'sending'
    restarted = await claimers.open_claimer(db, "restarted")
    assert restarted.name != crashed.name
    assert await _eventually_given_up(db, restarted) == 4  # as the restarted process does at start-up
    assert await recipients.give_up_in_flight(db, restarted) == 0
    rest = await recipients.claim(db, job, 1000, AT, restarted)
    assert {c.user_id for c in rest}.isdisjoint({c.user_id for c in first})
    await recipients.record(db, job.id, restarted, [Outcome(c.user_id, "sent", 1) for c in rest])
    tally = await broadcasts.finish(db, job.id, AT)
    assert tally is not None
    assert (tally.sent, tally.unknown, tally.skipped_all) == (job.total - 4, 4, 4)
    assert await broadcasts.unfinished(db) == []
    await restarted.close()


async def test_a_job_is_closed_once_and_only_when_nobody_is_waiting_or_being_sent_to(
    db: Database, population: Population, claimer: Claimer
) -> None:
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, await preview(db, "finished"), False, AT)
    assert job is not None
    assert await broadcasts.finish(db, job.id, AT) is None  # everyone still waiting
    claimed = await recipients.claim(db, job, 1000, AT, claimer)
    await recipients.record(db, job.id, claimer, [Outcome(c.user_id, "sent", 1) for c in claimed[1:]])
    assert await recipients.in_flight(db, job.id) == 1
    assert await recipients.give_up_in_flight(db, claimer, job.id) == 0  # this process's own send in flight
    assert await broadcasts.finish(db, job.id, AT) is None  # one still being sent
    assert [j.id for j in await broadcasts.unfinished(db)] == [job.id]
    await recipients.record(db, job.id, claimer, [Outcome(claimed[0].user_id, "sent", 1)])
    tally = await broadcasts.finish(db, job.id, AT)
    assert tally is not None and (tally.sent, tally.unknown, tally.waiting) == (job.total, 0, 0)
    assert await broadcasts.finish(db, job.id, AT) is None  # a second worker finding it done: no second report
    assert await audit_lines(db, "broadcast_done") == [
        f"broadcast {job.id} finished: sent {job.total}, blocked 0, failed 0, skipped 0 (unknown 0)"]


async def test_a_failed_send_waits_for_its_retry_time(db: Database, population: Population, claimer: Claimer) -> None:
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, await preview(db, "finished"), False, AT)
    assert job is not None
    claimed = await recipients.claim(db, job, 1000, AT, claimer)
    later = AT + timedelta(seconds=3)
    outcomes = [Outcome(c.user_id, "pending", 1, later) for c in claimed[:1]]
    outcomes += [Outcome(c.user_id, "sent", 1) for c in claimed[1:]]
    await recipients.record(db, job.id, claimer, outcomes)
    assert await recipients.claim(db, job, 10, AT, claimer) == []
    assert await recipients.next_try(db, job.id) == later
    again = await recipients.claim(db, job, 10, later, claimer)
    assert [(c.user_id, c.attempts) for c in again] == [(claimed[0].user_id, 1)]


async def test_tenants_who_leave_the_audience_after_the_job_is_written_are_skipped(
    db: Database, population: Population, claimer: Claimer
) -> None:
    job = await broadcasts.create_staff_broadcast(
        db, CONSULTATION, STAFF, await preview(db, "started_not_finished"), True, AT)
    assert job is not None
    members = sorted(population.expected("started_not_finished"))
    opted, blocked, finished, erased = members[:4]
    await db.set_reminders(opted, opted_out=True)
    await db.mark_blocked(blocked, True)
    async with db.transaction() as conn:
        await conn.execute("UPDATE conversations SET submitted_at = consent_at WHERE user_id = ?", (finished,))
    assert await db.erase_respondent(erased)
    claimed = {c.user_id for c in await recipients.claim(db, job, 10_000, AT, claimer)}
    assert claimed == set(members) - {opted, blocked, finished, erased}
    tally = await broadcasts.tally(db, job.id)
    assert tally.skipped == 3 and tally.total - tally.skipped_all == len(claimed)  # the erased row is gone


async def test_a_blocked_outcome_marks_the_tenant_unreachable(
    db: Database, population: Population, claimer: Claimer
) -> None:
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, await preview(db, "finished"), False, AT)
    assert job is not None
    [first] = await recipients.claim(db, job, 1, AT, claimer)
    await recipients.record(db, job.id, claimer, [Outcome(first.user_id, "blocked", 1)])
    respondent = await db.respondent(first.user_id)
    assert respondent is not None and respondent.blocked


async def test_a_reminder_is_written_once_and_counted_when_delivered(
    db: Database, population: Population, claimer: Claimer
) -> None:
    job = await broadcasts.create_reminder(db, CONSULTATION, "one_day", "agreed_not_started", "Please", AT)
    assert job is not None and job.resume_button and job.total == len(population.expected("agreed_not_started"))
    assert await broadcasts.create_reminder(db, CONSULTATION, "one_day", "agreed_not_started", "Please", AT) is None
    assert await broadcasts.sent_reminder_ids(db, CONSULTATION) == {"one_day"}
    claimed = await recipients.claim(db, job, 1000, AT, claimer)
    await recipients.record(db, job.id, claimer, [Outcome(c.user_id, "sent", 1) for c in claimed[:-1]]
                            + [Outcome(claimed[-1].user_id, "failed", 3)])
    assert await broadcasts.reminders_sent(db, CONSULTATION) == len(claimed) - 1
    assert await broadcasts.reminders_sent(db, "another-consultation") == 0


async def test_a_draft_moves_on_only_from_the_step_it_is_at(db: Database) -> None:
    draft = Draft(STAFF, "t1", "audience", AT)
    await drafts.save(db, draft)
    composing = Draft(STAFF, "t1", "compose", AT, audience="finished")
    assert await drafts.advance(db, composing, "audience")
    assert not await drafts.advance(db, composing, "audience")  # a double tap
    assert not await drafts.discard(db, STAFF, "other-token")
    assert await drafts.discard(db, STAFF, "t1")
    assert await drafts.get(db, STAFF) is None


# ------------------------------------------------------------------ two live workers on one PostgreSQL


@pytest.mark.postgres
async def test_another_live_workers_sends_in_flight_survive_a_worker_starting_and_are_recorded_as_sent(
    postgres_url: str
) -> None:
    worker_a, worker_b = await Database.open(postgres_url), await Database.open(postgres_url)
    a = b = None
    try:
        await populate_db(worker_a, COUNTS)
        job = await broadcasts.create_staff_broadcast(
            worker_a, CONSULTATION, STAFF, await preview(worker_a, "finished"), False, AT)
        assert job is not None
        a = await claimers.open_claimer(worker_a, "a")
        in_flight = await recipients.claim(worker_a, job, 4, AT, a)  # worker A is sending these right now
        b = await claimers.open_claimer(worker_b, "b")  # worker B starts
        assert await recipients.give_up_in_flight(worker_b, b) == 0
        rest = await recipients.claim(worker_b, job, 1000, AT, b)
        assert {c.user_id for c in rest}.isdisjoint({c.user_id for c in in_flight})
        await recipients.record(worker_b, job.id, b, [Outcome(c.user_id, "sent", 1) for c in rest])
        assert await recipients.give_up_in_flight(worker_b, b, job.id) == 0  # B, with nothing left, looks again
        assert await broadcasts.finish(worker_b, job.id, AT) is None  # and leaves the job open for A's sends
        await recipients.record(worker_a, job.id, a, [Outcome(c.user_id, "sent", 1) for c in in_flight])
        tally = await broadcasts.finish(worker_b, job.id, AT)
        assert tally is not None and (tally.sent, tally.unknown) == (job.total, 0)
        assert set((await statuses(worker_a, job.id)).values()) == {"sent"}
    finally:
        for claimer in (a, b):
            if claimer is not None:
                await claimer.close()
        await worker_a.close()
        await worker_b.close()


@pytest.mark.postgres
async def test_a_dead_workers_sends_in_flight_become_unknown_and_are_never_sent_again(postgres_url: str) -> None:
    worker_a, worker_b = await Database.open(postgres_url), await Database.open(postgres_url)
    a = b = None
    try:
        await populate_db(worker_a, COUNTS)
        job = await broadcasts.create_staff_broadcast(
            worker_a, CONSULTATION, STAFF, await preview(worker_a, "finished"), False, AT)
        assert job is not None
        a = await claimers.open_claimer(worker_a, "a")
        b = await claimers.open_claimer(worker_b, "b")
        assert isinstance(a, PostgresClaimer)
        in_flight = {c.user_id for c in await recipients.claim(worker_a, job, 4, AT, a)}
        assert await recipients.give_up_in_flight(worker_b, b, job.id) == 0  # A is alive
        # A is killed -9: the server ends its session, and with it the claimer's lock
        async with worker_b.transaction() as conn:
            await conn.execute("SELECT pg_terminate_backend(?)", (a.backend_pid,))
        assert await _eventually_given_up(worker_b, b, job.id) == 4
        status = await statuses(worker_b, job.id)
        assert {user: status[user] for user in in_flight} == dict.fromkeys(in_flight, "unknown")
        rest = await recipients.claim(worker_b, job, 1000, AT, b)
        assert in_flight.isdisjoint(c.user_id for c in rest)  # never sent again
        await recipients.record(worker_b, job.id, b, [Outcome(c.user_id, "sent", 1) for c in rest])
        # what A's answers would have said cannot overwrite the outcome, and A may claim no more
        await recipients.record(worker_a, job.id, a, [Outcome(user, "sent", 1) for user in in_flight])
        assert {(await statuses(worker_b, job.id))[user] for user in in_flight} == {"unknown"}
        with pytest.raises(ClaimerLost):
            await recipients.claim(worker_a, job, 1000, AT, a)
        tally = await broadcasts.finish(worker_b, job.id, AT)
        assert tally is not None and (tally.sent, tally.unknown) == (job.total - 4, 4)
    finally:
        for claimer in (a, b):
            if claimer is not None:
                await claimer.close()
        await worker_a.close()
        await worker_b.close()


async def _eventually_given_up(db: Database, claimer: Claimer, job_id: int | None = None, seconds: float = 5.0) -> int:
    """PostgreSQL ends a closed or terminated session, and its locks, a moment after the call returns."""
    async with asyncio.timeout(seconds):
        while not (given_up := await recipients.give_up_in_flight(db, claimer, job_id)):
            await asyncio.sleep(0.05)
    return given_up


@pytest.mark.postgres
async def test_each_running_worker_has_a_claimer_name_of_its_own(postgres_url: str) -> None:
    db = await Database.open(postgres_url)
    opened = [await claimers.open_claimer(db, "w1") for _ in range(3)]
    try:
        names = {claimer.name for claimer in opened}
        assert len(names) == 3 and all(name.startswith("w1/") for name in names)
        assert [await opened[0].alive(db, claimer.name) for claimer in opened] == [True, True, True]
        await opened[2].close()  # the server ends the session (and its lock) a moment after the client hangs up
        async with asyncio.timeout(5):
            while await opened[0].alive(db, opened[2].name):
                await asyncio.sleep(0.02)
        assert not await opened[0].alive(db, None)  # a row claimed before claimers were recorded
    finally:
        for claimer in opened[:2]:
            await claimer.close()
        await db.close()
