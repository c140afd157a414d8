"""A big generated database in seconds: the real schema (via Database.open), then bulk inserts with sqlite3."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import Database

CONSULTATION = "connexus-procurement-2020"
VERSION = "2020-11-04"
START = datetime(2020, 11, 4, 9, 30, tzinfo=UTC)
BATCH = 10_000
WORDS = "Please fix repairs faster, and use local firms who know our estates."


def stamp(moment: datetime) -> str:
    """The fixed-width UTC text storage.timestamps writes."""
    return moment.isoformat(timespec="microseconds")


def people(count: int) -> Iterator[tuple[int, str, str, bool]]:
    """(user id, reference, agreed-at, finished?) for each generated respondent, spread over 26 days."""
    for index in range(count):
        at = START + timedelta(seconds=index * 26 * 24 * 3600 // max(count, 1))
        yield 10_000_000 + index, f"R-{index:06d}", stamp(at), index % 4 != 0


def _batches(count: int) -> Iterator[list[tuple[int, str, str, bool]]]:
    batch: list[tuple[int, str, str, bool]] = []
    for person in people(count):
        batch.append(person)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(conn: sqlite3.Connection, batch: list[tuple[int, str, str, bool]]) -> None:
    """One batch of respondents with their conversation, five answers and four transcript lines each."""
    conn.executemany(
        "INSERT INTO respondents (user_id, reference, first_seen, source, consent_given_at) VALUES (?, ?, ?, ?, ?)",
        [(uid, ref, at, "poster" if uid % 3 else None, at) for uid, ref, at, _ in batch])
    conn.executemany(
        "INSERT INTO conversations (user_id, consultation_id, revision, state, stage, consultation_version, "
        "started_at, consent_at, submitted_at, updated_at) VALUES (?, ?, 1, '{}', ?, ?, ?, ?, ?, ?)",
        [(uid, CONSULTATION, "submitted" if done else "question", VERSION, at, at, at if done else None, at)
         for uid, _, at, done in batch])
    answers = []
    for uid, *_ in batch:
        answers += [
            (uid, "q1_general", None, f"{WORDS}({uid})", 0),
            (uid, "q2_local_suppliers", ("agree", "disagree", "not_sure")[uid % 3], WORDS if uid % 2 else None, 0),
            (uid, "q3_cost_quality", None, WORDS[:60], 0),
            (uid, "q4_environment", ("agree", "not_sure")[uid % 2], None, 0),
            (uid, "q5_other", None, None, 1),
        ]
    conn.executemany(
        "INSERT INTO answers (user_id, consultation_id, question_id, choice, text, skipped, answered_at, "
        "consultation_version, is_current) VALUES (?, '" + CONSULTATION + "', ?, ?, ?, ?, '" + stamp(START)
        + "', '" + VERSION + "', 1)", answers)
    conn.executemany(
        "INSERT INTO transcript (user_id, consultation_id, direction, text, at) VALUES (?, ?, ?, ?, ?)",
        [(uid, CONSULTATION, "in" if line % 2 else "out", WORDS, at) for uid, _, at, _ in batch for line in range(4)])


def build_big_database(path: Path, count: int) -> None:
    """The schema from the real migrations, then `count` respondents in bulk (no WAL fsyncs while building)."""

    async def schema() -> None:
        await (await Database.open(f"sqlite:///{path}")).close()

    asyncio.run(schema())
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = OFF")  # a throwaway file: no WAL to write twice, no fsyncs
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("BEGIN")
        indexes = [row[0] for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('answers', 'transcript')")]
        for name, in list(conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                       "AND tbl_name IN ('answers', 'transcript')")):
            conn.execute(f"DROP INDEX {name}")  # built once at the end: sorting beats a million index inserts
        for batch in _batches(count):
            _insert(conn, batch)
        for sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
