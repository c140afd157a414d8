"""Reads [[questions]] to issue 13's contract: every kind with only its own keys, its options, limits and show_if."""

from __future__ import annotations

from typing import Any

from conversations.file.options import OptionReader
from conversations.file.reader import FileReader, did_you_mean
from conversations.file.show_if import read_show_if
from conversations.model import Option, Question, QuestionKind
from conversations.screens import buttons

COMMON = frozenset({"id", "kind", "text", "show_if"})
ASKED = COMMON | {"context", "topic", "objectives", "required"}
WITH_REASON = ASKED | {"options", "reason_prompt", "max_length"}
KEYS: dict[QuestionKind, frozenset[str]] = {
    QuestionKind.TEXT: ASKED | {"max_length"},
    QuestionKind.CHOICE: WITH_REASON,
    QuestionKind.MULTI: WITH_REASON | {"min_choices", "max_choices"},
    QuestionKind.SCALE: WITH_REASON | {"scale", "dont_know"},
    QuestionKind.NUMBER: ASKED | {"min", "max", "unit", "unit_one"},
    QuestionKind.INFO: COMMON,
}
EVERY_KEY = frozenset().union(*KEYS.values())
MAX_LENGTH = 3500  # leaves room in one 4096-character message for the answer shown back with its question
QUESTION_BUTTONS = (buttons.next_button_id, buttons.done_button_id, buttons.skip_button_id, buttons.back_button_id,
                    buttons.change_button_id)


class QuestionReader:
    """One pass over the questions in file order, so each show_if is checked against the questions before it."""

    def __init__(self, reader: FileReader, objective_ids: set[str], topic_ids: set[str],
                 scales: dict[str, tuple[Option, ...]], navigation_words: dict[str, tuple[str, ...]]) -> None:
        self.reader = reader
        self.objective_ids = objective_ids
        self.topic_ids = topic_ids
        self.options = OptionReader(reader, scales, navigation_words)
        self.all_ids: set[str] = set()

    def problem(self, key: str, what: str) -> None:
        """Every problem goes to the file's one list, so all of them are reported together."""
        self.reader.problem(key, what)

    def questions(self) -> tuple[Question, ...]:
        """Every page, in the order tenants meet them."""
        tables = self.reader.tables("questions")
        if not tables:
            self.problem("questions", "there are no questions")
        self.all_ids = {str(table.get("id")) for table in tables}
        found: list[Question] = []
        for number, table in enumerate(tables, start=1):
            found.append(self.question(table, number, found))
        self.reader.unique([q.id for q in found], "questions")
        if found and not any(q.answerable for q in found):
            self.problem("questions", "there are only info pages: nothing would be asked")
        return tuple(found)

    def question(self, given: dict[str, Any], number: int, earlier: list[Question]) -> Question:
        """One page: its kind, what that kind needs, and when it is shown."""
        where = f"questions[{number}]"
        qid = self.reader.identifier(given, where)
        kind = self.kind(given, where)
        if kind is not None:
            self.keys(given, where, kind)
        kind = kind or QuestionKind.TEXT
        table = {key: value for key, value in given.items() if key in KEYS[kind]}  # each problem is named once
        self.button_fits(where, qid)
        show_if, source = read_show_if(self.reader, table.get("show_if"), f"{where}.show_if", qid, earlier,
                                       self.all_ids)
        options = self.options.options(table, where, qid, kind)
        least, most = self.options.choice_limits(table, where, options) if kind is QuestionKind.MULTI else (1, None)
        low, high = self.number_range(table, where) if kind is QuestionKind.NUMBER else (None, None)
        return Question(
            id=qid, number=number, text=self.reader.words(table, "text", f"{where}.text", required=True), kind=kind,
            topic=self.topic(table, where), context=self.reader.words(table, "context", f"{where}.context"),
            objectives=self.objectives(table, where), options=options,
            reason_prompt=self.reader.words(table, "reason_prompt", f"{where}.reason_prompt"),
            max_length=self.max_length(table, where), required=self.reader.flag(table, "required", f"{where}.required"),
            show_if=show_if, show_if_source=source, min_choices=least, max_choices=most, minimum=low, maximum=high,
            unit=self.reader.words(table, "unit", f"{where}.unit"),
            unit_one=self.reader.words(table, "unit_one", f"{where}.unit_one"),
        )

    def kind(self, table: dict[str, Any], where: str) -> QuestionKind | None:
        """What the tenant does: one of the six kinds (None, with a problem, if it is missing or unknown)."""
        name = table.get("kind")
        kinds = ", ".join(k.value for k in QuestionKind)
        if name is None:
            self.problem(f"{where}.kind", f"is missing: one of {kinds}")
            return None
        try:
            return QuestionKind(name)
        except ValueError:
            self.problem(f"{where}.kind", f"'{name}' should be one of {kinds}")
            return None

    def keys(self, table: dict[str, Any], where: str, kind: QuestionKind) -> None:
        """Only this kind's keys: a typo, or a key of another kind, would otherwise be silently ignored."""
        for key in sorted(set(table) - KEYS[kind]):
            if key not in EVERY_KEY:
                own = f" (a {kind.value} question can have {', '.join(sorted(KEYS[kind]))})"
                hint = did_you_mean(key, KEYS[kind]) or did_you_mean(key, EVERY_KEY) or own
                self.problem(f"{where}.{key}", f"is not a key of a question{hint}")
            elif kind is QuestionKind.INFO:
                self.problem(f"{where}.{key}", "is not used by an info page: it has only text (and show_if); "
                             "nothing is asked or stored")
            else:
                users = [k.value for k in QuestionKind if key in KEYS[k]]
                self.problem(f"{where}.{key}", f"is not used by a {kind.value} question (only by "
                             f"{' and '.join(users)})")

    def button_fits(self, where: str, qid: str) -> None:
        """Telegram carries at most 64 bytes of button data, and every button names its question."""
        longest = max((make(qid) for make in QUESTION_BUTTONS), key=lambda b: len(b.encode()))
        if len(longest.encode()) > buttons.MAX_BUTTON_BYTES:
            self.problem(f"{where}.id", f"'{qid}' is too long to fit Telegram's {buttons.MAX_BUTTON_BYTES}-byte "
                         "button data")

    def topic(self, table: dict[str, Any], where: str) -> str:
        """The optional heading the question is asked under."""
        topic = table.get("topic", "")
        if not isinstance(topic, str):
            self.problem(f"{where}.topic", "should be the id of one of the topics, in quotes")
            return ""
        if topic and topic not in self.topic_ids:
            known = ", ".join(sorted(self.topic_ids)) if self.topic_ids else "none: add [[topics]]"
            self.problem(f"{where}.topic", f"'{topic}' is not one of the topics ({known})")
        return topic

    def objectives(self, table: dict[str, Any], where: str) -> tuple[str, ...]:
        """The optional objectives explained before the question."""
        objectives = table.get("objectives", [])
        if not isinstance(objectives, list) or not all(isinstance(o, str) for o in objectives):
            self.problem(f"{where}.objectives", "should be a list of objective ids, such as [\"value_for_money\"]")
            return ()
        for objective in objectives:
            if objective not in self.objective_ids:
                known = ", ".join(sorted(self.objective_ids)) if self.objective_ids else "none: add [[objectives]]"
                self.problem(f"{where}.objectives", f"'{objective}' is not one of the objectives ({known})")
        return tuple(objectives)

    def max_length(self, table: dict[str, Any], where: str) -> int:
        """The most characters of typed words (a text answer, or the reason after a choice)."""
        limit = self.reader.whole_number(table, "max_length", f"{where}.max_length", 2000)
        if limit is None or not 1 <= limit <= MAX_LENGTH:
            self.problem(f"{where}.max_length", f"should be a whole number from 1 to {MAX_LENGTH}")
            return 2000
        return limit

    def number_range(self, table: dict[str, Any], where: str) -> tuple[int | None, int | None]:
        """A number question's min and max, both required."""
        low = self.reader.whole_number(table, "min", f"{where}.min", None)
        high = self.reader.whole_number(table, "max", f"{where}.max", None)
        for key in ("min", "max"):
            if key not in table:
                self.problem(f"{where}.{key}", "is missing: a number question needs min and max")
        if low is not None and high is not None and low > high:
            self.problem(f"{where}.min", f"is {low}, more than max ({high})")
        return low, high
