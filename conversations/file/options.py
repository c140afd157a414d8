"""A question's buttons: a choice's or multi's options, a scale's points (a preset or listed) and its "don't know",
and how many options a multi may have ticked."""

from __future__ import annotations

from typing import Any

from conversations.file.reader import ID_PATTERN, FileReader
from conversations.flow.matching import normalise
from conversations.model import DONT_KNOW, WITH_OPTIONS, Option, QuestionKind
from conversations.screens.buttons import MAX_BUTTON_BYTES, option_button_id

OPTION_KEYS = frozenset({"id", "label", "words", "exclusive"})


class OptionReader:
    """Reads [[questions.options]] and scale presets, one readable line per problem."""

    def __init__(self, reader: FileReader, scales: dict[str, tuple[Option, ...]],
                 navigation_words: dict[str, tuple[str, ...]]) -> None:
        self.reader = reader
        self.scales = scales
        self.navigation = {word: action for action, words in navigation_words.items() for word in words}

    def options(self, table: dict[str, Any], where: str, qid: str, kind: QuestionKind) -> tuple[Option, ...]:
        """A choice's or multi's options, or a scale's points and its "don't know"; nothing for other kinds."""
        if kind not in WITH_OPTIONS:
            return ()
        if kind is QuestionKind.SCALE:
            return self.scale_points(table, where, qid)
        found = self.listed(table, where, qid, kind)
        if len(found) < 2:
            self.reader.problem(f"{where}.options", f"a {kind.value} question needs at least two options "
                                "([[questions.options]] with id and label)")
        elif kind is QuestionKind.MULTI and all(o.exclusive for o in found):
            self.reader.problem(f"{where}.options", "every option has exclusive = true, so only one can be ticked: "
                                "use kind = \"choice\"")
        return found

    def listed(self, table: dict[str, Any], where: str, qid: str, kind: QuestionKind) -> tuple[Option, ...]:
        """[[questions.options]] in the order written."""
        raw = table.get("options", [])
        if not isinstance(raw, list):
            self.reader.problem(f"{where}.options", "should be a list of tables ([[questions.options]])")
            return ()
        found = []
        for index, option in enumerate(raw, start=1):
            at = f"{where}.options[{index}]"
            if not isinstance(option, dict):
                self.reader.problem(at, "should be a table with id and label ([[questions.options]])")
                continue
            found.append(self.one(option, at, qid, kind))
        self.reader.unique([o.id for o in found], f"{where}.options")
        return tuple(found)

    def one(self, option: dict[str, Any], at: str, qid: str, kind: QuestionKind) -> Option:
        """One option: an id that fits in button data, a label, typed words, and `exclusive` on a multi."""
        self.reader.unknown_keys(option, OPTION_KEYS, at, "an option")
        oid = self.option_id(option.get("id"), at, qid, kind)
        exclusive = self.reader.flag(option, "exclusive", f"{at}.exclusive")
        if exclusive and kind is not QuestionKind.MULTI:
            self.reader.problem(f"{at}.exclusive", f"only an option of a multi question can stand alone; this is a "
                                f"{kind.value} question, where every option stands alone already")
        return Option(id=oid, label=self.reader.label(option, "label", f"{at}.label"),
                      words=self.words(option.get("words", []), f"{at}.words", kind), exclusive=exclusive)

    def option_id(self, oid: object, at: str, qid: str, kind: QuestionKind) -> str:
        """a-z, 0-9, - and _, short enough to travel with its question's id in Telegram's 64 bytes."""
        if not isinstance(oid, str) or not oid:
            self.reader.problem(f"{at}.id", "is missing")
            return ""
        if not ID_PATTERN.match(oid):
            self.reader.problem(f"{at}.id", f"'{oid}' should use only a-z, 0-9, - and _ (at most 40 characters)")
        elif len(option_button_id(qid, oid).encode()) > MAX_BUTTON_BYTES:
            self.reader.problem(f"{at}.id", f"'{oid}' is too long: with the question id '{qid}' it would not fit "
                                f"Telegram's {MAX_BUTTON_BYTES}-byte button data (shorten either)")
        elif oid == DONT_KNOW and kind is QuestionKind.SCALE:
            self.reader.problem(f"{at}.id", f"'{DONT_KNOW}' is made by dont_know = \"...\", not listed as a point")
        return oid

    def words(self, value: object, where: str, kind: QuestionKind) -> tuple[str, ...]:
        """Typed equivalents, kept as the matcher compares them: lower case, single spaces, no end punctuation."""
        if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
            self.reader.problem(where, "should be a list of words, such as [\"yes\", \"y\"]")
            return ()
        found = []
        for word in (normalise(w) for w in value):
            if not word:
                self.reader.problem(where, "has an empty word")
            elif word in self.navigation:
                self.reader.problem(where, f"'{word}' is the word for {self.navigation[word].title()}, so typing it "
                                    "could never choose this option")
            elif kind is QuestionKind.MULTI and word.isdigit():
                self.reader.problem(where, f"'{word}' is a number, and typing a number ticks the option in that place")
            else:
                found.append(word)
        return tuple(found)

    def scale_points(self, table: dict[str, Any], where: str, qid: str) -> tuple[Option, ...]:
        """A preset's points or the listed ones, most positive first; then "don't know" when the file asks."""
        preset = table.get("scale")
        points: tuple[Option, ...] = ()
        if preset is not None and "options" in table:
            self.reader.problem(f"{where}.scale", "give either scale = \"<preset>\" or the points as options, not both")
        if preset is not None:
            known = self.scales.get(preset) if isinstance(preset, str) else None
            if known is None:
                self.reader.problem(f"{where}.scale", f"'{preset}' is not a scale (you can use "
                                    f"{', '.join(sorted(self.scales))}, or list the points as options)")
            points = known or ()
        elif "options" in table:
            points = self.listed(table, where, qid, QuestionKind.SCALE)
            if len(points) < 2:
                self.reader.problem(f"{where}.options", "a scale needs at least two points, most positive first")
        else:
            self.reader.problem(f"{where}.scale", "is missing: a scale question needs scale = \"<preset>\" (such as "
                                f"{', '.join(sorted(self.scales))}) or its points as options")
        if "dont_know" not in table:
            return points
        label = self.reader.label(table, "dont_know", f"{where}.dont_know")
        return (*points, Option(DONT_KNOW, label, (normalise(label),) if label else ()))

    def choice_limits(self, table: dict[str, Any], where: str, options: tuple[Option, ...]) -> tuple[int, int | None]:
        """A multi's min_choices (default 1) and max_choices (default: all), within its options."""
        least = self.reader.whole_number(table, "min_choices", f"{where}.min_choices", 1)
        most = self.reader.whole_number(table, "max_choices", f"{where}.max_choices", None)
        count = len(options)
        together = len([o for o in options if not o.exclusive])  # an option that stands alone clears the others
        least = 1 if least is None else least
        if together and not 1 <= least <= together:
            self.reader.problem(f"{where}.min_choices", f"is {least}; it should be from 1 to {together}, the options "
                                "that can be ticked together")
        if most is not None and count and not 1 <= most <= count:
            self.reader.problem(f"{where}.max_choices", f"is {most}; it should be from 1 to {count}, the options")
        elif most is not None and least > most:
            self.reader.problem(f"{where}.min_choices", f"is {least}, more than max_choices ({most})")
        return least, most
