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

from conversations.model import DONT_KNOW, Consultation
from storage import alerts
from storage.alerts import AlertCount
from storage.database import Database

log = logging.getLogger(__name__)
TOP_SOURCES = 8


@dataclass(frozen=True)
class QuestionFigures:
    """One question's current answers among those who agreed; info pages have none."""

    question_id: str
    answered: int = 0
    skipped: int = 0
    written: int = 0
    choices: dict[str, int] = field(default_factory=dict)  # per option id: chose it (a multi: ticked it)
    not_shown: int = 0  # routed out by show_if: neither answered nor skipped
    chosen: int = 0  # chose an option, or ticked at least one in a multi: the base of each option's share
    numbers: dict[int, int] = field(default_factory=dict)  # a number question: each number given, how many gave it

    @property
    def median(self) -> float | None:
        """The middle number given (the mean of the two middle ones for an even count); None when none was."""
        count = sum(self.numbers.values())
        if not count:
            return None

        def at(position: int) -> int:
            """The number at this place (from 0) if every answer were lined up from lowest to highest."""
            seen = 0
            for value in sorted(self.numbers):
                seen += self.numbers[value]
                if position < seen:
                    break
            return value

        return (at((count - 1) // 2) + at(count // 2)) / 2


@dataclass(frozen=True)
class MeasureFigures:
    """A measure: of those who answered its question with an option (don't know left out), how many gave one of its
    `counts` (a multi: ticked any of them)."""

    measure_id: str
    counted: int = 0
    base: int = 0

    @property
    def share(self) -> float | None:
        """counted / base, or None before anyone has answered."""
        return self.counted / self.base if self.base else None


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
    measures: tuple[MeasureFigures, ...] = ()
    alerts: tuple[AlertCount, ...] = ()  # one per [[alerts]] entry, in the file's order: listed first

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

    Without `figures` only the head counts are read (no per-question totals, measures, alerts or sources): a CSV
    export needs nothing else, and the totals are a pass over every answer.
    """
    cid = consultation.id
    rows = list(await conn.execute_fetchall(
        "SELECT count(*) AS started, count(consent_at) AS agreed, "
        "count(CASE WHEN consent_at IS NOT NULL AND submitted_at IS NOT NULL THEN 1 END) AS finished, "
        "count(CASE WHEN consent_at IS NULL AND stage = 'declined' THEN 1 END) AS declined "
        "FROM conversations WHERE consultation_id = ?", (cid,)))
    head = rows[0]
    questions, measures = await _questions(conn, consultation) if figures else ((), ())
    return ConsultationStats(
        started=int(head["started"]), agreed=int(head["agreed"]), finished=int(head["finished"]),
        declined=int(head["declined"]), erased=await _erased(conn), questions=questions,
        sources=await _sources(conn, cid) if figures else (), measures=measures,
        alerts=await alerts.counts(conn, cid, tuple(a.id for a in consultation.alerts))
        if figures and consultation.alerts else (),
    )


async def _questions(conn: aiosqlite.Connection, consultation: Consultation
                     ) -> tuple[tuple[QuestionFigures, ...], tuple[MeasureFigures, ...]]:
    """Per question: answered, skipped, not shown, written, option tallies and numbers; and the measures. One
    aggregate over the current answers of those who agreed, so every figure counts the same respondents."""
    rows = await conn.execute_fetchall(
        "SELECT a.question_id, a.choice, a.choices, a.number, a.skipped, a.shown, "
        "(coalesce(a.text, '') != '') AS written, count(*) AS n "
        "FROM answers a JOIN conversations c ON c.user_id = a.user_id AND c.consultation_id = a.consultation_id "
        "WHERE a.consultation_id = ? AND a.is_current = 1 AND c.consent_at IS NOT NULL "
        "GROUP BY a.question_id, a.choice, a.choices, a.number, a.skipped, a.shown, written", (consultation.id,))
    tallies = {question.id: _Tally() for question in consultation.answerable}
    measures = {measure.id: _Tally() for measure in consultation.measures}
    for row in rows:
        tally = tallies.get(row["question_id"])
        if tally is None:  # a question since removed from the file (or now an info page): nothing to show it under
            continue
        count = int(row["n"])
        if not row["shown"]:
            tally.not_shown += count
            continue
        ticked = tuple(str(row["choices"]).split(",")) if row["choices"] else ()
        options = ticked or ((row["choice"],) if row["choice"] else ())
        tally.add(options, row["number"], bool(row["skipped"]), bool(row["written"]), count)
        for measure in consultation.measures:
            if measure.question == row["question_id"]:
                measures[measure.id].measure(options, measure.counts, count)
    return (tuple(tallies[q.id].figures(q.id) for q in consultation.answerable),
            tuple(MeasureFigures(m.id, measures[m.id].counted, measures[m.id].base) for m in consultation.measures))


@dataclass
class _Tally:
    """Counts being added up, row group by row group, before they are frozen into figures."""

    answered: int = 0
    skipped: int = 0
    written: int = 0
    not_shown: int = 0
    chosen: int = 0
    counted: int = 0
    base: int = 0
    choices: dict[str, int] = field(default_factory=dict)
    numbers: dict[int, int] = field(default_factory=dict)

    def add(self, options: tuple[str, ...], number: int | None, skipped: bool, written: bool, count: int) -> None:
        """A group of identical answers: the options chosen or ticked, a number, a skip, whether words came too."""
        if options or written or number is not None:
            self.answered += count
        elif skipped:
            self.skipped += count
        self.written += count if written else 0
        self.chosen += count if options else 0
        for option in options:
            self.choices[option] = self.choices.get(option, 0) + count
        if number is not None:
            self.numbers[int(number)] = self.numbers.get(int(number), 0) + count

    def measure(self, options: tuple[str, ...], counts: tuple[str, ...], count: int) -> None:
        """The base is those who gave an option other than don't know; counted, those who gave one of `counts`."""
        given = [option for option in options if option != DONT_KNOW]
        if given:
            self.base += count
            self.counted += count if set(given) & set(counts) else 0

    def figures(self, question_id: str) -> QuestionFigures:
        """Frozen, numbers in order, for the exports to read."""
        return QuestionFigures(question_id, self.answered, self.skipped, self.written, self.choices,
                               self.not_shown, self.chosen, dict(sorted(self.numbers.items())))


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
