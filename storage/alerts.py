"""Answers flagged by the consultation's [[alerts]], and the staff who asked to be told of them.

Flags are written with their answer (storage/steps.py); these functions read them. Only current answers of those
who agreed count, as in every figure (storage/stats.py): an answer changed since keeps its old flags as history only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timestamps import from_db, to_db

NEWEST_REFERENCES = 3  # how many references /stats shows per alert

_CURRENT = (
    "FROM alert_flags f JOIN answers a ON a.id = f.answer_id AND a.is_current = 1 "
    "JOIN conversations c ON c.user_id = a.user_id AND c.consultation_id = a.consultation_id "
    "AND c.consent_at IS NOT NULL "
)


@dataclass(frozen=True)
class FlaggedAnswer:
    """One current answer that matched one alert: who by reference (never the Telegram id), where, and the words."""

    reference: str
    question_id: str
    alert_id: str
    text: str
    flagged_at: datetime


@dataclass(frozen=True)
class AlertCount:
    """How many current answers one alert flagged, and the references of the newest few, newest first."""

    alert_id: str
    answers: int
    newest: tuple[str, ...] = ()


async def flagged(conn: aiosqlite.Connection, consultation_id: str, limit: int | None = None
                  ) -> list[FlaggedAnswer]:
    """The flagged current answers, newest first (one per answer and alert it matched)."""
    rows = await conn.execute_fetchall(
        "SELECT r.reference, f.question_id, f.alert_id, coalesce(a.text, '') AS text, f.flagged_at "
        + _CURRENT + "JOIN respondents r ON r.user_id = a.user_id WHERE f.consultation_id = ? "
        "ORDER BY f.flagged_at DESC, f.answer_id DESC, f.alert_id LIMIT ?",
        (consultation_id, 2**62 if limit is None else limit))  # no bound: both backends take a huge one
    return [FlaggedAnswer(str(row["reference"]), str(row["question_id"]), str(row["alert_id"]), str(row["text"]),
                          from_db(row["flagged_at"])) for row in rows]


async def counts(conn: aiosqlite.Connection, consultation_id: str, alert_ids: tuple[str, ...],
                 newest: int = NEWEST_REFERENCES) -> tuple[AlertCount, ...]:
    """Per alert, in the order given (the file's): flagged current answers and the newest references (each once)."""
    rows = await conn.execute_fetchall(
        "SELECT alert_id, answers, reference FROM ("
        "SELECT f.alert_id, r.reference, count(*) OVER (PARTITION BY f.alert_id) AS answers, "
        "row_number() OVER (PARTITION BY f.alert_id ORDER BY f.flagged_at DESC, f.answer_id DESC) AS place "
        + _CURRENT + "JOIN respondents r ON r.user_id = a.user_id WHERE f.consultation_id = ?"
        ") AS ranked ORDER BY alert_id, place", (consultation_id,))
    totals: dict[str, int] = {}
    references: dict[str, list[str]] = {}
    for row in rows:
        alert_id = str(row["alert_id"])
        totals[alert_id] = int(row["answers"])
        seen = references.setdefault(alert_id, [])
        if len(seen) < newest and row["reference"] not in seen:
            seen.append(str(row["reference"]))
    return tuple(AlertCount(a, totals.get(a, 0), tuple(references.get(a, ()))) for a in alert_ids)


async def subscribe(conn: aiosqlite.Connection, staff_id: int, consultation_id: str, at: datetime) -> bool:
    """Inside a write transaction: this staff member will be told of new flags; False if they already were."""
    async with conn.execute(
        "INSERT INTO alert_subscribers (staff_id, consultation_id, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (staff_id, consultation_id, to_db(at)),
    ) as cursor:
        return cursor.rowcount > 0


async def unsubscribe(conn: aiosqlite.Connection, staff_id: int, consultation_id: str) -> bool:
    """Inside a write transaction: no more alert messages; False if they were not getting them."""
    async with conn.execute(
        "DELETE FROM alert_subscribers WHERE staff_id = ? AND consultation_id = ?", (staff_id, consultation_id),
    ) as cursor:
        return cursor.rowcount > 0


async def subscribers(conn: aiosqlite.Connection, consultation_id: str) -> list[int]:
    """The staff ids who asked to be told, in id order."""
    rows = await conn.execute_fetchall(
        "SELECT staff_id FROM alert_subscribers WHERE consultation_id = ? ORDER BY staff_id", (consultation_id,))
    return [int(row["staff_id"]) for row in rows]
