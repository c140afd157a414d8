"""The audit log: who exported, broadcast, erased or was refused, and when; never anyone's answers."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.records import AuditEntry
from storage.timestamps import from_db, to_db


async def record(
    conn: aiosqlite.Connection, at: datetime, actor_id: int | None, action: str, detail: str, outcome: str
) -> None:
    """Append one line; callers pass ids and counts in detail, not text a tenant wrote."""
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, action, detail, outcome) VALUES (?, ?, ?, ?, ?)",
        (to_db(at), actor_id, action, detail, outcome),
    )


async def entries(conn: aiosqlite.Connection, limit: int) -> list[AuditEntry]:
    """The newest lines first."""
    rows = await conn.execute_fetchall("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
    return [
        AuditEntry(row["id"], from_db(row["at"]), row["actor_id"], row["action"], row["detail"], row["outcome"])
        for row in rows
    ]
