"""`consultation-bot backup` and `purge`: the data-protection chores, safe to run while the bot is live."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.consultation_source import consultation_for
from bot.settings import Settings
from conversations.screens.timefmt import local_time
from storage import Database


def check_copy(path: Path) -> str:
    """PRAGMA integrity_check on a finished backup, read-only."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as copy:
        return str(copy.execute("PRAGMA integrity_check").fetchone()[0])


async def backup(settings: Settings, dest: Path, overwrite: bool) -> str:
    """Copy the live database consistently and prove the copy is sound."""
    database = await Database.open(settings.database_url)
    try:
        await database.backup(dest, overwrite=overwrite)
        await database.audit(None, "backup", str(dest))
    finally:
        await database.close()
    result = check_copy(dest)
    return f"Backup written to {dest} ({dest.stat().st_size:,} bytes); integrity check: {result}"


async def purge(settings: Settings, now: datetime | None = None) -> str:
    """Delete everything past the consultation's retention period, and say what went."""
    consultation = consultation_for(settings)
    now = now or datetime.now(UTC)
    if consultation.retention_days is None:
        return "This consultation sets no retention period (retention_days_after_close), so nothing was deleted."
    database = await Database.open(settings.database_url)
    try:
        report = await database.purge_expired(consultation.id, consultation.closes_at, consultation.retention_days, now)
    finally:
        await database.close()
    due = consultation.closes_at + timedelta(days=consultation.retention_days)
    if not report.due:
        return f"Nothing to purge yet: responses are kept until {local_time(due, consultation.timezone)}."
    return (
        f"Purged '{consultation.id}' (kept until {local_time(due, consultation.timezone)}): deleted "
        f"{report.respondents} respondents, {report.answers} answers and {report.transcript_lines} transcript lines."
    )
