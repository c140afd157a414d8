"""How a consultation is going, as counts: for /stats, `consultation-bot stats`, and the export summaries.

Who counts as what (the same everywhere):
- started: pressed /start (or wrote) at least once;
- agreed: agreed to the privacy notice; only these have answers, and only these are exported;
- finished: agreed and sent their answers (submitted_at is set);
- partial: agreed but not sent; kept and exported as partial;
- started but not agreed (still reading the notice, or said no thanks): counted here, never exported;
- erased: deleted at their request; counted from the audit log only, they appear nowhere else.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass, field, replace

import aiosqlite

from conversations.model import Consultation
from storage.database import Database

log = logging.getLogger(__name__)
TOP_SOURCES = 8


@dataclass(frozen=True)
class QuestionFigures:
    """One question's current answers among those who agreed."""

    question_id: str
    answered: int = 0
    skipped: int = 0
    written: int = 0
    choices: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsultationStats:
    """The headline figures; partial and not_agreed are derived so they can never disagree."""

    started: int
    agreed: int
    finished: int
    declined: int
    erased: int
    questions: tuple[QuestionFigures, ...]
    sources: tuple[tuple[str, int], ...] = ()
    reminders_sent: int = 0

    @property
    def partial(self) -> int:
        """Agreed but not finished."""
        return self.agreed - self.finished

    @property
    def not_agreed(self) -> int:
        """Started but never agreed: no answers, so not in the exports."""
        return self.started - self.agreed


async def read_stats(conn: aiosqlite.Connection, consultation: Consultation, figures: bool = True
                     ) -> ConsultationStats:
    """All the counts in a few aggregate queries (no row is brought into Python per respondent).

    Without `figures` only the head counts are read (no per-question totals or sources): a CSV export needs
    nothing else, and the totals are a pass over every answer.
    """
    cid = consultation.id
    rows = list(await conn.execute_fetchall(
        "SELECT count(*) AS started, count(consent_at) AS agreed, "
        "coalesce(sum(consent_at IS NOT NULL AND submitted_at IS NOT NULL), 0) AS finished, "
        "coalesce(sum(consent_at IS NULL AND stage = 'declined'), 0) AS declined "
        "FROM conversations WHERE consultation_id = ?", (cid,)))
    head = rows[0]
    return ConsultationStats(
        started=int(head["started"]), agreed=int(head["agreed"]), finished=int(head["finished"]),
        declined=int(head["declined"]), erased=await _erased(conn),
        questions=await _questions(conn, consultation) if figures else (),
        sources=await _sources(conn, cid) if figures else (),
    )


async def _questions(conn: aiosqlite.Connection, consultation: Consultation) -> tuple[QuestionFigures, ...]:
    """Answered, skipped, written and choice tallies per question, from the current answers only."""
    rows = await conn.execute_fetchall(
        "SELECT a.question_id, a.choice, a.skipped, (coalesce(a.text, '') != '') AS written, count(*) AS n "
        "FROM answers a JOIN conversations c ON c.user_id = a.user_id AND c.consultation_id = a.consultation_id "
        "WHERE a.consultation_id = ? AND a.is_current = 1 AND c.consent_at IS NOT NULL "
        "GROUP BY a.question_id, a.choice, a.skipped, written", (consultation.id,))
    tallies = {question.id: QuestionFigures(question.id) for question in consultation.questions}
    for row in rows:
        before = tallies.get(row["question_id"])
        if before is None:  # a question since removed from the file: nothing to show it under
            continue
        count, choice, written = int(row["n"]), row["choice"], bool(row["written"])
        given = bool(choice) or written
        choices = dict(before.choices)
        if choice:
            choices[choice] = choices.get(choice, 0) + count
        tallies[before.question_id] = replace(
            before,
            answered=before.answered + (count if given else 0),
            skipped=before.skipped + (count if row["skipped"] and not given else 0),
            written=before.written + (count if written else 0),
            choices=choices,
        )
    return tuple(tallies[question.id] for question in consultation.questions)


async def _sources(conn: aiosqlite.Connection, consultation_id: str) -> tuple[tuple[str, int], ...]:
    """How those who agreed found the bot (deep-link payloads), the most common first; '' is a plain /start."""
    rows = await conn.execute_fetchall(
        "SELECT coalesce(r.source, '') AS source, count(*) AS n FROM conversations c "
        "JOIN respondents r ON r.user_id = c.user_id WHERE c.consultation_id = ? AND c.consent_at IS NOT NULL "
        "GROUP BY source ORDER BY n DESC, source LIMIT ?", (consultation_id, TOP_SOURCES))
    return tuple((str(row["source"]), int(row["n"])) for row in rows)


async def _erased(conn: aiosqlite.Connection) -> int:
    """Erasures leave only their audit line behind, so that is the only place they can be counted."""
    rows = list(await conn.execute_fetchall(
        "SELECT count(*) FROM audit_log WHERE action = 'erase' AND outcome = 'ok'"))
    return int(rows[0][0])


async def reminders_sent(db: Database, consultation_id: str) -> int:
    """HOOK for issue 5: the count comes from storage/broadcasts.py `reminders_sent(db, consultation_id)`.

    Until that module provides it, this says 0 (and logs once at debug level), so /stats still works.
    """
    try:
        module = importlib.import_module("storage.broadcasts")
    except ModuleNotFoundError as error:
        if error.name != "storage.broadcasts":
            raise
        log.debug("storage.broadcasts is not there yet: reminders sent shows 0")
        return 0
    counter = getattr(module, "reminders_sent", None)
    if counter is None:
        log.debug("storage.broadcasts has no reminders_sent yet: reminders sent shows 0")
        return 0
    result = counter(db, consultation_id)
    if inspect.isawaitable(result):
        result = await result
    return int(result)


async def gather_stats(db: Database, consultation: Consultation) -> ConsultationStats:
    """The figures on a connection of their own, so tenants' steps do not wait behind the aggregates."""
    conn = await db.open_reader()
    try:
        figures = await read_stats(conn, consultation)
    finally:
        await conn.close()
    return replace(figures, reminders_sent=await reminders_sent(db, consultation.id))
