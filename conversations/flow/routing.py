"""Which pages a tenant is shown, given their answers so far: show_if evaluated, the way forward and back, and
questions routed out or back in as answers change.

A show_if may name only earlier questions, so one pass from the first page to the last settles everything: by the
time a page is reached, every answer its expression can depend on has been settled already.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from conversations.expressions import Answered, Compare, Expression, Not, Or, Selected, references
from conversations.model import Consultation, Question, QuestionKind
from conversations.state import NOT_SHOWN, Answer, ConversationState


def holds(consultation: Consultation, tree: Expression, answers: Mapping[str, Answer]) -> bool:
    """Whether the expression is true for these answers; any comparison with a skipped or unshown question is false."""
    if isinstance(tree, Not):
        return not holds(consultation, tree.operand, answers)
    if isinstance(tree, Or):
        return holds(consultation, tree.left, answers) or holds(consultation, tree.right, answers)
    if not isinstance(tree, Compare | Selected | Answered):  # And
        return holds(consultation, tree.left, answers) and holds(consultation, tree.right, answers)
    answer = answers.get(tree.question)
    question = consultation.question(tree.question)
    if answer is None or not answer.given or question is None:
        return False
    if isinstance(tree, Answered):
        return True
    if isinstance(tree, Selected):
        return tree.option in answer.choices
    return _compare(question, answer, tree)


def _compare(question: Question, answer: Answer, tree: Compare) -> bool:
    """One comparison: an option id for choices and scales, a number for numbers and scale points."""
    if isinstance(tree.value, str):
        actual: str | int | None = answer.choice
    elif question.kind is QuestionKind.SCALE:
        actual = question.score(answer.choice) if answer.choice else None
    else:
        actual = answer.number
    if actual is None:
        return False
    if tree.op == "=":
        return actual == tree.value
    if tree.op == "!=":
        return actual != tree.value
    if not isinstance(actual, int) or not isinstance(tree.value, int):
        return False  # the loader refuses < and > against an option id
    return {"<": actual < tree.value, "<=": actual <= tree.value, ">": actual > tree.value,
            ">=": actual >= tree.value}[tree.op]


def visible(consultation: Consultation, question: Question, answers: Mapping[str, Answer]) -> bool:
    """Shown to this tenant: no show_if, or one that holds."""
    return question.show_if is None or holds(consultation, question.show_if, answers)


def next_page(consultation: Consultation, answers: Mapping[str, Answer], after: int) -> int | None:
    """The first page after `after` that this tenant is shown, or None at the end."""
    for index in range(after + 1, len(consultation.questions)):
        if visible(consultation, consultation.questions[index], answers):
            return index
    return None


def previous_page(consultation: Consultation, answers: Mapping[str, Answer], before: int) -> int | None:
    """The last page before `before` that this tenant is shown, or None at the start."""
    for index in range(before - 1, -1, -1):
        if visible(consultation, consultation.questions[index], answers):
            return index
    return None


def reconcile(consultation: Consultation, state: ConversationState) -> ConversationState:
    """Questions already passed that are now routed out are marked not shown (their answer stops counting); ones
    routed back in lose the mark, so they are asked again before the review."""
    answers = dict(state.answers)
    for index, question in enumerate(consultation.questions):
        if not question.answerable:
            continue
        current = answers.get(question.id)
        if visible(consultation, question, answers):
            if current is not None and not current.shown:
                del answers[question.id]
        elif index <= state.furthest or current is not None:
            answers[question.id] = NOT_SHOWN
    return state if answers == state.answers else replace(state, answers=answers)


def still_to_ask(consultation: Consultation, state: ConversationState, after: int) -> int | None:
    """The first question after `after`, already passed, that is shown but has no answer (routed back in)."""
    for index in range(after + 1, min(state.furthest, len(consultation.questions) - 1) + 1):
        question = consultation.questions[index]
        answer = state.answers.get(question.id)
        if question.answerable and visible(consultation, question, state.answers) and (
                answer is None or not answer.counts):
            return index
    return None


def missing_required(consultation: Consultation, state: ConversationState) -> Question | None:
    """The first required question this tenant is shown that has no answer: sending waits for it."""
    for question in consultation.questions:
        if question.required and visible(consultation, question, state.answers):
            answer = state.answers.get(question.id)
            if answer is None or not answer.given:
                return question
    return None


@dataclass(frozen=True)
class Progress:
    """"Question 3 of 7", or "of about 7" while later answers can still add or remove questions."""

    number: int
    total: int
    exact: bool


def progress(consultation: Consultation, state: ConversationState, index: int) -> Progress:
    """This page's place among the questions that apply so far (info pages are not counted)."""
    answers = state.answers
    number, total, exact = 0, 0, True
    for position, question in enumerate(consultation.questions):
        if not question.answerable:
            continue
        undecided = question.show_if is not None and any(
            ref not in answers for ref in references(question.show_if))
        if undecided:
            exact = False
            total += 1
        elif visible(consultation, question, answers):
            total += 1
            if position <= index:
                number += 1
    return Progress(max(number, 1), max(total, number, 1), exact)


def shown_questions(consultation: Consultation, state: ConversationState) -> list[Question]:
    """The questions this tenant is shown, in order, for the review and /mydata (info pages left out)."""
    return [q for q in consultation.questions if q.answerable and visible(consultation, q, state.answers)]
