"""A show_if in plain words, for the housing officer proof-reading a file: question numbers and option labels,
not ids and symbols ("Q3 (repair_done) is 'Yes'" for ${repair_done} = 'yes')."""

from __future__ import annotations

import operator
from collections.abc import Callable

from conversations.expressions import And, Answered, Compare, Expression, Not, Or, Selected
from conversations.model import Consultation, Question, QuestionKind
from conversations.screens.markup import plain

NOT_ANSWERED = " (or was not answered)"
COMPARE: dict[str, Callable[[int, int], bool]] = {"=": operator.eq, "!=": operator.ne, "<": operator.lt,
                                                  "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def shown_if(consultation: Consultation, tree: Expression) -> str:
    """The whole condition: "Q3 (repair_done) is 'Yes' and Q10 (household) is more than 1"."""
    return _words(consultation, tree, parent=None)


def _words(consultation: Consultation, tree: Expression, parent: type[And] | type[Or] | None) -> str:
    """One part; an or inside an and (or the other way round) is put in brackets so it reads as written."""
    if isinstance(tree, And | Or):
        joiner = " and " if isinstance(tree, And) else " or "
        own = type(tree)
        text = joiner.join(_words(consultation, side, own) for side in (tree.left, tree.right))
        return f"({text})" if parent is not None and parent is not own else text
    if isinstance(tree, Not):
        return _negated(consultation, tree.operand)
    return _leaf(consultation, tree)


def _name(consultation: Consultation, question_id: str) -> str:
    """"Q3 (repair_done)": its place in the file, and the id the file uses."""
    question = consultation.question(question_id)
    return f"Q{question.number} ({question_id})" if question else f"${{{question_id}}}"


def _label(question: Question | None, option_id: str) -> str:
    """An option's label as the tenant sees it on the button, in quotes."""
    option = question.option(option_id) if question else None
    return f"'{plain(option.label)}'" if option else f"'{option_id}'"


def _either(labels: list[str]) -> str:
    """"'A', 'B' or 'C'"."""
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def _leaf(consultation: Consultation, tree: Compare | Selected | Answered) -> str:
    """One test, in words; a comparison with a skipped question is false, so != says 'answered'."""
    name = _name(consultation, tree.question)
    question = consultation.question(tree.question)
    if isinstance(tree, Answered):
        return f"{name} was answered"
    if isinstance(tree, Selected):
        return f"{name} has {_label(question, tree.option)} ticked"
    if isinstance(tree.value, str):
        label = _label(question, tree.value)
        return f"{name} is {label}" if tree.op == "=" else f"{name} is answered with anything but {label}"
    if question is not None and question.kind is QuestionKind.SCALE:
        return f"{name} {_points(question, tree.op, tree.value)}"
    return f"{name} {_number(tree.op, tree.value)}"


def _number(op: str, value: int) -> str:
    """"is more than 1", "is 18 or more", ..."""
    return {"=": f"is {value}", "!=": f"is answered with anything but {value}", "<": f"is less than {value}",
            "<=": f"is {value} or less", ">": f"is more than {value}", ">=": f"is {value} or more"}[op]


def _points(question: Question, op: str, value: int) -> str:
    """A scale compared by its points: the score, and the labels it covers ("Don't know" is never among them)."""
    score = {"=": f"scores {value}", "!=": f"is answered with a point other than {value}",
             "<": f"scores less than {value}", "<=": f"scores {value} or less", ">": f"scores more than {value}",
             ">=": f"scores {value} or more"}[op]
    covered = [_label(question, o.id) for o in question.points if COMPARE[op](question.score(o.id) or 0, value)]
    return f"{score} ({_either(covered)})" if covered else f"{score} (no point of the scale)"


def _negated(consultation: Consultation, tree: Expression) -> str:
    """`not ...`: true when the test is false, which includes a question that was skipped or not shown."""
    if isinstance(tree, Answered):
        return f"{_name(consultation, tree.question)} was not answered (skipped, or not shown)"
    if isinstance(tree, Selected):
        question = consultation.question(tree.question)
        return (f"{_name(consultation, tree.question)} does not have {_label(question, tree.option)} ticked"
                + NOT_ANSWERED)
    if isinstance(tree, Compare) and isinstance(tree.value, str) and tree.op == "=":
        question = consultation.question(tree.question)
        return f"{_name(consultation, tree.question)} is not {_label(question, tree.value)}" + NOT_ANSWERED
    return f"not ({_words(consultation, tree, parent=None)})"
