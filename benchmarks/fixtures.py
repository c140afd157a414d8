"""Big databases in seconds: the real schema (Database.open runs the migrations), then bulk inserts with sqlite3.

Tenants are written as the bot itself would leave them (a real encoded state, consent, answers with the
consultation's own question and option ids), so the export and the broadcaster read what they would in use.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conversations.file.loader import load_consultation
from conversations.model import Consultation, Question, QuestionKind
from conversations.state import ConversationState, Phase, Stage
from storage import Database
from storage.steps import encode_state
from storage.timestamps import to_db

START = datetime(2020, 11, 4, 9, 30, tzinfo=UTC)
BATCH = 10_000
SPREAD = 26 * 24 * 3600
WORDS = "Please fix repairs faster, and use local firms who know our estates and the people on them."


EVERY_KIND = Path(__file__).resolve().parents[1] / "conversations" / "consultations" / "examples" / "every-kind.toml"


def consultation(path: Path | None = None) -> Consultation:
    """The bundled consultation (the one the bot runs when CONSULTATION_FILE is not set), or the file at `path`."""
    return load_consultation(path) if path else load_consultation()


async def _schema(path: Path) -> None:
    await (await Database.open(f"sqlite:///{path}")).close()


def _answers(survey: Consultation, user_id: int, at: str) -> list[tuple[object, ...]]:
    """One current answer per question that takes one, of its kind: words; a choice (or a scale point, with its
    'why' if it asks one) with a reason every other time; a multi's ticks; a number. A question with show_if is
    routed out ("not shown") for every third tenant. The bundled consultation's rows are as they always were."""
    rows: list[tuple[object, ...]] = []
    for question in survey.answerable:
        # (choice, text, skipped, choices, number, shown)
        row: tuple[object, ...] = (None, f"{WORDS} ({user_id})", 0, None, None, 1)
        if question.show_if is not None and user_id % 3 == 0:
            row = (None, None, 0, None, None, 0)
        elif question.kind in (QuestionKind.CHOICE, QuestionKind.SCALE):
            reason = WORDS if user_id % 2 and (question.kind is QuestionKind.CHOICE or question.asks_reason) else None
            row = (question.options[user_id % len(question.options)].id, reason, 0, None, None, 1)
        elif question.kind is QuestionKind.MULTI:
            reason = WORDS if question.asks_reason and user_id % 3 == 1 else None
            row = (None, reason, 0, _ticks(question, user_id), None, 1)
        elif question.kind is QuestionKind.NUMBER:
            low, high = question.minimum or 0, question.maximum or 0
            row = (None, None, 0, None, low + user_id % (high - low + 1), 1)
        rows.append((user_id, survey.id, question.id, *row, at, survey.version))
    return rows


def _ticks(question: Question, user_id: int) -> str:
    """Some of a multi's options, chosen by the bits of the user id; the one that stands alone when none are."""
    ordinary = [option.id for option in question.options if not option.exclusive]
    ticked = [option for bit, option in enumerate(ordinary) if user_id >> bit & 1]
    alone = next((option.id for option in question.options if option.exclusive), ordinary[0] if ordinary else "")
    return ",".join(ticked) or alone


def _batches(first: int, count: int) -> Iterator[range]:
    for start in range(first, first + count, BATCH):
        yield range(start, min(start + BATCH, first + count))


async def build(path: Path, count: int, first_user: int, finished_every: int = 4, answers: bool = True,
                survey_file: Path | None = None) -> Consultation:
    """`count` tenants who agreed; all but every `finished_every`-th sent their answers (0: nobody finished); of
    the bundled consultation, or of the consultation file `survey_file` (e.g. EVERY_KIND).

    Indexes on the answers are dropped during the load and built once at the end (a sort beats 500,000
    index inserts); the file is left in WAL mode like the bot's own.
    """
    survey = consultation(survey_file)
    await _schema(path)
    await asyncio.to_thread(_bulk, path, survey, count, first_user, finished_every, answers)
    return survey


def _bulk(path: Path, survey: Consultation, count: int, first_user: int, finished_every: int, answers: bool) -> None:
    """The inserts, in one transaction without a journal (a throwaway file), off the event loop."""
    agreed = ConversationState(stage=Stage.QUESTION, position=1, phase=Phase.ASK, furthest=1,
                               consent_at=START, started_at=START)
    done = ConversationState(stage=Stage.SUBMITTED, position=len(survey.questions) - 1,
                             furthest=len(survey.questions) - 1, consent_at=START, started_at=START,
                             submitted_at=START + timedelta(minutes=7))
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        indexes = list(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                    "AND tbl_name = 'answers'"))
        for name, _sql in indexes:
            conn.execute(f"DROP INDEX {name}")
        for users in _batches(first_user, count):
            # spread over the consultation's 26 days, so times differ as they would (no cache hides their cost)
            ats = {uid: to_db(START + timedelta(seconds=(uid - first_user) * SPREAD // max(count, 1))) for uid in users}
            finished = [bool(finished_every) and (uid % finished_every) != 0 for uid in users]
            conn.executemany(
                "INSERT INTO respondents (user_id, reference, first_seen, source, consent_privacy_version, "
                "consent_given_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(uid, f"R-{uid:09d}", ats[uid], "poster" if uid % 3 else None, survey.privacy_version, ats[uid])
                 for uid in users])
            conn.executemany(
                "INSERT INTO conversations (user_id, consultation_id, revision, state, stage, consultation_version, "
                "privacy_version, started_at, consent_at, submitted_at, updated_at) "
                "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(uid, survey.id, encode_state(done if fin else agreed), (done if fin else agreed).stage.value,
                  survey.version, survey.privacy_version, ats[uid], ats[uid], ats[uid] if fin else None, ats[uid])
                 for uid, fin in zip(users, finished, strict=True)])
            if answers:
                conn.executemany(
                    "INSERT INTO answers (user_id, consultation_id, question_id, choice, text, skipped, choices, "
                    "number, shown, answered_at, consultation_version, is_current) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    [row for uid in users for row in _answers(survey, uid, ats[uid])])
        for _name, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")


def add_staff_draft(path: Path, staff_id: int, token: str, audience: str, text: str) -> None:
    """A staff member's broadcast at the preview step, as /broadcast leaves it before Send is tapped."""
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT OR REPLACE INTO broadcast_drafts (staff_id, token, step, audience, text, updated_at) "
                     "VALUES (?, ?, 'preview', ?, ?, ?)", (staff_id, token, audience, text, to_db(datetime.now(UTC))))


def scalar(path: Path, sql: str, *params: object) -> int:
    """One number from the database (read-only use while the bot runs: WAL readers never block it)."""
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(sql, params).fetchone()[0])
