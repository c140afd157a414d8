"""Once-only handling for updates that change no conversation (a /mydata, a sticker, a refusal)."""

from __future__ import annotations

from storage.database import Database
from storage.timestamps import to_db, utc_now


async def claim_update(db: Database, update_id: int) -> bool:
    """Record an update id; False when it was recorded before (a re-delivery to ignore)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (update_id, to_db(utc_now())),
        )
        return cursor.rowcount == 1
