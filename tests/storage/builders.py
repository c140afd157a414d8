"""Small helpers that make one engine-like step without the engine, so tests read as behaviour."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from conversations.state import Answer, ConversationState, Stage
from storage import Database, LoadedState, StepRecord, TranscriptLine

AT = datetime(2020, 11, 10, 12, 0, tzinfo=UTC)
CONSULTATION = "test-consultation"
VERSION = "2020-11-04"
PRIVACY = "privacy-1"
REPO_ROOT = Path(__file__).resolve().parents[2]
# A broken constraint, as each backend reports it.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


def run_sql(db: Database, sql: str, postgres_sql: str | None = None) -> list[tuple[object, ...]]:
    """Raw SQL on a connection of its own, as another program would: the test's way round the storage API.
    `postgres_sql` when PostgreSQL spells it differently."""
    if db.path is not None:
        with closing(sqlite3.connect(db.path)) as lite, lite:
            return lite.execute(sql).fetchall()
    with psycopg.connect(db.url, autocommit=True) as conn:
        cursor = conn.execute((postgres_sql or sql).encode())
        return list(cursor.fetchall()) if cursor.description else []


def record(
    user_id: int,
    loaded: LoadedState,
    state: ConversationState,
    changed: dict[str, Answer] | None = None,
    lines: tuple[TranscriptLine, ...] = (),
    update_id: int | None = None,
    consultation_id: str = CONSULTATION,
    at: datetime = AT,
) -> StepRecord:
    """A step record that moves `loaded` to `state`."""
    return StepRecord(
        user_id=user_id,
        consultation_id=consultation_id,
        consultation_version=VERSION,
        privacy_version=PRIVACY,
        update_id=update_id,
        expected_revision=loaded.revision,
        state=state,
        changed=changed or {},
        transcript=lines,
        at=at,
    )


def exchange(text: str, reply: str = "Thank you.", at: datetime = AT) -> tuple[TranscriptLine, ...]:
    """The tenant's message and the bot's reply."""
    return (TranscriptLine("in", text, at), TranscriptLine("out", reply, at))


async def answer(
    db: Database,
    user_id: int,
    question_id: str,
    text: str,
    update_id: int | None = None,
    consultation_id: str = CONSULTATION,
    at: datetime = AT,
) -> bool:
    """Load, answer one question with `text`, save with a matching transcript; what apply_step returned."""
    loaded = await db.load_state(user_id, consultation_id)
    new = Answer(text=text)
    base = loaded.state
    if base.stage is Stage.NEW:
        base = replace(base, stage=Stage.QUESTION, started_at=at, consent_at=at)
    state = base.with_answer(question_id, new)
    step = record(
        user_id, loaded, state, {question_id: new}, exchange(text), update_id, consultation_id=consultation_id, at=at
    )
    return await db.apply_step(step)
