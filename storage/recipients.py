"""Recipients of a broadcast job, taken a chunk at a time and marked as Telegram answers.

A recipient moves pending -> sending (committed before the send) -> sent | blocked | failed | unknown, or back to
pending with a retry time. Rows left at 'sending' by a killed process are never sent again: at start-up they become
'unknown' (at-most-once: nobody gets a message twice, at the cost of perhaps missing one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from storage import audiences, dialect
from storage.broadcasts import Job
from storage.database import Database
from storage.timestamps import from_db, to_db


@dataclass(frozen=True)
class Claimed:
    """A recipient taken for sending now, with how many failed tries it has behind it."""

    user_id: int
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What happened to one send; `status` 'pending' puts it back for another try at `not_before`."""

    user_id: int
    status: str
    attempts: int
    not_before: datetime | None = None


async def give_up_in_flight(db: Database) -> int:
    """At start-up: sends that were in flight when the process died are not repeated (at-most-once)."""
    rows = list(await db.reader.execute_fetchall("SELECT 1 FROM broadcast_recipients WHERE status = 'sending' LIMIT 1"))
    if not rows:  # the usual case: no write at all, so a read-only database still starts
        return 0
    async with db.transaction() as conn, conn.execute(
        "UPDATE broadcast_recipients SET status = 'unknown' WHERE status = 'sending'"
    ) as cursor:
        return cursor.rowcount


async def claim(db: Database, job: Job, limit: int, now: datetime, settle: list[Outcome] | None = None
                ) -> list[Claimed]:
    """Take up to `limit` due recipients and mark them 'sending' in a committed write, before any send.

    Outcomes of the previous sends (`settle`) are stored in the same transaction. Anyone who since opted out,
    blocked the bot or left the audience (e.g. finished) is skipped instead of claimed.
    """
    async with db.transaction() as conn:
        await _record(conn, job.id, settle or [])
        rows = list(await conn.execute_fetchall(
            "SELECT r.user_id, r.attempts, "
            f"(c.user_id IS NOT NULL AND {audiences.REACHABLE} AND ({audiences.predicate(job.audience)})) AS ok "
            "FROM broadcast_recipients r JOIN respondents p ON p.user_id = r.user_id "
            "LEFT JOIN conversations c ON c.user_id = r.user_id AND c.consultation_id = ? "
            "WHERE r.broadcast_id = ? AND r.status = 'pending' AND r.not_before <= ? "
            "ORDER BY r.not_before, r.user_id LIMIT ?" + dialect.of(conn).claim("r"),
            (job.consultation_id, job.id, to_db(now), limit),
        ))
        taken = [Claimed(row["user_id"], row["attempts"]) for row in rows if row["ok"]]
        dropped = [row["user_id"] for row in rows if not row["ok"]]
        await conn.executemany(
            "UPDATE broadcast_recipients SET status = 'sending' WHERE broadcast_id = ? AND user_id = ?",
            [(job.id, c.user_id) for c in taken],
        )
        await conn.executemany(
            "UPDATE broadcast_recipients SET status = 'skipped' WHERE broadcast_id = ? AND user_id = ?",
            [(job.id, user_id) for user_id in dropped],
        )
    return taken


async def record(db: Database, job_id: int, outcomes: list[Outcome]) -> None:
    """Store what Telegram said for each send, in one transaction; a 'blocked' tenant is marked unreachable."""
    if outcomes:
        async with db.transaction() as conn:
            await _record(conn, job_id, outcomes)


async def _record(conn: aiosqlite.Connection, job_id: int, outcomes: list[Outcome]) -> None:
    """record(), inside the caller's transaction."""
    await conn.executemany(
        "UPDATE broadcast_recipients SET status = ?, attempts = ?, not_before = ? "
        "WHERE broadcast_id = ? AND user_id = ? AND status = 'sending'",
        [(o.status, o.attempts, to_db(o.not_before) if o.not_before else dialect.of(conn).at_once, job_id, o.user_id)
         for o in outcomes],
    )
    await conn.executemany(
        "UPDATE respondents SET blocked = 1 WHERE user_id = ?",
        [(o.user_id,) for o in outcomes if o.status == "blocked"],
    )


async def next_try(db: Database, job_id: int) -> datetime | None:
    """When the earliest recipient still waiting is due (None when nobody is waiting: the job is done)."""
    rows = list(await db.reader.execute_fetchall(
        "SELECT min(not_before) AS due, count(*) AS waiting FROM broadcast_recipients "
        "WHERE broadcast_id = ? AND status = 'pending'",
        (job_id,),
    ))
    if not rows or not rows[0]["waiting"]:
        return None
    due = rows[0]["due"]
    return from_db(due) if due else datetime.min.replace(tzinfo=UTC)
