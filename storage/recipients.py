"""Recipients of a broadcast job, taken a chunk at a time and marked as Telegram answers.

A recipient moves pending -> sending (committed before the send, with the claimer's name) -> sent | blocked | failed
| unknown, or back to pending with a retry time. A row at 'sending' is its claimer's alone to settle. Rows left at
'sending' by a claimer that is dead (storage/claimers.py: a killed process) are never sent again: they become
'unknown' (at-most-once: nobody gets a message twice, at the cost of perhaps missing one), at start-up and whenever
a worker looks while a job goes out. A live claimer's rows, another worker's sends in flight, are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from storage import audiences, dialect
from storage.broadcasts import Job
from storage.claimers import Claimer
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


# Rows at 'sending' in jobs still going out, by claimer; a finished job has none (broadcasts.finish waits for them).
IN_FLIGHT = "status = 'sending' AND broadcast_id IN (SELECT id FROM broadcasts WHERE status = 'sending')"


async def give_up_in_flight(db: Database, claimer: Claimer, job_id: int | None = None) -> int:
    """Sends in flight in a process that has since died are not repeated (at-most-once): their rows become 'unknown'.

    Only rows whose claimer is dead: another live worker's sends in flight are its own to record. At start-up for
    every job still going out; while a job goes out, for that job (`job_id`). Nothing is written when nothing is
    found, so a read-only database still starts.
    """
    where = IN_FLIGHT + ("" if job_id is None else " AND broadcast_id = ?")
    params: tuple[object, ...] = () if job_id is None else (job_id,)
    names = [row[0] for row in await db.reader.execute_fetchall(
        f"SELECT DISTINCT claimed_by FROM broadcast_recipients WHERE {where}", params)]
    dead = [name for name in names if not await claimer.alive(db, name)]
    if not dead:  # the usual case: nothing in flight, or only live claimers' sends
        return 0
    given_up = 0
    async with db.transaction() as conn:
        for name in dead:  # a dead claimer never comes back (names are never reused), so its rows are still its own
            whose = "claimed_by IS NULL" if name is None else "claimed_by = ?"
            async with conn.execute(f"UPDATE broadcast_recipients SET status = 'unknown' WHERE {where} AND {whose}",
                                    params + (() if name is None else (name,))) as cursor:
                given_up += cursor.rowcount
    return given_up


async def in_flight(db: Database, job_id: int) -> int:
    """Rows of the job at 'sending' (by any claimer): the job is not finished while there are any."""
    rows = list(await db.reader.execute_fetchall(
        "SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = ? AND status = 'sending'", (job_id,)))
    return int(rows[0][0])


async def claim(db: Database, job: Job, limit: int, now: datetime, claimer: Claimer,
                settle: list[Outcome] | None = None) -> list[Claimed]:
    """Take up to `limit` due recipients and mark them 'sending' by `claimer` in a committed write, before any send.

    Outcomes of the previous sends (`settle`) are stored in the same transaction. Anyone who since opted out,
    blocked the bot or left the audience (e.g. finished) is skipped instead of claimed. Raises ClaimerLost (and
    writes nothing) when the others may already count this claimer dead.
    """
    async with db.transaction() as conn:
        await claimer.confirm(conn)
        await _record(conn, job.id, claimer, settle or [])
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
            "UPDATE broadcast_recipients SET status = 'sending', claimed_by = ? WHERE broadcast_id = ? AND user_id = ?",
            [(claimer.name, job.id, c.user_id) for c in taken],
        )
        await conn.executemany(
            "UPDATE broadcast_recipients SET status = 'skipped' WHERE broadcast_id = ? AND user_id = ?",
            [(job.id, user_id) for user_id in dropped],
        )
    return taken


async def record(db: Database, job_id: int, claimer: Claimer, outcomes: list[Outcome]) -> None:
    """Store what Telegram said for each of this claimer's sends, in one transaction; a 'blocked' tenant is marked
    unreachable. A row no longer this claimer's at 'sending' (given up while the claimer was counted dead) stays as
    it is: it was settled as unknown, and is never sent again."""
    if outcomes:
        async with db.transaction() as conn:
            await _record(conn, job_id, claimer, outcomes)


async def _record(conn: aiosqlite.Connection, job_id: int, claimer: Claimer, outcomes: list[Outcome]) -> None:
    """record(), inside the caller's transaction."""
    await conn.executemany(
        "UPDATE broadcast_recipients SET status = ?, attempts = ?, not_before = ? "
        "WHERE broadcast_id = ? AND user_id = ? AND status = 'sending' AND claimed_by = ?",
        [(o.status, o.attempts, to_db(o.not_before) if o.not_before else dialect.of(conn).at_once, job_id, o.user_id,
          claimer.name) for o in outcomes],
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
