"""The export's reads: one snapshot, rows streamed in chunks, one respondent in memory at a time.

Only respondents who agreed to the privacy notice are read (they are the only ones with answers); an erased
respondent has no rows left, so nothing here can bring them back. Rows come in reference order, which the
unique index on respondents.reference gives without sorting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from conversations.model import Question
from storage import dialect
from storage.export.flat_sql import flat_query, line_query

CHUNK = 500

# CROSS JOIN keeps respondents as the outer loop, so SQLite walks the reference index in order and never
# sorts (a sort of every transcript line would spill to temporary files at 100,000 respondents).
# PostgreSQL's planner takes no such hint (and CROSS JOIN takes no ON there): dialect.ordered_join.
def agreed(conn: aiosqlite.Connection) -> str:
    """FROM the respondents who agreed to the consultation given as the next parameter."""
    return (f"FROM respondents r {dialect.of(conn).ordered_join} conversations c ON c.user_id = r.user_id "
            "AND c.consultation_id = ? AND c.consent_at IS NOT NULL ")


WRITTEN = (
    "JOIN answers a ON a.user_id = c.user_id AND a.consultation_id = c.consultation_id "
    "WHERE a.question_id = ? AND a.is_current = 1 AND a.choice IS NOT DISTINCT FROM ? AND coalesce(a.text, '') != ''"
)


@dataclass(frozen=True)
class Cell:
    """One question's current answer as stored: the choice's (or scale point's) id, the words, whether skipped, the
    version, a multi's ticked ids, a number, and whether the question was shown at all (routing)."""

    choice: str | None
    text: str | None
    skipped: bool
    version: str
    choices: tuple[str, ...] = ()
    number: int | None = None
    shown: bool = True


@dataclass(frozen=True)
class Response:
    """One respondent's row: stored UTC times as text, and their current answers by question id."""

    user_id: int
    reference: str
    source: str | None
    started_at: str | None
    agreed_at: str | None
    finished_at: str | None
    answers: dict[str, Cell] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """'finished' once they sent their answers; 'partial' when they agreed but did not."""
        return "finished" if self.finished_at else "partial"


@dataclass(frozen=True)
class Line:
    """One transcript message: 'in' from the tenant, 'out' from the bot, at a stored UTC time."""

    direction: str
    text: str
    at: str


@dataclass(frozen=True)
class Written:
    """A free-text answer (or a choice's reason) for the report."""

    reference: str
    text: str
    finished: bool


@asynccontextmanager
async def snapshot(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    """One read transaction, so every file of an export shows the same moment (WAL: writers carry on)."""
    # PostgreSQL: REPEATABLE READ gives the same one moment; SQLite's WAL read transaction already does.
    begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if dialect.of(conn).postgres else "BEGIN"
    await conn.execute(begin)
    try:
        yield
    finally:
        await conn.execute("ROLLBACK")  # nothing was written: ending the read is all this does


async def chunks(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...], plain: bool = False
                 ) -> AsyncIterator[list[Any]]:
    """Rows a chunk at a time, the next chunk read (in aiosqlite's thread) while this one is written out.

    At most two chunks are in memory; between chunks the event loop serves tenants. Rows are sqlite3.Row, or
    bare tuples when `plain` (a third of the cost at 100,000 respondents).
    """
    if dialect.of(conn).postgres:  # a server-side cursor inside snapshot()'s transaction: memory stays flat
        async for chunk in conn.stream(sql, params, CHUNK, plain):  # type: ignore[attr-defined]
            yield chunk
        return
    async with conn.execute(sql, params) as cursor:
        if plain:
            cursor.row_factory = None
        ahead = asyncio.ensure_future(cursor.fetchmany(CHUNK))
        try:
            while chunk := list(await ahead):
                ahead = asyncio.ensure_future(cursor.fetchmany(CHUNK))
                # Let the new task hand its read to aiosqlite's thread now: a task only starts when the loop next
                # runs, and the caller writes this chunk without awaiting, so the read would otherwise wait for it.
                await asyncio.sleep(0)
                yield chunk
        finally:
            if not ahead.done():
                await asyncio.wait([ahead])  # let the read finish before the cursor closes


async def stream(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...], plain: bool = False
                 ) -> AsyncIterator[Any]:
    """chunks(), a row at a time."""
    async for chunk in chunks(conn, sql, params, plain):
        for row in chunk:
            yield row


# One respondent for responses.csv: (user_id, reference, source, started_at, agreed_at, finished_at, answers).
# reference and source are CSV fields already; answers is every question's CSV fields (layout.fields), joined by commas.
Flat = tuple[Any, ...]
MAX_FLAT_QUESTIONS = 60  # one join per question; SQLite allows 64 tables in a query


async def flat_responses(conn: aiosqlite.Connection, consultation_id: str, questions: tuple[Question, ...]
                         ) -> AsyncIterator[list[Flat]]:
    """Agreed respondents as flat rows (see Flat), in reference order, a chunk at a time: the CSV's fast path.

    SQLite writes the answers as CSV (flat_sql): no Python loop over 500,000 answers, no csv.writer over
    2,000,000 cells.
    """
    if len(questions) > MAX_FLAT_QUESTIONS:
        raise ValueError(f"flat_responses handles up to {MAX_FLAT_QUESTIONS} questions")
    sql, params = flat_query(consultation_id, questions, dialect.of(conn))
    async for chunk in chunks(conn, sql, tuple(params), plain=True):
        yield chunk


async def flat_lines(conn: aiosqlite.Connection, consultation_id: str, questions: tuple[Question, ...], zone: str,
                     identities: bool) -> AsyncIterator[tuple[str, int]]:
    """PostgreSQL: responses.csv's lines made whole by the server (flat_sql.line_query) and streamed with COPY, as
    (text, respondents) a block at a time; CsvLines on flat_responses' rows writes the same bytes."""
    if len(questions) > MAX_FLAT_QUESTIONS:
        raise ValueError(f"flat_lines handles up to {MAX_FLAT_QUESTIONS} questions")
    sql, params = line_query(consultation_id, questions, zone, identities)
    async for block in conn.copy_lines(sql, tuple(params), CHUNK):  # type: ignore[attr-defined]
        yield block


async def responses(conn: aiosqlite.Connection, consultation_id: str) -> AsyncIterator[Response]:
    """Each agreed respondent with their current answers, one at a time."""
    sql = (
        "SELECT r.user_id, r.reference, r.source, c.started_at, c.consent_at, c.submitted_at, "
        "a.question_id, a.choice, a.text, a.skipped, a.consultation_version, a.choices, a.number, a.shown "
        + agreed(conn) + "LEFT JOIN answers a ON a.user_id = c.user_id AND a.consultation_id = c.consultation_id "
        "AND a.is_current = 1 ORDER BY r.reference"
    )
    current: Response | None = None
    async for row in stream(conn, sql, (consultation_id,), plain=True):
        if current is None or current.user_id != row[0]:
            if current is not None:
                yield current
            current = Response(*row[:6])
        if row[6] is not None:
            ticked = tuple(row[11].split(",")) if row[11] else ()
            current.answers[row[6]] = Cell(row[7], row[8], bool(row[9]), row[10], ticked, row[12], bool(row[13]))
    if current is not None:
        yield current


async def transcripts(conn: aiosqlite.Connection, consultation_id: str) -> AsyncIterator[tuple[Response, list[Line]]]:
    """Each agreed respondent with every message in and out, in order; one respondent held at a time."""
    sql = (
        "SELECT r.user_id, r.reference, r.source, c.started_at, c.consent_at, c.submitted_at, "
        "t.direction, t.text, t.at " + agreed(conn)
        + "LEFT JOIN transcript t ON t.user_id = c.user_id AND t.consultation_id = c.consultation_id "
        "ORDER BY r.reference, t.id"
    )
    current: Response | None = None
    lines: list[Line] = []
    async for row in stream(conn, sql, (consultation_id,)):
        if current is None or current.user_id != row["user_id"]:
            if current is not None:
                yield current, lines
            current = Response(row["user_id"], row["reference"], row["source"], row["started_at"],
                               row["consent_at"], row["submitted_at"])
            lines = []
        if row["direction"] is not None:
            lines.append(Line(row["direction"], row["text"], row["at"]))
    if current is not None:
        yield current, lines


async def written(
    conn: aiosqlite.Connection, consultation_id: str, question_id: str, choice: str | None
) -> AsyncIterator[Written]:
    """Every non-empty text answer to one question (with this choice, for a choice question), oldest first."""
    sql = ("SELECT r.reference, a.text, c.submitted_at IS NOT NULL AS finished " + agreed(conn) + WRITTEN
           + " ORDER BY a.id")
    async for row in stream(conn, sql, (consultation_id, question_id, choice)):
        yield Written(row["reference"], row["text"], bool(row["finished"]))


async def written_count(conn: aiosqlite.Connection, consultation_id: str, question_id: str, choice: str | None) -> int:
    """How many answers `written` will give, for the heading above them."""
    sql = "SELECT count(*) " + agreed(conn) + WRITTEN
    rows = list(await conn.execute_fetchall(sql, (consultation_id, question_id, choice)))
    return int(rows[0][0])


async def agreed_by_hour(conn: aiosqlite.Connection, consultation_id: str) -> dict[str, int]:
    """How many agreed in each UTC hour ('2020-11-10T12'): bounded by the consultation's length, not its size."""
    rows = await conn.execute_fetchall(
        f"SELECT {dialect.of(conn).utc_hour('consent_at')} AS hour, count(*) AS n FROM conversations "
        "WHERE consultation_id = ? AND consent_at IS NOT NULL GROUP BY hour", (consultation_id,))
    return {str(row["hour"]): int(row["n"]) for row in rows}
