"""The webhook inbox: updates stored (and committed) before Telegram is told 200, then applied in update_id order.

Each row waits in its tenant's queue (tenant_id NULL for updates that belong to no user) until a worker that holds
that tenant has applied it, and then it is deleted: the update's words are not kept twice. Whether an update was
applied is remembered, without its content, in processed_updates, which the steps themselves write; so a
redelivery of an update already applied is not stored again, and one applied but not yet deleted (a crash between
the two) is applied as a no-op the next time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from storage.timestamps import to_db

if TYPE_CHECKING:  # storage.database imports storage.respondents, which erases through this module
    from storage.database import Database


@dataclass(frozen=True)
class InboxUpdate:
    """One stored update, the oldest of its tenant's queue, and how many of theirs are waiting (itself included)."""

    update_id: int
    tenant_id: int | None
    payload: str
    waiting: int


async def store(db: Database, update_id: int, tenant_id: int | None, payload: str, at: datetime) -> bool:
    """Store an update and commit it; False when it is stored already or was applied before (a redelivery)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO update_inbox (update_id, tenant_id, payload, received_at) "
            "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM processed_updates WHERE update_id = ?) "
            "ON CONFLICT DO NOTHING",
            (update_id, tenant_id, payload, to_db(at), update_id),
        )
        return cursor.rowcount == 1


async def pending_tenants(db: Database, limit: int) -> list[int | None]:
    """Tenants with updates waiting, the one waiting longest (lowest update id) first; None for the no-user queue."""
    rows = await db.reader.execute_fetchall(
        "SELECT tenant_id FROM update_inbox GROUP BY tenant_id ORDER BY min(update_id) LIMIT ?", (limit,)
    )
    return [None if row["tenant_id"] is None else int(row["tenant_id"]) for row in rows]


async def next_for(db: Database, tenant_id: int | None) -> InboxUpdate | None:
    """The tenant's waiting update with the lowest id, or None when their queue is empty."""
    where, params = ("tenant_id IS NULL", ()) if tenant_id is None else ("tenant_id = ?", (tenant_id,))
    rows = list(
        await db.reader.execute_fetchall(
            f"SELECT update_id, tenant_id, payload, (SELECT count(*) FROM update_inbox WHERE {where}) AS waiting "
            f"FROM update_inbox WHERE {where} ORDER BY update_id LIMIT 1",
            params * 2,
        )
    )
    if not rows:
        return None
    row = rows[0]
    return InboxUpdate(int(row["update_id"]), tenant_id, str(row["payload"]), int(row["waiting"]))


async def done(db: Database, update_id: int) -> None:
    """The update was applied (or could not be, and never will be): its row and its words go."""
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM update_inbox WHERE update_id = ?", (update_id,))


async def erase_tenant(conn: aiosqlite.Connection, tenant_id: int) -> int:
    """Inside the erasure's write transaction: the tenant's updates still waiting go with everything else."""
    async with conn.execute("DELETE FROM update_inbox WHERE tenant_id = ?", (tenant_id,)) as cursor:
        return int(cursor.rowcount)


async def purge_received_before(db: Database, before: datetime) -> int:
    """Retention: delete updates stored before `before` and never applied (no worker ran for that long, or the
    database kept failing); an answer so old is not worth applying late, and its words must not stay."""
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM update_inbox WHERE received_at < ?", (to_db(before),))
        return int(cursor.rowcount)


async def reachable(db: Database) -> bool:
    """True when the database answers a trivial query (GET /healthz)."""
    try:
        await db.reader.execute_fetchall("SELECT 1")
    except Exception:  # closed, unreachable, restarting: all mean "not healthy", never an error page
        return False
    return True
