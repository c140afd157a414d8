"""analysis.xlsx: per question a Themes sheet and an Answers sheet staff edit in Excel and send back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from conversations.model import Consultation, Question
from conversations.screens.markup import plain
from storage.export.cells import xlsx_text
from storage.export.layout import numbered
from storage.themes.sheets import (
    ALERT_COLUMNS,
    ANSWER_COLUMNS,
    NO_THEME,
    THEME_COLUMNS,
    AlertRow,
    answers_sheet,
    themes_sheet,
)
from storage.themes.store import QuestionCoding, StoredTheme

Say = Callable[..., str]  # the consultation's wording (Consultation.message): the workbook's words live in data
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def label(theme: StoredTheme) -> str:
    """'T3 Repairs / waiting times': the id first, so a copied cell is read back by its id."""
    return f"{theme.id} {theme.name}"


def _bold(sheet: WriteOnlyWorksheet, values: Iterable[str]) -> list[WriteOnlyCell]:
    """A heading row."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value)
        cell.font = BOLD
        cells.append(cell)
    return cells


def _wrapped(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    """A long answer that stays readable in its column."""
    cell = WriteOnlyCell(sheet, xlsx_text(value))
    cell.alignment = WRAP
    return cell


def status(coding: QuestionCoding, answer_id: int, references: dict[int, str], alerted: bool, say: Say) -> str:
    """What the row is: confirmed, needs reading, a non-answer, a campaign or a duplicate, an alert."""
    review = coding.reviews.get(answer_id)
    parts = [say("themes_status_alert")] if alerted else []
    if review is None:
        parts.append(say("themes_status_new"))
    else:
        if review.confirmed:
            parts.append(say("themes_status_confirmed"))
        elif review.verdict == "needs_reading" and not coding.final(answer_id):
            parts.append(say("themes_status_needs_reading"))
        elif review.verdict == "non_answer":
            parts.append(say("themes_status_non_answer"))
        if review.campaign:
            parts.append(say("themes_status_campaign"))
        if review.duplicate_of is not None and review.duplicate_of in references:
            parts.append(say("themes_status_duplicate", reference=references[review.duplicate_of]))
    return "; ".join(parts)


def _order(coding: QuestionCoding, alerted: set[int]) -> list[int]:
    """Alerts first, then what the machine is least sure of (ask first), then the rest, confirmed last."""
    def key(answer_id: int) -> tuple[int, int, int]:
        review = coding.reviews.get(answer_id)
        rank = review.ask_rank if review is not None and review.ask_rank is not None else 10**9
        confirmed = 1 if review is not None and review.confirmed else 0
        return (0 if answer_id in alerted else 1, confirmed, rank)
    return sorted((a.answer_id for a in coding.answers), key=key)


def _themes_rows(sheet: WriteOnlyWorksheet, coding: QuestionCoding) -> None:
    """One row per live theme, with how many answers carry it now."""
    counts = {t.id: 0 for t in coding.live_themes}
    for answer in coding.answers:
        for theme_id in coding.final(answer.answer_id):
            if theme_id in counts:
                counts[theme_id] += 1
    sheet.append(_bold(sheet, THEME_COLUMNS))
    for theme in coding.live_themes:
        sheet.append([theme.id, xlsx_text(theme.name), xlsx_text(theme.description),
                      xlsx_text("; ".join(theme.key_phrases)), counts[theme.id], None, None])


def _answers_rows(sheet: WriteOnlyWorksheet, coding: QuestionCoding, alerted: set[int], say: Say) -> None:
    """Every written answer: the machine's suggestion (with its confidence), staff's confirmation, the second coder."""
    themes = {t.id: t for t in coding.themes}
    references = {a.answer_id: a.reference for a in coding.answers}
    by_id = {a.answer_id: a for a in coding.answers}
    sheet.append(_bold(sheet, ANSWER_COLUMNS))
    for answer_id in _order(coding, alerted):
        answer = by_id[answer_id]
        review = coding.reviews.get(answer_id)
        machine = sorted(coding.machine.get(answer_id, {}).items(), key=lambda item: -item[1])
        suggested = "; ".join(f"{label(themes[t])} ({c:.0%})" for t, c in machine if t in themes and themes[t].live)
        confirmed = ""
        if review is not None and review.confirmed:
            chosen = sorted(coding.staff.get(answer_id, set()))
            confirmed = "; ".join(label(themes[t]) for t in chosen if t in themes) or NO_THEME
        second = "; ".join(label(themes[t]) for t in sorted(coding.second.get(answer_id, set())) if t in themes)
        if review is not None and review.second_at is not None and not second:
            second = NO_THEME
        sheet.append([answer.reference, _wrapped(sheet, answer.text), xlsx_text(suggested), xlsx_text(confirmed),
                      xlsx_text(second), status(coding, answer_id, references, answer_id in alerted, say)])


def _read_me(book: Workbook, consultation: Consultation, say: Say) -> None:
    """How to review, in the workbook itself, for whoever opens it without this README."""
    sheet = book.create_sheet(say("themes_readme_sheet"))
    sheet.column_dimensions["A"].width = 110
    sheet.append(_bold(sheet, [say("themes_readme_title", title=plain(consultation.title))]))
    for line in say("themes_readme_text").splitlines():
        sheet.append([_wrapped(sheet, line)])


def write_workbook(path: Path, consultation: Consultation, codings: Sequence[tuple[Question, QuestionCoding]],
                   alerts: Sequence[AlertRow]) -> None:
    """The whole workbook; rows go straight to openpyxl's temporary sheet files (write-only mode)."""
    say = consultation.message
    book = Workbook(write_only=True)
    places = {q.id: place for place, q in numbered(consultation)}
    if alerts:
        sheet = book.create_sheet(say("themes_alerts_sheet"))
        sheet.append(_bold(sheet, ALERT_COLUMNS))
        for alert in alerts:
            sheet.append([alert.reference, f"Q{places.get(alert.question_id, '?')}", xlsx_text(alert.alert_title),
                          _wrapped(sheet, alert.text)])
    _read_me(book, consultation, say)
    alerted_refs = {(a.reference, a.question_id) for a in alerts}
    for question, coding in codings:
        place = places[question.id]
        sheet = book.create_sheet(themes_sheet(place))
        for column, width in zip("ABCDEFG", (6, 36, 48, 48, 8, 14, 8), strict=True):
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "A2"
        _themes_rows(sheet, coding)
        sheet = book.create_sheet(answers_sheet(place))
        for column, width in zip("ABCDEF", (11, 70, 40, 30, 30, 24), strict=True):
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "C2"
        alerted = {a.answer_id for a in coding.answers if (a.reference, question.id) in alerted_refs}
        _answers_rows(sheet, coding, alerted, say)
    book.save(path)
