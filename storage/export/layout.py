"""Which columns each kind of question has in responses.csv and .xlsx, so the general path and SQLite's agree."""

from __future__ import annotations

from conversations.model import Consultation, Question, QuestionKind

ANSWERED, SKIPPED, NOT_SHOWN = "answered", "skipped", "not shown"
QUESTION_FIELDS = ("status", "choice", "text", "version")  # text and choice questions: as before issue 13


def fields(question: Question) -> tuple[str, ...]:
    """A question's column names after its 'Qn ' (data, not wording: scripts read them)."""
    if question.kind is QuestionKind.SCALE:
        return ("status", "choice", "point", "text", "version")
    if question.kind is QuestionKind.NUMBER:
        return ("status", "number", "version")
    if question.kind is QuestionKind.MULTI:
        return ("status", *(f"ticked {option.id}" for option in question.options), "choices", "text", "version")
    return QUESTION_FIELDS


def numbered(consultation: Consultation) -> list[tuple[int, Question]]:
    """Each question that takes an answer with its place among them (Q1, Q2, ...): info pages are not counted."""
    return list(enumerate(consultation.answerable, start=1))


MULTI_SEPARATOR = "; "  # between the labels of a multi's ticked options in its one 'choices' cell
