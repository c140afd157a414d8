"""Send slots handed out by the database, so several workers together keep to one bulk rate (storage/migrations/
m0007_send_pace.py): each reservation moves the row's next slot on by one interval under the row's lock."""

from __future__ import annotations

from storage import dialect
from storage.database import Database

BULK = "bulk"


async def reserve(db: Database, interval: float, catch_up: float, name: str = BULK) -> float:
    """Take the next send slot; seconds from now until it (0 when it is now). A late caller makes up at most
    `catch_up` seconds of the schedule, so a stall never turns into a burst."""
    async with db.transaction() as conn:
        spelled = dialect.of(conn)
        now = spelled.epoch_now
        rows = list(await conn.execute_fetchall(
            f"UPDATE send_pace SET next_slot = {spelled.greatest('next_slot', 'paused_until', f'{now} - ?')} + ? "
            f"WHERE name = ? RETURNING next_slot - ? - {now}",
            (catch_up, interval, name, interval),
        ))
    return max(0.0, float(rows[0][0])) if rows else 0.0


async def pause(db: Database, seconds: float, name: str = BULK) -> None:
    """Telegram said 'retry after': no worker starts a bulk send until then."""
    async with db.transaction() as conn:
        spelled = dialect.of(conn)
        await conn.execute(
            f"UPDATE send_pace SET paused_until = {spelled.greatest('paused_until', f'{spelled.epoch_now} + ?')} "
            "WHERE name = ?", (seconds, name))
