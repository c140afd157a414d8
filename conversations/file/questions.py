"""Reads [[questions]] and [[measures]] to issue 13's contract: every kind, its options, show_if and its limits."""

from __future__ import annotations

from typing import Any

from conversations import expressions
from conversations.expressions import ORDERING, Answered, Compare, Expression, ExpressionError, Selected
from conversations.file.reader import ID_PATTERN, FileReader
from conversations.model import DONT_KNOW, WITH_OPTIONS, Measure, Option, Question, QuestionKind
from conversations.screens.buttons import MAX_BUTTON_BYTES, done_button_id, next_button_id, option_button_id

KEYS: dict[QuestionKind, frozenset[str]] = {
    kind: frozenset({"id", "kind", "text", "context", "topic", "objectives", "show_if"}) for kind in QuestionKind
}
KEYS[QuestionKind.TEXT] |= {"max_length", "required"}
KEYS[QuestionKind.CHOICE] |= {"options", "reason_prompt", "max_length", "required"}
KEYS[QuestionKind.MULTI] |= {"options", "reason_prompt", "max_length", "required", "min_choices", "max_choices"}
KEYS[QuestionKind.SCALE] |= {"options", "scale", "dont_know", "reason_prompt", "max_length", "required"}
KEYS[QuestionKind.NUMBER] |= {"min", "max", "unit", "required"}
STATIC_PLACEHOLDERS = {"organisation", "title"}  # filled in once, as the file is read


class QuestionReader:
    """One pass over the questions in file order, so each show_if is checked against the questions before it."""

    def __init__(self, reader: FileReader, organisation: str, title: str, objective_ids: set[str],
                 topic_ids: set[str], scales: dict[str, tuple[Option, ...]]) -> None:
        self.reader = reader
        self.fills = {"organisation": organisation, "title": title}
        self.objective_ids = objective_ids
        self.topic_ids = topic_ids
        self.scales = scales
        self.all_ids: set[str] = set()

    def problem(self, key: str, what: str) -> None:
        self.reader.problem(key, what)

    def words(self, table: dict[str, Any], key: str, where: str, required: bool = False) -> str:
        """Tenant-facing text with {organisation} and {title} filled in."""
        value = self.reader.text(table, key, where, required=required)
        self.reader.placeholders(where, value, STATIC_PLACEHOLDERS)
        for name, filling in self.fills.items():
            value = value.replace("{" + name + "}", filling)
        return value.replace("{{", "{").replace("}}", "}")

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

    def question(self, table: dict[str, Any], number: int, earlier: list[Question]) -> Question:
        """One page: its kind, what that kind needs, and when it is shown."""
        where = f"questions[{number}]"
        qid = self.reader.identifier(table, where)
        kind_name = table.get("kind", "")
        try:
            kind = QuestionKind(kind_name)
        except ValueError:
            self.problem(f"{where}.kind", f"'{kind_name}' should be one of {', '.join(k.value for k in QuestionKind)}")
            kind = QuestionKind.TEXT
        for key in sorted(set(table) - KEYS[kind]):
            self.problem(f"{where}.{key}", f"is not used by a {kind.value} question"
                         + (" (an info page has only text)" if kind is QuestionKind.INFO else ""))
        topic = table.get("topic", "")
        if topic and topic not in self.topic_ids:
            self.problem(f"{where}.topic", f"'{topic}' is not one of the topics {sorted(self.topic_ids)}")
        objectives = table.get("objectives", [])
        if not isinstance(objectives, list):
            self.problem(f"{where}.objectives", "should be a list of objective ids")
            objectives = []
        for objective in objectives:
            if objective not in self.objective_ids:
                self.problem(f"{where}.objectives", f"'{objective}' is not one of the objectives")
        limit = self.reader.whole_number(table, "max_length", f"{where}.max_length", 2000) or 2000
        if not 1 <= limit <= 3500:
            self.problem(f"{where}.max_length", "should be a whole number from 1 to 3500")
            limit = 2000
        self.button_fits(where, qid, done_button_id(qid) if kind is QuestionKind.MULTI else next_button_id(qid))
        show_if, source = self.show_if(table, where, earlier)
        question = Question(
            id=qid, number=number, text=self.words(table, "text", f"{where}.text", required=True), kind=kind,
            topic=topic if isinstance(topic, str) else "",
            context=self.words(table, "context", f"{where}.context"),
            objectives=tuple(str(o) for o in objectives),
            options=self.options(table, where, qid, kind),
            reason_prompt=self.words(table, "reason_prompt", f"{where}.reason_prompt"),
            max_length=limit, required=self.reader.flag(table, "required", f"{where}.required"),
            show_if=show_if, show_if_source=source,
        )
        if kind is QuestionKind.MULTI:
            return self.choice_limits(table, where, question)
        if kind is QuestionKind.NUMBER:
            return self.number_range(table, where, question)
        return question

    def button_fits(self, where: str, qid: str, button_id: str) -> None:
        """Telegram carries at most 64 bytes of button data."""
        if len(button_id.encode()) > MAX_BUTTON_BYTES:
            self.problem(f"{where}.id", f"'{qid}' is too long to fit Telegram's {MAX_BUTTON_BYTES}-byte button data")

    def options(self, table: dict[str, Any], where: str, qid: str, kind: QuestionKind) -> tuple[Option, ...]:
        """A choice's or multi's options, or a scale's points (a preset or listed) and its "don't know"."""
        if kind not in WITH_OPTIONS:
            return ()
        if kind is QuestionKind.SCALE:
            return self.scale_points(table, where, qid)
        found = self.listed_options(table, where, qid, kind)
        if len(found) < 2:
            self.problem(f"{where}.options", f"a {kind.value} question needs at least two options")
        return found

    def listed_options(self, table: dict[str, Any], where: str, qid: str, kind: QuestionKind) -> tuple[Option, ...]:
        """[[questions.options]]: id, label, words, and exclusive (multi only)."""
        raw_options = table.get("options", [])
        if not isinstance(raw_options, list):
            self.problem(f"{where}.options", "should be a list of tables ([[questions.options]])")
            return ()
        found = []
        for index, option in enumerate(raw_options, start=1):
            at = f"{where}.options[{index}]"
            if not isinstance(option, dict):
                self.problem(at, "should be a table with id and label")
                continue
            oid = option.get("id")
            if not isinstance(oid, str) or not oid:
                self.problem(f"{at}.id", "is missing")
                oid = ""
            elif len(option_button_id(qid, oid).encode()) > MAX_BUTTON_BYTES:
                self.problem(f"{at}.id", f"'{oid}' is too long: with the question id it would not fit Telegram's "
                             f"{MAX_BUTTON_BYTES}-byte button data")
            elif not ID_PATTERN.match(oid):
                self.problem(f"{at}.id", f"'{oid}' should use only a-z, 0-9, - and _")
            elif oid == DONT_KNOW and kind is QuestionKind.SCALE:
                self.problem(f"{at}.id", f"'{DONT_KNOW}' is made by dont_know = \"...\", not listed as a point")
            words = option.get("words", [])
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                self.problem(f"{at}.words", "should be a list of words")
                words = []
            exclusive = self.reader.flag(option, "exclusive", f"{at}.exclusive")
            if exclusive and kind is not QuestionKind.MULTI:
                self.problem(f"{at}.exclusive", "only an option of a multi question can stand alone")
            for key in sorted(set(option) - {"id", "label", "words", "exclusive"}):
                self.problem(f"{at}.{key}", "is not a key of an option (id, label, words, exclusive)")
            found.append(Option(id=oid, label=self.words(option, "label", f"{at}.label", required=True),
                                words=tuple(w.strip().lower() for w in words), exclusive=exclusive))
        self.reader.unique([o.id for o in found], f"{where}.options")
        return tuple(found)

    def scale_points(self, table: dict[str, Any], where: str, qid: str) -> tuple[Option, ...]:
        """A preset's points or the listed ones, most positive first; then "don't know" when the file asks."""
        preset = table.get("scale")
        if preset is not None and "options" in table:
            self.problem(f"{where}.scale", "give either scale = \"<preset>\" or the points as options, not both")
        if preset is not None:
            points = self.scales.get(str(preset))
            if points is None:
                self.problem(f"{where}.scale", f"'{preset}' is not a scale (you can use {sorted(self.scales)})")
                points = ()
        elif "options" in table:
            points = self.listed_options(table, where, qid, QuestionKind.SCALE)
        else:
            self.problem(f"{where}.scale", "a scale question needs scale = \"<preset>\" or its points as options")
            points = ()
        if preset is None and 0 < len(points) < 2:
            self.problem(f"{where}.options", "a scale needs at least two points")
        dont_know = table.get("dont_know")
        if dont_know is None:
            return tuple(points)
        label = self.words(table, "dont_know", f"{where}.dont_know", required=True)
        return (*points, Option(DONT_KNOW, label, (label.strip().lower(),)))

    def choice_limits(self, table: dict[str, Any], where: str, question: Question) -> Question:
        """min_choices (default 1) and max_choices (default: all) of a multi."""
        from dataclasses import replace

        least = self.reader.whole_number(table, "min_choices", f"{where}.min_choices", 1) or 1
        most = self.reader.whole_number(table, "max_choices", f"{where}.max_choices", None)
        count = len(question.options)
        if least < 1 or (count and least > count):
            self.problem(f"{where}.min_choices", f"should be from 1 to the {count} options")
        if most is not None and (most < 1 or (count and most > count)):
            self.problem(f"{where}.max_choices", f"should be from 1 to the {count} options")
        if most is not None and least > most:
            self.problem(f"{where}.min_choices", f"is {least}, more than max_choices ({most})")
        return replace(question, min_choices=least, max_choices=most)

    def number_range(self, table: dict[str, Any], where: str, question: Question) -> Question:
        """A number question's min and max (both required) and its unit ("people")."""
        from dataclasses import replace

        low = self.reader.whole_number(table, "min", f"{where}.min", None)
        high = self.reader.whole_number(table, "max", f"{where}.max", None)
        for key, value in (("min", low), ("max", high)):
            if value is None and key not in table:
                self.problem(f"{where}.{key}", "is missing: a number question needs min and max")
        if low is not None and high is not None and low > high:
            self.problem(f"{where}.min", f"is {low}, more than max ({high})")
        unit = self.words(table, "unit", f"{where}.unit")
        return replace(question, minimum=low, maximum=high, unit=unit)

    def show_if(self, table: dict[str, Any], where: str, earlier: list[Question]
                ) -> tuple[Expression | None, str]:
        """The expression, read and checked against the questions before this one."""
        source = table.get("show_if")
        if source is None:
            return None, ""
        if not isinstance(source, str):
            self.problem(f"{where}.show_if", "should be text such as \"${q2} = 'yes'\"")
            return None, ""
        try:
            tree = expressions.parse(source)
        except ExpressionError as error:
            self.problem(f"{where}.show_if", f"{error}")
            return None, source
        before = {q.id: q for q in earlier}
        later = self.all_ids - set(before)
        for leaf in expressions.leaves(tree):
            self.check_leaf(f"{where}.show_if", leaf, before, later)
        return tree, source

    def check_leaf(self, where: str, leaf: Compare | Selected | Answered, before: dict[str, Question],
                   later: set[str]) -> None:
        """One comparison or call: an earlier question that takes an answer, of a kind the test makes sense for."""
        target = before.get(leaf.question)
        if target is None:
            if leaf.question in later:
                self.problem(where, f"names ${{{leaf.question}}}, which is not before this question "
                             "(a question can depend only on earlier ones)")
            else:
                self.problem(where, f"names ${{{leaf.question}}}, which is not a question in this file")
            return
        if not target.answerable:
            self.problem(where, f"names ${{{leaf.question}}}, an info page, which has no answer")
            return
        if isinstance(leaf, Answered):
            return
        kind = target.kind
        if isinstance(leaf, Selected):
            if kind is not QuestionKind.MULTI:
                self.problem(where, f"selected() needs a multi question; ${{{leaf.question}}} is {kind.value}")
            elif target.option(leaf.option) is None:
                self.problem(where, f"'{leaf.option}' is not an option of ${{{leaf.question}}}")
            return
        if isinstance(leaf.value, str):
            if kind not in (QuestionKind.CHOICE, QuestionKind.SCALE):
                hint = "use selected(...)" if kind is QuestionKind.MULTI else "use answered(...) or a number"
                self.problem(where, f"${{{leaf.question}}} is a {kind.value} question: {hint}")
            elif leaf.op in ORDERING:
                self.problem(where, f"{leaf.op} compares numbers; '{leaf.value}' is an option (use = or !=)")
            elif target.option(leaf.value) is None:
                self.problem(where, f"'{leaf.value}' is not an option of ${{{leaf.question}}}")
            return
        if kind not in (QuestionKind.NUMBER, QuestionKind.SCALE):
            self.problem(where, f"${{{leaf.question}}} is a {kind.value} question: compare it with an option in "
                         "quotes, not a number")
        elif kind is QuestionKind.SCALE and not 1 <= leaf.value <= len(target.points):
            self.problem(where, f"${{{leaf.question}}} scores 1 to {len(target.points)}; {leaf.value} is outside")

    def measures(self, questions: tuple[Question, ...]) -> tuple[Measure, ...]:
        """[[measures]]: the % of those who answered a question who gave one of some options."""
        found = []
        by_id = {q.id: q for q in questions}
        for index, table in enumerate(self.reader.tables("measures"), start=1):
            where = f"measures[{index}]"
            mid = self.reader.identifier(table, where)
            question = by_id.get(str(table.get("question", "")))
            if question is None:
                self.problem(f"{where}.question", f"'{table.get('question', '')}' is not a question in this file")
            elif question.kind not in WITH_OPTIONS:
                self.problem(f"{where}.question", f"'{question.id}' is a {question.kind.value} question; a measure "
                             "counts options of a choice, scale or multi")
            counts = table.get("counts", [])
            if not isinstance(counts, list) or not counts or not all(isinstance(c, str) for c in counts):
                self.problem(f"{where}.counts", "should be a list of option ids, for example [\"very_satisfied\"]")
                counts = []
            for option in counts:
                if question is not None and question.option(option) is None:
                    self.problem(f"{where}.counts", f"'{option}' is not an option of '{question.id}'")
                elif option == DONT_KNOW:
                    self.problem(f"{where}.counts", "\"don't know\" is left out of a measure's base, so it cannot "
                                 "be counted in it")
            found.append(Measure(mid, self.words(table, "title", f"{where}.title", required=True),
                                 question.id if question else "", tuple(counts)))
        self.reader.unique([m.id for m in found], "measures")
        return tuple(found)
