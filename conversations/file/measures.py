"""[[measures]]: headline figures for the board, each the % of those who answered a question who gave some options."""

from __future__ import annotations

from conversations.file.reader import FileReader
from conversations.model import DONT_KNOW, WITH_OPTIONS, Measure, Question

MEASURE_KEYS = frozenset({"id", "title", "question", "counts"})


def read_measures(reader: FileReader, questions: tuple[Question, ...]) -> tuple[Measure, ...]:
    """Every measure, checked against the questions and options it counts."""
    found = []
    by_id = {q.id: q for q in questions}
    for index, table in enumerate(reader.tables("measures"), start=1):
        where = f"measures[{index}]"
        reader.unknown_keys(table, MEASURE_KEYS, where, "a measure")
        mid = reader.identifier(table, where)
        question = _question(reader, table.get("question"), f"{where}.question", by_id)
        counts = _counts(reader, table.get("counts"), f"{where}.counts", question)
        found.append(Measure(mid, reader.words(table, "title", f"{where}.title", required=True),
                             question.id if question else "", counts))
    reader.unique([m.id for m in found], "measures")
    return tuple(found)


def _question(reader: FileReader, value: object, where: str, by_id: dict[str, Question]) -> Question | None:
    """The choice, scale or multi question the measure counts."""
    if not isinstance(value, str) or not value:
        reader.problem(where, "is missing: the id of the question this measure counts")
        return None
    question = by_id.get(value)
    if question is None:
        reader.problem(where, f"'{value}' is not a question in this file")
    elif question.kind not in WITH_OPTIONS:
        reader.problem(where, f"'{value}' is a {question.kind.value} question; a measure counts the options of a "
                       "choice, scale or multi question")
        return None
    return question


def _counts(reader: FileReader, value: object, where: str, question: Question | None) -> tuple[str, ...]:
    """The option ids that count towards the figure: real options, and never "don't know"."""
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        reader.problem(where, "should be a list of option ids, for example [\"very_satisfied\"]")
        return ()
    for option in value:
        if option == DONT_KNOW:
            reader.problem(where, "cannot count 'dont_know': \"don't know\" is left out of a measure's base")
        elif question is not None and question.options and question.option(option) is None:
            reader.problem(where, f"'{option}' is not an option of '{question.id}' (its options are "
                           f"{', '.join(o.id for o in question.options)})")
    reader.unique(list(value), where)
    return tuple(value)
