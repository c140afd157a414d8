"""A staff member's /broadcast in progress, kept in the database so a restart mid-flow loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Database
from storage.timestamps import from_db, to_db

STEPS = ("audience", "compose", "preview")


@dataclass(frozen=True)
class Draft:
    """Where one staff member's broadcast has got to: choosing whom, typing the message, or the preview."""

    staff_id: int
    token: str
    step: str
    updated_at: datetime
    audience: str | None = None
    text: str | None = None


async def get(db: Database, staff_id: int) -> Draft | None:
    """The staff member's draft, if they have one open."""
    rows = list(await db.reader.execute_fetchall("SELECT * FROM broadcast_drafts WHERE staff_id = ?", (staff_id,)))
    if not rows:
        return None
    row = rows[0]
    return Draft(staff_id=row["staff_id"], token=row["token"], step=row["step"],
                 updated_at=from_db(row["updated_at"]), audience=row["audience"], text=row["text"])


async def save(db: Database, draft: Draft) -> None:
    """Start a draft or move it on a step (one draft per staff member: a new /broadcast replaces the old)."""
    if draft.step not in STEPS:
        raise ValueError(f"not a draft step: {draft.step}")
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO broadcast_drafts (staff_id, token, step, audience, text, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (staff_id) DO UPDATE SET token = excluded.token, "
            "step = excluded.step, audience = excluded.audience, text = excluded.text, "
            "updated_at = excluded.updated_at",
            (draft.staff_id, draft.token, draft.step, draft.audience, draft.text, to_db(draft.updated_at)),
        )


async def advance(db: Database, draft: Draft, expected_step: str) -> bool:
    """Move a draft on only if it is still at `expected_step` with the same token (a double tap does nothing)."""
    async with db.transaction() as conn, conn.execute(
        "UPDATE broadcast_drafts SET step = ?, audience = ?, text = ?, updated_at = ? "
        "WHERE staff_id = ? AND token = ? AND step = ?",
        (draft.step, draft.audience, draft.text, to_db(draft.updated_at), draft.staff_id, draft.token,
         expected_step),
    ) as cursor:
        return cursor.rowcount == 1


async def discard(db: Database, staff_id: int, token: str | None = None) -> bool:
    """Drop the draft (only the one with this token, when given); False when there was none."""
    async with db.transaction() as conn:
        if token is None:
            cursor = await conn.execute("DELETE FROM broadcast_drafts WHERE staff_id = ?", (staff_id,))
        else:
            cursor = await conn.execute("DELETE FROM broadcast_drafts WHERE staff_id = ? AND token = ?",
                                        (staff_id, token))
        deleted = cursor.rowcount
        await cursor.close()
    return deleted > 0
