"""A question's show_if, read and checked against the questions before it: each name an earlier question that takes
an answer, each option one of its options, each test one that makes sense for its kind."""

from __future__ import annotations

from conversations import expressions
from conversations.expressions import ORDERING, Answered, Compare, Expression, ExpressionError, Selected
from conversations.file.reader import FileReader
from conversations.model import WITH_OPTIONS, Question, QuestionKind

EXAMPLE = "\"${q2} = 'yes'\""


def read_show_if(reader: FileReader, source: object, where: str, qid: str, earlier: list[Question],
                 all_ids: set[str]) -> tuple[Expression | None, str]:
    """The expression and its source text (no tree if it cannot be read); every problem is recorded."""
    if source is None:
        return None, ""
    if not isinstance(source, str):
        reader.problem(where, f"should be text such as {EXAMPLE}")
        return None, ""
    try:
        tree = expressions.parse(source)
    except ExpressionError as error:
        reader.problem(where, f"{error}")
        return None, source
    before = {q.id: q for q in earlier}
    for leaf in expressions.leaves(tree):
        _check_leaf(reader, where, leaf, qid, before, all_ids)
    return tree, source


def _options_of(question: Question) -> str:
    """"its options are yes, no" for a message that names an option the question does not have."""
    return f"its options are {', '.join(o.id for o in question.options)}"


def _check_leaf(reader: FileReader, where: str, leaf: Compare | Selected | Answered, qid: str,
                before: dict[str, Question], all_ids: set[str]) -> None:
    """One comparison or call: an earlier question that takes an answer, of a kind the test makes sense for."""
    name = f"${{{leaf.question}}}"
    target = before.get(leaf.question)
    if target is None:
        if leaf.question == qid:
            reader.problem(where, f"names {name}, this question itself (a question can depend only on earlier ones)")
        elif leaf.question in all_ids:
            reader.problem(where, f"names {name}, which is not before this question (a question can depend only on "
                           "earlier ones)")
        else:
            reader.problem(where, f"names {name}, which is not a question in this file")
        return
    kind = target.kind
    if kind in WITH_OPTIONS and not (target.points if kind is QuestionKind.SCALE else target.options):
        return  # the question's own options are wrong, and said so: more here would only confuse
    if not target.answerable:
        reader.problem(where, f"names {name}, an info page, which has no answer")
    elif isinstance(leaf, Selected):
        if kind is not QuestionKind.MULTI:
            reader.problem(where, f"selected() needs a multi question; {name} is a {kind.value} question"
                           + (f": write {name} = '{leaf.option}'" if kind is QuestionKind.CHOICE else ""))
        elif target.option(leaf.option) is None:
            reader.problem(where, f"'{leaf.option}' is not an option of {name} ({_options_of(target)})")
    elif isinstance(leaf, Compare) and isinstance(leaf.value, str):
        _check_option_test(reader, where, leaf, leaf.value, target)
    elif isinstance(leaf, Compare) and isinstance(leaf.value, int):
        _check_number_test(reader, where, leaf, leaf.value, target)


def _check_option_test(reader: FileReader, where: str, leaf: Compare, value: str, target: Question) -> None:
    """`${q} = 'option'`: only a choice or a scale has one chosen option, and only = and != compare it."""
    name, kind = f"${{{leaf.question}}}", target.kind
    hints = {
        QuestionKind.MULTI: f"use selected({name}, '{leaf.value}')",
        QuestionKind.NUMBER: f"compare it with a whole number, as in {name} >= 2, or use answered({name})",
        QuestionKind.TEXT: f"a text answer can only be tested with answered({name})",
    }
    if kind in hints:
        reader.problem(where, f"{name} is a {kind.value} question, so it has no option '{leaf.value}': {hints[kind]}")
    elif leaf.op in ORDERING:
        reader.problem(where, f"{leaf.op} compares numbers; '{leaf.value}' is an option (use = or !=)"
                       + (", or compare the scale's points as numbers" if kind is QuestionKind.SCALE else ""))
    elif target.option(value) is None:
        reader.problem(where, f"'{value}' is not an option of {name} ({_options_of(target)})")


def _check_number_test(reader: FileReader, where: str, leaf: Compare, value: int, target: Question) -> None:
    """`${q} >= 3`: a number question within its range, or a scale by its points (n for the first down to 1)."""
    name, kind = f"${{{leaf.question}}}", target.kind
    if kind is QuestionKind.SCALE:
        if target.points and not 1 <= value <= len(target.points):
            reader.problem(where, f"{name} scores 1 to {len(target.points)} (the first point scores "
                           f"{len(target.points)}); {value} is outside")
    elif kind is QuestionKind.NUMBER:
        low, high = target.minimum, target.maximum
        if low is not None and high is not None and low <= high and not low <= value <= high:
            reader.problem(where, f"{name} takes {low} to {high}; {value} is outside, so the test never changes")
    elif kind is QuestionKind.MULTI:
        reader.problem(where, f"{name} is a multi question: test its ticks with selected({name}, 'option')")
    elif kind is QuestionKind.CHOICE:
        reader.problem(where, f"{name} is a choice question: compare it with an option in quotes, as in "
                       f"{name} = '{target.options[0].id if target.options else 'yes'}'")
    else:
        reader.problem(where, f"{name} is a {kind.value} question: a text answer can only be tested with "
                       f"answered({name})")
