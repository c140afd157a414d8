"""An edited analysis.xlsx read back and checked: every problem found, one line each, before anything changes."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conversations.model import Consultation, Question
from storage.export.layout import numbered
from storage.themes.edits import AnswerEdit, QuestionEdits, ThemeEdit, WorkbookEdits
from storage.themes.sheets import ANSWER_COLUMNS, NO_THEME, THEME_COLUMNS, WorkbookProblems, answers_sheet, themes_sheet
from storage.themes.store import QuestionCoding

YES = frozenset({"yes", "y", "x", "true", "1", "delete"})
NO = frozenset({"", "no", "n", "false", "0"})
SEPARATORS = re.compile(r"[;\n]")
LEADING_ID = re.compile(r"^\s*([TS]\d+)\b", re.IGNORECASE)
NEW_THEME_EXAMPLES = 2  # a theme staff add needs a name and this many answers marked with it


def _text(value: Any) -> str:
    """A cell as trimmed text ('' for empty); a leading quote added on export is not part of the value."""
    if value is None:
        return ""
    text = str(value).strip()
    return text[1:] if text.startswith("'") else text


@dataclass
class _Sheet:
    """A sheet's rows as dicts by heading, with their row numbers in Excel's counting."""

    name: str
    rows: list[tuple[int, dict[str, str]]]


def _sheet(book: Any, name: str, columns: Sequence[str], problems: list[str], say: Any) -> _Sheet | None:
    """One sheet by name with every heading present; a missing sheet or heading is a problem."""
    if name not in book.sheetnames:
        problems.append(say("themes_problem_no_sheet", sheet=name))
        return None
    rows = book[name].iter_rows(values_only=True)
    heading = [_text(v).lower() for v in next(rows, ())]
    missing = [c for c in columns if c not in heading]
    if missing:
        problems.append(say("themes_problem_no_column", sheet=name, columns=", ".join(f"'{c}'" for c in missing)))
        return None
    where = {c: heading.index(c) for c in columns}
    found = []
    for number, values in enumerate(rows, start=2):
        cells = {c: _text(values[i]) if i < len(values) else "" for c, i in where.items()}
        if any(cells.values()):
            found.append((number, cells))
    return _Sheet(name, found)


class _Question:
    """Checks one question's two sheets against what is stored, collecting edits and problems."""

    def __init__(self, question: Question, place: int, coding: QuestionCoding, say: Any, problems: list[str]):
        self.question, self.place, self.coding, self.say, self.problems = question, place, coding, say, problems
        self.stored = {t.id.upper(): t for t in coding.themes}
        self.by_name: dict[str, str] = {}
        self.targets: dict[str, str] = {}  # theme id -> where its answers go (itself, or what it merges into)
        self.deleted: set[str] = set()
        self.new: dict[str, ThemeEdit] = {}

    def problem(self, sheet: str, row: int, key: str, **values: object) -> None:
        """One line: which sheet and row, and what to do."""
        self.problems.append(self.say("themes_problem_row", sheet=sheet, row=row,
                                      problem=self.say(key, **values)))

    def themes(self, sheet: _Sheet) -> list[ThemeEdit]:
        """New themes, wording, merges and deletions, with every reference to a theme resolved."""
        edits, pending = [], []
        used = {t.id.upper() for t in self.coding.themes}
        for row, cells in sheet.rows:
            theme_id, name = cells["id"].upper(), cells["name"]
            if not name:
                self.problem(sheet.name, row, "themes_problem_no_name")
                continue
            if SEPARATORS.search(name):  # cells list themes split at ';' or line breaks: a name cannot hold them
                self.problem(sheet.name, row, "themes_problem_name_separator", name=name)
                continue
            if theme_id and (theme_id not in self.stored or not self.stored[theme_id].live):
                self.problem(sheet.name, row, "themes_problem_unknown_id", id=cells["id"])
                continue
            if not theme_id:
                number = 1
                while f"S{number}" in used:
                    number += 1
                theme_id = f"S{number}"
                used.add(theme_id)
            if name.lower() in self.by_name:
                self.problem(sheet.name, row, "themes_problem_same_name", name=name)
                continue
            self.by_name[name.lower()] = theme_id
            self.targets[theme_id] = theme_id
            pending.append((row, theme_id, cells))
        for row, theme_id, cells in pending:
            delete = cells["delete"].lower()
            if delete not in YES | NO:
                self.problem(sheet.name, row, "themes_problem_delete", value=cells["delete"])
                continue
            merge = self.resolve_one(cells["merge into"]) if cells["merge into"] else None
            if cells["merge into"] and (merge is None or merge == theme_id):
                self.problem(sheet.name, row, "themes_problem_merge", value=cells["merge into"])
                continue
            if merge is not None and delete in YES:
                self.problem(sheet.name, row, "themes_problem_merge_and_delete")
                continue
            stored = self.stored.get(theme_id)
            edit = ThemeEdit(theme_id, cells["name"], cells["description"], new=stored is None,
                             reworded=stored is not None and (stored.name, stored.description) != (
                                 cells["name"], cells["description"]),
                             merge_into=merge, delete=delete in YES)
            if edit.delete:
                self.deleted.add(theme_id)
            if edit.new:
                self.new[theme_id] = edit
            if edit.new or edit.reworded or edit.merge_into or edit.delete:
                edits.append(edit)
        for edit in edits:  # a merge into a theme that is itself merged or deleted would lose answers
            if edit.merge_into is not None:
                target = next((e for e in edits if e.theme_id == edit.merge_into), None)
                if target is not None and (target.merge_into or target.delete):
                    self.problems.append(self.say("themes_problem_merge_chain", sheet=sheet.name, id=edit.theme_id,
                                                  target=edit.merge_into))
                self.targets[edit.theme_id] = edit.merge_into
        return edits

    def resolve_one(self, piece: str) -> str | None:
        """A theme named by id ('T3', 'T3 Repairs ...', copied from a cell) or by its exact name."""
        match = LEADING_ID.match(piece)
        if match and match.group(1).upper() in self.targets:
            return match.group(1).upper()
        return self.by_name.get(piece.strip().lower())

    def resolve(self, sheet: str, row: int, cell: str) -> frozenset[str] | None:
        """A 'confirmed themes' or 'second coder' cell to theme ids; None (a problem) when a piece is unknown."""
        if cell.lower() == NO_THEME:
            return frozenset()
        found: set[str] = set()
        for piece in (p.strip() for p in SEPARATORS.split(cell)):
            if not piece:
                continue
            theme_id = self.resolve_one(re.sub(r"\s*\(\d+%\)$", "", piece))
            if theme_id is None:
                self.problem(sheet, row, "themes_problem_unknown_theme", value=piece)
                return None
            if theme_id in self.deleted:
                self.problem(sheet, row, "themes_problem_deleted_theme", value=piece)
                return None
            found.add(self.targets.get(theme_id, theme_id))
        return frozenset(found)

    def answers(self, sheet: _Sheet) -> tuple[list[AnswerEdit], int]:
        """Confirmations and second codes that differ from what is stored; rows of erased answers counted."""
        current = {a.reference.upper(): a.answer_id for a in self.coding.answers}
        edits, gone, examples = [], 0, dict.fromkeys(self.new, 0)
        for row, cells in sheet.rows:
            answer_id = current.get(cells["reference"].upper())
            if answer_id is None:
                gone += 1  # erased, or changed to no words, since the workbook was made: nothing to apply
                continue
            review = self.coding.reviews.get(answer_id)
            confirmed = self.resolve(sheet.name, row, cells["confirmed themes"]) if cells["confirmed themes"] else None
            second = self.resolve(sheet.name, row, cells["second coder"]) if cells["second coder"] else None
            for theme_id in confirmed or ():
                if theme_id in examples:
                    examples[theme_id] += 1
            if confirmed is not None and review is not None and review.confirmed and \
                    confirmed == frozenset(self.coding.staff.get(answer_id, set())):
                confirmed = None  # as before: nothing to change or audit
            if second is not None and review is not None and review.second_at is not None and \
                    second == frozenset(self.coding.second.get(answer_id, set())):
                second = None
            if confirmed is not None or second is not None:
                edits.append(AnswerEdit(answer_id, cells["reference"].upper(), confirmed, second))
        for theme_id, count in examples.items():
            if count < NEW_THEME_EXAMPLES:
                self.problems.append(self.say("themes_problem_new_examples", sheet=sheet.name,
                                              name=self.new[theme_id].name, count=count, needed=NEW_THEME_EXAMPLES))
        return edits, gone


def _open(path: Path, say: Any) -> Any:
    """The workbook, or one problem saying it is not an Excel workbook."""
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise WorkbookProblems([say("themes_problem_not_xlsx")])
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign zip
        raise WorkbookProblems([say("themes_problem_not_xlsx")]) from error


def read_workbook(path: Path, consultation: Consultation, codings: Sequence[tuple[Question, QuestionCoding]]
                  ) -> WorkbookEdits:
    """Every edit the workbook asks for, checked against what is stored; WorkbookProblems lists every problem."""
    say = consultation.message
    book = _open(path, say)
    problems: list[str] = []
    questions, gone = [], 0
    places = {q.id: place for place, q in numbered(consultation)}
    try:
        for question, coding in codings:
            place = places[question.id]
            themes = _sheet(book, themes_sheet(place), THEME_COLUMNS, problems, say)
            answers = _sheet(book, answers_sheet(place), ANSWER_COLUMNS, problems, say)
            if themes is None:  # the answers name themes: without the sheet they cannot be checked
                continue
            check = _Question(question, place, coding, say, problems)
            theme_edits = check.themes(themes)
            if answers is None:
                continue
            answer_edits, missing = check.answers(answers)
            gone += missing
            if theme_edits or answer_edits:
                questions.append(QuestionEdits(question.id, place, tuple(theme_edits), tuple(answer_edits)))
    finally:
        book.close()
    if problems:
        raise WorkbookProblems(problems)
    return WorkbookEdits(tuple(questions), gone)

