"""Keeping the file healthy and lawful: integrity checks, checkpoints, online backups and retention purges."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import aiosqlite

from storage.connection import BUSY_TIMEOUT_MS
from storage.records import PurgeReport


async def integrity_check(conn: aiosqlite.Connection) -> str:
    """'ok', or SQLite's list of problems, one per line."""
    rows = await conn.execute_fetchall("PRAGMA integrity_check")
    return "\n".join(str(row[0]) for row in rows)


async def checkpoint(conn: aiosqlite.Connection) -> bool:
    """Copy the WAL into the file and truncate it, so deleted text is not left in old WAL frames."""
    rows = list(await conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
    return int(rows[0][0]) == 0


async def purge(conn: aiosqlite.Connection, consultation_id: str) -> PurgeReport:
    """Inside a write transaction: delete one consultation's responses, then respondents left with nothing."""
    counts = []
    await conn.execute("DELETE FROM alert_flags WHERE consultation_id = ?", (consultation_id,))
    await conn.execute("DELETE FROM themes WHERE consultation_id = ?", (consultation_id,))  # names from answers
    for table in ("transcript", "answers", "conversations"):
        async with conn.execute(f"DELETE FROM {table} WHERE consultation_id = ?", (consultation_id,)) as cursor:
            counts.append(cursor.rowcount)
    await conn.execute(
        "DELETE FROM respondents WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.user_id = respondents.user_id)"
    )
    lines, answers, conversations = counts
    return PurgeReport(respondents=conversations, answers=answers, transcript_lines=lines, due=True)


def _is_live_file(live: Path, dest: Path) -> bool:
    """The database itself or one of its companion files, however the path is spelt."""
    live_resolved, dest_resolved = live.resolve(), dest.resolve()
    companions = {Path(f"{live_resolved}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")}
    if dest_resolved in companions:
        return True
    return dest.exists() and live.exists() and os.path.samefile(live, dest)


def copy_database(live: Path, dest: Path, overwrite: bool = False) -> None:
    """Blocking: a consistent copy through SQLite's backup API, checked, then moved into place atomically."""
    if _is_live_file(live, dest):
        raise ValueError(f"refusing to back up {live} onto itself ({dest}); choose another file")
    if dest.exists() and not overwrite:
        raise FileExistsError(f"{dest} already exists; choose a new file name")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            closing(sqlite3.connect(live, timeout=BUSY_TIMEOUT_MS / 1000)) as source,
            closing(sqlite3.connect(partial, isolation_level=None)) as copy,
        ):
            source.backup(copy)  # all pages in one step: one read snapshot, writers carry on (WAL)
            copy.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
            result = "\n".join(str(row[0]) for row in copy.execute("PRAGMA integrity_check"))
        if result != "ok":
            raise RuntimeError(f"the backup copy failed its integrity check: {result}")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


ERASED_TABLES = ("answers", "transcript", "conversations", "respondents", "alert_flags", "theme_codes",
                 "theme_reviews", "broadcast_recipients")


async def vacuum_erased(pool: Any) -> None:
    """PostgreSQL: reclaim the dead rows an erasure left, so the words are not kept in free space (autocommit)."""
    async with pool.borrowed() as conn:
        await conn.execute(f"VACUUM {', '.join(ERASED_TABLES)}")
