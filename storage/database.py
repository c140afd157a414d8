"""The one object the bot holds: opens the file safely and offers every storage operation as a coroutine."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, cast

import aiosqlite

from storage import alerts, audit, history, maintenance, respondents, steps
from storage.alerts import AlertCount, FlaggedAnswer
from storage.checkpointer import Checkpointer
from storage.connection import Writer, connect, is_transient
from storage.migrate import SchemaTooNewError, migrate
from storage.records import (
    AuditEntry,
    LoadedState,
    PurgeReport,
    Respondent,
    StepRecord,
    StorageUnavailableError,
    StoredAnswer,
    TranscriptLine,
)
from storage.timestamps import utc_now
from storage.urls import is_postgres_url, postgres_url, sqlite_path, without_password

if TYPE_CHECKING:
    from storage.postgres import connection as pg

__all__ = ["Database", "SchemaTooNewError", "sqlite_path"]

log = logging.getLogger(__name__)


class Database:
    """SQLite: one writer connection behind an asyncio lock, one reader that only ever sees committed data.
    PostgreSQL: a pool, a transaction per write and a borrowed connection per read."""

    def __init__(self, path: Path | None, writer: Writer | pg.Pool, reader: aiosqlite.Connection | pg.Reader,
                 checkpointer: Checkpointer | None, url: str = "") -> None:
        self.path = path
        self.url = url
        self.postgres = path is None
        # storage/postgres's Pool, Connection and Reader answer the same calls as Writer and aiosqlite's
        # Connection, so the storage modules are typed (and written) against those once, for both backends.
        self._writer = cast(Writer, writer)
        self._reader = cast(aiosqlite.Connection, reader)
        self._checkpointer = checkpointer

    @property
    def where(self) -> str:
        """The database as it may be named in a message or a log: the file, or the server without its password."""
        return str(self.path) if self.path is not None else without_password(self.url)

    @classmethod
    async def open(cls, url: str) -> Database:
        """Create the folder (SQLite), apply pragmas and migrations; raises SchemaTooNewError for a newer schema."""
        if is_postgres_url(url):
            return await cls._open_postgres(postgres_url(url))
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = Writer(await connect(path), path)
        checkpointer = Checkpointer(path)
        try:
            await migrate(writer, path)
            reader = await connect(path)
            await checkpointer.start()
        except BaseException:
            await checkpointer.close()
            await writer.close()
            raise
        return cls(path, writer, reader, checkpointer, url)

    @classmethod
    async def _open_postgres(cls, url: str) -> Database:
        """A pool to the server, migrated under an advisory lock so several workers can start at once."""
        from storage.postgres import connection as pg  # psycopg is loaded only by those who use it

        pool = pg.Pool(url)
        await pool.open()
        reader = pg.Reader(pool)
        try:
            await migrate(pool, without_password(url), reader=reader)
        except BaseException:
            await pool.close()
            raise
        return cls(None, pool, reader, None, url)

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """A write transaction (BEGIN IMMEDIATE) for storage modules beyond this class; held briefly."""
        return self._writer.transaction()

    @property
    def reader(self) -> aiosqlite.Connection:
        """The shared read connection: for short reads only (the bot's steps read through it too)."""
        return self._reader

    async def open_reader(self) -> aiosqlite.Connection:
        """A connection of its own for a long read (an export), so tenants' steps never queue behind it."""
        if self.path is None:
            from storage.postgres import connection as pg

            return await pg.connect(self.url)  # type: ignore[return-value]  # the same calls, see storage/postgres
        return await connect(self.path)

    async def close(self) -> None:
        """Let a transaction in flight finish, then close the connections."""
        if self._checkpointer is not None:
            await self._checkpointer.close()
        await self._writer.close()
        await self._reader.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ---------------------------------------------------------------- conversations

    async def load_state(self, user_id: int, consultation_id: str) -> LoadedState:
        """The saved state and its revision; a fresh state at revision 0 for someone new (or erased)."""
        try:
            return await steps.load(self._reader, user_id, consultation_id)
        except sqlite3.OperationalError as error:
            if is_transient(error):
                raise StorageUnavailableError(str(error)) from error
            raise

    async def apply_step(self, record: StepRecord) -> bool:
        """Save one step atomically; False (nothing written) for a replayed update; StaleStateError if it moved on."""
        async with self._writer.transaction() as conn:
            return await steps.apply(conn, record)

    async def is_processed(self, update_id: int) -> bool:
        """True when this Telegram update was already applied."""
        return await steps.is_processed(self._reader, update_id)

    async def current_answers(self, user_id: int, consultation_id: str) -> list[StoredAnswer]:
        """The answers that count, with when and under which version of the wording (for /mydata)."""
        return await history.current_answers(self._reader, user_id, consultation_id)

    async def answer_history(self, user_id: int, consultation_id: str) -> list[StoredAnswer]:
        """Every answer ever given, including replaced ones."""
        return await history.answer_history(self._reader, user_id, consultation_id)

    async def transcript(self, user_id: int, consultation_id: str) -> list[TranscriptLine]:
        """Every message in and out, in order."""
        return await history.transcript(self._reader, user_id, consultation_id)

    # ---------------------------------------------------------------- respondents

    async def respondent(self, user_id: int) -> Respondent | None:
        """What is kept about a tenant besides their answers, or None."""
        return await respondents.get(self._reader, user_id)

    async def set_reminders(self, user_id: int, opted_out: bool) -> bool:
        """Record /stop or /reminders; False when the tenant is unknown."""
        async with self._writer.transaction() as conn:
            return await respondents.set_flag(conn, user_id, "reminders_opted_out", opted_out)

    async def mark_blocked(self, user_id: int, blocked: bool) -> bool:
        """Record that the tenant blocked (or unblocked) the bot; False when unknown."""
        async with self._writer.transaction() as conn:
            return await respondents.set_flag(conn, user_id, "blocked", blocked)

    async def erase_respondent(self, user_id: int, actor_id: int | None = None) -> bool:
        """Delete every answer, line and state of a tenant for good; audit names only the old reference."""
        async with self._writer.transaction() as conn:
            reference = await respondents.erase(conn, user_id)
            if reference is not None:
                by = "the tenant" if actor_id is None else "staff"
                detail = f"{reference} erased at the request of {by}"
                await audit.record(conn, utc_now(), actor_id, "erase", detail, "ok")
        if reference is not None:
            await self._scrub_wal()
        return reference is not None

    # ---------------------------------------------------------------- alerts

    async def flagged_answers(self, consultation_id: str, limit: int | None = None) -> list[FlaggedAnswer]:
        """Current answers that matched an alert, newest first: reference, question, alert, words, when."""
        return await alerts.flagged(self._reader, consultation_id, limit)

    async def alert_counts(self, consultation_id: str, alert_ids: tuple[str, ...]) -> tuple[AlertCount, ...]:
        """Per alert (in the order given): flagged current answers and the newest few references."""
        return await alerts.counts(self._reader, consultation_id, alert_ids)

    async def set_alert_messages(self, staff_id: int, consultation_id: str, on: bool, at: datetime) -> bool:
        """/alerts on or off for one staff member, audited in the same transaction; False when nothing changed."""
        async with self._writer.transaction() as conn:
            if on:
                changed = await alerts.subscribe(conn, staff_id, consultation_id, at)
            else:
                changed = await alerts.unsubscribe(conn, staff_id, consultation_id)
            detail = f"{consultation_id}: alert messages {'on' if on else 'off'}" + ("" if changed else " (already)")
            await audit.record(conn, at, staff_id, "alerts", detail, "ok")
        return changed

    async def alert_subscribers(self, consultation_id: str) -> list[int]:
        """The staff ids who sent /alerts on."""
        return await alerts.subscribers(self._reader, consultation_id)

    # ---------------------------------------------------------------- audit

    async def audit(self, actor_id: int | None, action: str, detail: str = "", outcome: str = "ok") -> None:
        """Append an audit line (exports, broadcasts, refused admin attempts); no tenant text in detail."""
        async with self._writer.transaction() as conn:
            await audit.record(conn, utc_now(), actor_id, action, detail, outcome)

    async def audit_entries(self, limit: int = 100) -> list[AuditEntry]:
        """The newest audit lines first."""
        return await audit.entries(self._reader, limit)

    # ---------------------------------------------------------------- maintenance

    async def backup(self, dest: Path, overwrite: bool = False) -> None:
        """A consistent copy while the bot runs; refuses the live file, and an existing file unless overwrite."""
        if self.path is None:
            raise ValueError("a PostgreSQL database is backed up by the server's own tools (pg_dump, or the "
                             "managed service's backups), not by this bot")
        await asyncio.to_thread(maintenance.copy_database, self.path, Path(dest), overwrite)

    async def purge_expired(
        self, consultation_id: str, closes_at: datetime, retention_days: int | None, now: datetime
    ) -> PurgeReport:
        """Delete a consultation's responses once now is past close + retention; otherwise delete nothing."""
        if retention_days is None or now <= closes_at + timedelta(days=retention_days):
            return PurgeReport(0, 0, 0, due=False)
        async with self._writer.transaction() as conn:
            report = await maintenance.purge(conn, consultation_id)
            detail = (
                f"{consultation_id}: {report.respondents} respondents, {report.answers} answers, "
                f"{report.transcript_lines} transcript lines"
            )
            await audit.record(conn, now, None, "purge", detail, "ok")
        await self._scrub_wal()
        return report

    async def integrity_check(self) -> str:
        """'ok' when SQLite finds nothing wrong (PostgreSQL checks its own pages: 'ok' once it answers)."""
        if self.path is None:
            await self._reader.execute_fetchall("SELECT 1")
            return "ok"
        return await maintenance.integrity_check(self._reader)

    async def checkpoint(self) -> bool:
        """Fold the WAL into the file and truncate it; False if a reader elsewhere kept it from finishing."""
        if self.path is None:
            return True  # PostgreSQL manages its own WAL
        return await maintenance.checkpoint(self._reader)

    async def _scrub_wal(self) -> None:
        """After deleting personal data: old WAL frames still hold it until the WAL is truncated. On PostgreSQL the
        deleted rows stay in their pages until VACUUM reclaims them, so the tables that held tenants' words are
        vacuumed now (cheap: the visibility map skips pages with nothing dead)."""
        if self.path is None:
            await maintenance.vacuum_erased(self._writer)
            return
        if not await self.checkpoint():
            log.warning("WAL checkpoint after a deletion did not finish (another reader is active); it will next time")
