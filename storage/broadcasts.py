"""Broadcast jobs in the database: a `broadcasts` row plus one `broadcast_recipients` row per tenant, written in
one transaction before the first send. How recipients are then taken and marked is in storage.recipients.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import audiences, audit, dialect
from storage.database import Database
from storage.timestamps import from_db, to_db


@dataclass(frozen=True)
class Job:
    """One message to many, as stored."""

    id: int
    consultation_id: str
    kind: str
    reminder_id: str | None
    staff_id: int | None
    audience: str
    text: str
    resume_button: bool
    total: int
    status: str
    progress_chat_id: int | None
    progress_message_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Tally:
    """Where a job stands; erased tenants' rows are gone, so they count as skipped."""

    total: int
    sent: int
    blocked: int
    failed: int
    skipped: int
    unknown: int
    waiting: int

    @property
    def skipped_all(self) -> int:
        """Skipped for any reason: opted out, erased or left the audience meanwhile, or in flight at a kill."""
        return self.total - self.sent - self.blocked - self.failed - self.waiting


def _job(row: sqlite3.Row) -> Job:
    """A row as plain data."""
    return Job(
        id=row["id"], consultation_id=row["consultation_id"], kind=row["kind"], reminder_id=row["reminder_id"],
        staff_id=row["staff_id"], audience=row["audience"], text=row["text"],
        resume_button=bool(row["resume_button"]), total=row["total"], status=row["status"],
        progress_chat_id=row["progress_chat_id"], progress_message_id=row["progress_message_id"],
        created_at=from_db(row["created_at"]),
    )


async def audience_count(db: Database, consultation_id: str, audience: str) -> int:
    """The exact number a broadcast to this audience would go to now (what the preview shows)."""
    return await audiences.count(db.reader, consultation_id, audience)


async def _insert_job(
    conn: aiosqlite.Connection, consultation_id: str, kind: str, reminder_id: str | None,
    staff_id: int | None, audience: str, text: str, resume_button: bool, now: datetime,
) -> int:
    """Insert the job and its recipients; returns the job id. Runs inside the caller's transaction."""
    async with conn.execute(
        "INSERT INTO broadcasts (consultation_id, kind, reminder_id, staff_id, audience, text, resume_button, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (consultation_id, kind, reminder_id, staff_id, audience, text, int(resume_button), to_db(now)),
    ) as cursor:
        row = await cursor.fetchone()
        assert row is not None  # RETURNING gives the new row's id
        job_id = int(row[0])
    await conn.execute(
        f"INSERT INTO broadcast_recipients (broadcast_id, user_id) SELECT CAST(? AS BIGINT), user_id FROM "
        f"({audiences.members_sql(audience)}) AS audience",
        (job_id, consultation_id),
    )
    await conn.execute(
        "UPDATE broadcasts SET total = (SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = ?) "
        "WHERE id = ?",
        (job_id, job_id),
    )
    return job_id


async def create_staff_broadcast(
    db: Database, consultation_id: str, staff_id: int, token: str, resume_button: bool, now: datetime,
    progress_message_id: int | None = None,
) -> Job | None:
    """Turn the staff member's previewed draft into a job, in one transaction; None if the draft is gone."""
    async with db.transaction() as conn:
        rows = list(await conn.execute_fetchall(
            "SELECT audience, text FROM broadcast_drafts WHERE staff_id = ? AND token = ? AND step = 'preview'",
            (staff_id, token),
        ))
        if not rows:
            return None
        audience, text = rows[0]["audience"], rows[0]["text"]
        await conn.execute("DELETE FROM broadcast_drafts WHERE staff_id = ?", (staff_id,))
        job_id = await _insert_job(conn, consultation_id, "staff", None, staff_id, audience, text,
                                   resume_button, now)
        if progress_message_id is not None:  # the staff member's private chat has their user id
            await conn.execute("UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
                               (staff_id, progress_message_id, job_id))
        job = await _load(conn, job_id)
        await audit.record(conn, now, staff_id, "broadcast",
                           f"broadcast {job_id} to {audience}: {job.total} recipients", "ok")
    return job


async def create_reminder(
    db: Database, consultation_id: str, reminder_id: str, audience: str, text: str, now: datetime
) -> Job | None:
    """Write a reminder's job; None when this reminder was already sent (it goes out once, ever)."""
    async with db.transaction() as conn:
        await dialect.lock_reminders(conn)  # workers firing the same reminder at once: the second finds it written
        seen = list(await conn.execute_fetchall(
            "SELECT 1 FROM broadcasts WHERE consultation_id = ? AND reminder_id = ?", (consultation_id, reminder_id)
        ))
        if seen:
            return None
        job_id = await _insert_job(conn, consultation_id, "reminder", reminder_id, None, audience, text, True, now)
        job = await _load(conn, job_id)
        await audit.record(conn, now, None, "reminder",
                           f"reminder {reminder_id} (broadcast {job_id}) to {audience}: {job.total} recipients", "ok")
    return job


async def _load(conn: aiosqlite.Connection, job_id: int) -> Job:
    """One job by id."""
    rows = list(await conn.execute_fetchall("SELECT * FROM broadcasts WHERE id = ?", (job_id,)))
    return _job(rows[0])


async def job(db: Database, job_id: int) -> Job | None:
    """One job by id, or None."""
    rows = list(await db.reader.execute_fetchall("SELECT * FROM broadcasts WHERE id = ?", (job_id,)))
    return _job(rows[0]) if rows else None


async def unfinished(db: Database) -> list[Job]:
    """Jobs still sending, oldest first: what the bot picks up again at start-up."""
    rows = await db.reader.execute_fetchall("SELECT * FROM broadcasts WHERE status = 'sending' ORDER BY id")
    return [_job(row) for row in rows]


async def set_progress_message(db: Database, job_id: int, chat_id: int, message_id: int) -> None:
    """Remember the staff member's progress message, so a restarted bot edits the same one."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
                           (chat_id, message_id, job_id))


async def tally(db: Database, job_id: int) -> Tally:
    """Counts by outcome, for the progress message and the final report."""
    return await _tally(db.reader, job_id)


async def _tally(conn: aiosqlite.Connection, job_id: int) -> Tally:
    """tally(), on the given connection (the finishing transaction's, so the audit line and the report agree)."""
    rows = await conn.execute_fetchall(
        "SELECT b.total, r.status, count(r.user_id) AS n FROM broadcasts b "
        "LEFT JOIN broadcast_recipients r ON r.broadcast_id = b.id WHERE b.id = ? GROUP BY b.total, r.status",
        (job_id,),
    )
    counts: dict[str, int] = {}
    total = 0
    for row in rows:
        total = int(row["total"])
        if row["status"] is not None:
            counts[row["status"]] = int(row["n"])
    return Tally(total=total, sent=counts.get("sent", 0), blocked=counts.get("blocked", 0),
                 failed=counts.get("failed", 0), skipped=counts.get("skipped", 0), unknown=counts.get("unknown", 0),
                 waiting=counts.get("pending", 0) + counts.get("sending", 0))


async def finish(db: Database, job_id: int, now: datetime) -> Tally | None:
    """Close the job and audit its outcome (counts only), once, when nobody is left waiting or being sent to.

    None, with nothing written, while any recipient is still pending or at 'sending' (another worker's send in
    flight is recorded by that worker; a dead one's is first given up by recipients.give_up_in_flight), or when
    the job is already closed: of several workers sharing a job, exactly one closes it, audits it and reports.
    """
    async with db.transaction() as conn:
        rows = list(await conn.execute_fetchall(
            "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ? AND status = 'sending' "
            "AND NOT EXISTS (SELECT 1 FROM broadcast_recipients WHERE broadcast_id = ? "
            "AND status IN ('pending', 'sending')) RETURNING staff_id",
            (to_db(now), job_id, job_id)))
        if not rows:
            return None
        result = await _tally(conn, job_id)
        detail = (f"broadcast {job_id} finished: sent {result.sent}, blocked {result.blocked}, "
                  f"failed {result.failed}, skipped {result.skipped_all} (unknown {result.unknown})")
        await audit.record(conn, now, rows[0]["staff_id"], "broadcast_done", detail, "ok")
    return result


async def sent_reminder_ids(db: Database, consultation_id: str) -> set[str]:
    """Reminders already written as jobs for this consultation: they are never sent again."""
    rows = await db.reader.execute_fetchall(
        "SELECT reminder_id FROM broadcasts WHERE consultation_id = ? AND reminder_id IS NOT NULL", (consultation_id,)
    )
    return {str(row["reminder_id"]) for row in rows}


async def reminders_sent(db: Database, consultation_id: str) -> int:
    """Reminder messages Telegram confirmed delivering for this consultation (for /stats)."""
    rows = list(await db.reader.execute_fetchall(
        "SELECT count(*) FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id "
        "WHERE b.consultation_id = ? AND b.kind = 'reminder' AND r.status = 'sent'",
        (consultation_id,),
    ))
    return int(rows[0][0])
