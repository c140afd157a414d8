"""Theme runs: analyse each written question, keep staff decisions, save the machine's codes; audited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from conversations.model import Consultation, Question, QuestionKind
from storage.database import Database
from storage.themes import store
from storage.themes.edits import WorkbookEdits, apply_edits
from storage.themes.model import Analysis, Response, ThemeSeed

_RUNNING = asyncio.Lock()  # one run at a time in a process: a run reads, thinks for seconds, then writes


def analysable(consultation: Consultation) -> tuple[Question, ...]:
    """Every question whose answers are words: text questions, and the reasons after choices, scales and multis."""
    return tuple(q for q in consultation.answerable if q.kind is QuestionKind.TEXT or q.asks_reason)


def pick(consultation: Consultation, question_id: str | None) -> tuple[Question, ...]:
    """The questions a run covers: one by id, or every analysable one; a wrong id is a clear error."""
    questions = analysable(consultation)
    if question_id is None:
        return questions
    chosen = tuple(q for q in questions if q.id == question_id)
    if not chosen:
        ids = ", ".join(q.id for q in questions) or "none"
        raise ValueError(consultation.message("themes_unknown_question", question=question_id, ids=ids))
    return chosen


@dataclass(frozen=True)
class QuestionRun:
    """What one run found for one question."""

    question_id: str
    answers: int
    themes: int
    confirmed: int
    needs_reading: int
    non_answers: int


def run_lines(say: Callable[..., str], runs: Sequence[QuestionRun]) -> list[str]:
    """One line per question for the admin (bot and command line alike): answers, themes, confirmed, unread."""
    return [say("themes_summary_line", question=run.question_id, answers=run.answers, themes=run.themes,
                confirmed=run.confirmed, needs_reading=run.needs_reading) for run in runs]


def inputs(coding: store.QuestionCoding) -> tuple[list[Response], list[ThemeSeed], dict[str, frozenset[str]]]:
    """The analysis's view of what is stored: answers by row id, the live themes, staff's confirmations."""
    responses = [Response(str(a.answer_id), a.text) for a in coding.answers]
    if not coding.staff_touched:  # until staff decide anything, the machine may think again from scratch
        return responses, [], {}
    seeds = [ThemeSeed(t.id, t.name, t.description) for t in coding.live_themes]
    confirmed = {str(a.answer_id): frozenset(coding.staff.get(a.answer_id, set())) for a in coding.answers
                 if (review := coding.reviews.get(a.answer_id)) is not None and review.confirmed}
    return responses, seeds, confirmed


async def refresh_question(db: Database, consultation: Consultation, question: Question, now: datetime
                           ) -> QuestionRun:
    """Read committed answers, analyse in a worker thread (tenants keep being served), save in one transaction."""
    from storage.themes.analyse import analyse  # scikit-learn: loaded only when themes are asked for

    coding = await store.load(db.reader, consultation.id, question.id)
    responses, seeds, confirmed = inputs(coding)
    analysis: Analysis = await asyncio.to_thread(analyse, responses, seeds, confirmed)
    async with db.transaction() as conn:
        await store.save_themes(conn, consultation.id, question.id, analysis, fresh=not seeds, now=now)
        await store.save_codes(conn, consultation.id, question.id, analysis, coding, now)
    return QuestionRun(question.id, len(responses), len(analysis.themes), len(analysis.confirmed),
                       len(analysis.needs_reading), len(analysis.non_answers))


async def run_themes(db: Database, consultation: Consultation, question_id: str | None, actor_id: int | None,
                     via: str, now: datetime) -> list[QuestionRun]:
    """Suggest or reassign themes for each question asked for, audited before and after."""
    questions = pick(consultation, question_id)
    detail = f"{consultation.id}: questions={','.join(q.id for q in questions) or 'none'}; via={via}"
    async with _RUNNING:
        await db.audit(actor_id, "themes run", detail, outcome="started")
        try:
            runs = [await refresh_question(db, consultation, q, now) for q in questions]
        except BaseException:
            await db.audit(actor_id, "themes run", detail, outcome="failed")
            raise
        counts = "; ".join(f"{r.question_id}: {r.answers} answers, {r.themes} themes, {r.confirmed} confirmed, "
                           f"{r.needs_reading} need reading" for r in runs)
        await db.audit(actor_id, "themes run", f"{detail}; {counts}", outcome="ok")
    return runs


async def apply_and_rerun(db: Database, consultation: Consultation, edits: WorkbookEdits, actor_id: int | None,
                          via: str, now: datetime) -> list[QuestionRun]:
    """Staff's edits in one transaction (each change audited with who and when), then every question reassigned."""
    async with _RUNNING, db.transaction() as conn:
        await apply_edits(conn, consultation.id, edits, actor_id, now)
    return await run_themes(db, consultation, None, actor_id, via, now)
