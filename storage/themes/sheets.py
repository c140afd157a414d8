"""What the analysis workbook is made of, shared by its writer and its reader; no openpyxl here (it loads numpy,
so the bot imports it only when a workbook is made or read)."""

from __future__ import annotations

from dataclasses import dataclass


class WorkbookProblems(Exception):
    """The workbook cannot be applied; each problem is one line a person can act on."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# Headings are data, not wording: the bot reads them back, so they never change with a consultation's wording.
THEME_COLUMNS = ("id", "name", "description", "key phrases", "count", "merge into", "delete")
ANSWER_COLUMNS = ("reference", "answer", "suggested themes", "confirmed themes", "second coder", "status")
ALERT_COLUMNS = ("reference", "question", "alert", "answer")
NO_THEME = "none"  # typed in "confirmed themes": staff read it and no theme fits


def themes_sheet(place: int) -> str:
    """The Themes sheet's name for the question numbered `place` (Q1, Q2 ... as in every export)."""
    return f"Q{place} themes"


def answers_sheet(place: int) -> str:
    """The Answers sheet's name for the question numbered `place`."""
    return f"Q{place} answers"


@dataclass(frozen=True)
class AlertRow:
    """An answer an alert matched, for the Alerts sheet (listed first)."""

    reference: str
    question_id: str
    alert_title: str
    text: str
