"""Broadcast jobs in the database: exact audiences, written whole, at-most-once, reminders once, erasure wins."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from storage import Database, broadcasts, recipients
from storage import broadcast_drafts as drafts
from storage.audiences import REMINDER_AUDIENCES, STAFF_AUDIENCES
from storage.broadcast_drafts import Draft
from storage.recipients import Outcome
from tests.staff.population import AT, CONSULTATION, Population, populate

COUNTS = {"new": 7, "declined": 5, "agreed_not_started": 11, "part_way": 13, "finished": 17}
STAFF = 900002


@pytest.fixture
def population(db_path: Path) -> Population:
    return populate(db_path, COUNTS, opted_out_every=6, blocked_every=7)


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
    db: Database, db_path: Path, population: Population
) -> None:
    token = await preview(db, "agreed")
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, token, False, AT)
    assert job is not None and job.total == len(population.expected("agreed"))
    with sqlite3.connect(db_path) as conn:
        rows = {r[0] for r in conn.execute("SELECT user_id FROM broadcast_recipients WHERE status = 'pending'")}
        audit = conn.execute("SELECT actor_id, action, detail FROM audit_log").fetchall()
    assert rows == population.expected("agreed")
    assert audit == [(STAFF, "broadcast", f"broadcast {job.id} to agreed: {job.total} recipients")]
    assert await drafts.get(db, STAFF) is None
    # pressing Send twice writes one job
    assert await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, token, False, AT) is None


async def test_recipients_in_flight_at_a_crash_are_not_sent_again(db: Database, population: Population) -> None:
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, await preview(db, "finished"), False, AT)
    assert job is not None
    first = await recipients.claim(db, job, 5, AT)
    await recipients.record(db, job.id, [Outcome(first[0].user_id, "sent", 1)])
    # the process dies here: four rows are left at 'sending'
    assert await recipients.give_up_in_flight(db) == 4
    rest = await recipients.claim(db, job, 1000, AT)
    assert {c.user_id for c in rest}.isdisjoint({c.user_id for c in first})
    await recipients.record(db, job.id, [Outcome(c.user_id, "sent", 1) for c in rest])
    tally = await broadcasts.finish(db, job.id, AT)
    assert (tally.sent, tally.unknown, tally.skipped_all) == (job.total - 4, 4, 4)
    assert await broadcasts.unfinished(db) == []


async def test_a_failed_send_waits_for_its_retry_time(db: Database, population: Population) -> None:
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, await preview(db, "finished"), False, AT)
    assert job is not None
    claimed = await recipients.claim(db, job, 1000, AT)
    later = AT + timedelta(seconds=3)
    outcomes = [Outcome(c.user_id, "pending", 1, later) for c in claimed[:1]]
    outcomes += [Outcome(c.user_id, "sent", 1) for c in claimed[1:]]
    await recipients.record(db, job.id, outcomes)
    assert await recipients.claim(db, job, 10, AT) == []
    assert await recipients.next_try(db, job.id) == later
    again = await recipients.claim(db, job, 10, later)
    assert [(c.user_id, c.attempts) for c in again] == [(claimed[0].user_id, 1)]


async def test_tenants_who_leave_the_audience_after_the_job_is_written_are_skipped(
    db: Database, db_path: Path, population: Population
) -> None:
    job = await broadcasts.create_staff_broadcast(
        db, CONSULTATION, STAFF, await preview(db, "started_not_finished"), True, AT)
    assert job is not None
    members = sorted(population.expected("started_not_finished"))
    opted, blocked, finished, erased = members[:4]
    await db.set_reminders(opted, opted_out=True)
    await db.mark_blocked(blocked, True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE conversations SET submitted_at = consent_at WHERE user_id = ?", (finished,))
    assert await db.erase_respondent(erased)
    claimed = {c.user_id for c in await recipients.claim(db, job, 10_000, AT)}
    assert claimed == set(members) - {opted, blocked, finished, erased}
    tally = await broadcasts.tally(db, job.id)
    assert tally.skipped == 3 and tally.total - tally.skipped_all == len(claimed)  # the erased row is gone


async def test_a_blocked_outcome_marks_the_tenant_unreachable(db: Database, population: Population) -> None:
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, await preview(db, "finished"), False, AT)
    assert job is not None
    [first] = await recipients.claim(db, job, 1, AT)
    await recipients.record(db, job.id, [Outcome(first.user_id, "blocked", 1)])
    respondent = await db.respondent(first.user_id)
    assert respondent is not None and respondent.blocked


async def test_a_reminder_is_written_once_and_counted_when_delivered(db: Database, population: Population) -> None:
    job = await broadcasts.create_reminder(db, CONSULTATION, "one_day", "agreed_not_started", "Please", AT)
    assert job is not None and job.resume_button and job.total == len(population.expected("agreed_not_started"))
    assert await broadcasts.create_reminder(db, CONSULTATION, "one_day", "agreed_not_started", "Please", AT) is None
    assert await broadcasts.sent_reminder_ids(db, CONSULTATION) == {"one_day"}
    claimed = await recipients.claim(db, job, 1000, AT)
    await recipients.record(db, job.id, [Outcome(c.user_id, "sent", 1) for c in claimed[:-1]]
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
