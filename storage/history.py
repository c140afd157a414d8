"""What a tenant has said, read back for /mydata, the review and exports."""

from __future__ import annotations

import sqlite3

import aiosqlite

from conversations.state import Answer
from storage.records import StoredAnswer, TranscriptLine
from storage.timestamps import from_db


def _stored(row: sqlite3.Row) -> StoredAnswer:
    """A row of answers as plain data."""
    return StoredAnswer(
        question_id=row["question_id"],
        answer=Answer(choice=row["choice"], text=row["text"], skipped=bool(row["skipped"]),
                      choices=tuple(row["choices"].split(",")) if row["choices"] else (), number=row["number"],
                      shown=bool(row["shown"])),
        answered_at=from_db(row["answered_at"]),
        consultation_version=row["consultation_version"],
        current=bool(row["is_current"]),
    )


async def current_answers(conn: aiosqlite.Connection, user_id: int, consultation_id: str) -> list[StoredAnswer]:
    """The answer that counts for each question, oldest question first."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM answers WHERE user_id = ? AND consultation_id = ? AND is_current = 1 ORDER BY id",
        (user_id, consultation_id),
    )
    return [_stored(row) for row in rows]


async def answer_history(conn: aiosqlite.Connection, user_id: int, consultation_id: str) -> list[StoredAnswer]:
    """Every answer ever given, in the order given; `current` marks the ones that count."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM answers WHERE user_id = ? AND consultation_id = ? ORDER BY id", (user_id, consultation_id)
    )
    return [_stored(row) for row in rows]


async def transcript(conn: aiosqlite.Connection, user_id: int, consultation_id: str) -> list[TranscriptLine]:
    """Every message in and out, in the order stored."""
    rows = await conn.execute_fetchall(
        "SELECT direction, text, at FROM transcript WHERE user_id = ? AND consultation_id = ? ORDER BY id",
        (user_id, consultation_id),
    )
    return [TranscriptLine(row["direction"], row["text"], from_db(row["at"])) for row in rows]
