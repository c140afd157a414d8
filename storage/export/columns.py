"""The responses table shared by the CSV and the XLSX: one row per respondent, a few columns per question by kind.

Text and choice questions have four columns (status, choice, text, version); a scale adds its point after the
label; a number has status, number and version; a multi has a 1/0 column per option and one cell of the labels
ticked (layout.fields). Info pages have none. Status is answered, skipped, not shown (routed out), or blank
when the question was never reached.
"""

from __future__ import annotations

from datetime import datetime

from conversations.model import Consultation, Question, QuestionKind
from storage.export.cells import local
from storage.export.figures import option_label
from storage.export.layout import ANSWERED, MULTI_SEPARATOR, NOT_SHOWN, SKIPPED, fields, numbered
from storage.export.rows import Cell, Response

Value = str | int | datetime | None


def status(cell: Cell) -> str | None:
    """answered, skipped or not shown; None for a stored row that says neither (never seen in practice)."""
    if not cell.shown:
        return NOT_SHOWN
    if cell.choice or cell.text or cell.choices or cell.number is not None:
        return ANSWERED
    return SKIPPED if cell.skipped else None


class Table:
    """Header and rows for one consultation; option labels are worked out once, not once per cell."""

    def __init__(self, consultation: Consultation, identities: bool) -> None:
        self.consultation = consultation
        self.identities = identities
        self.questions = consultation.answerable
        self.question_ids = tuple(question.id for question in self.questions)
        self.labels = {question.id: {option.id: option_label(question, option.id) for option in question.options}
                       for question in self.questions}

    def header(self) -> list[str]:
        """Column names (data, not wording: scripts read them); times are named with their zone."""
        zone = self.consultation.timezone.key
        columns = ["reference", *(["telegram_id"] if self.identities else []), "status",
                   f"started ({zone})", f"agreed ({zone})", f"finished ({zone})", "source"]
        for place, question in numbered(self.consultation):
            columns += [f"Q{place} {name}" for name in fields(question)]
        return columns

    def answer(self, question: Question, cell: Cell | None) -> list[Value]:
        """One question's cells: all blank when never reached, only the status when not shown."""
        width = len(fields(question))
        if cell is None:
            return [None] * width
        said = status(cell)
        if said == NOT_SHOWN:
            return [said, *[None] * (width - 1)]
        if question.kind is QuestionKind.NUMBER:
            return [said, cell.number, cell.version]
        if question.kind is QuestionKind.MULTI:
            return [said, *self.ticks(question, cell.choices), cell.text, cell.version]
        labels = self.labels[question.id]
        choice = labels.get(cell.choice, cell.choice) if cell.choice else None
        if question.kind is QuestionKind.SCALE:
            return [said, choice, question.score(cell.choice) if cell.choice else None, cell.text, cell.version]
        return [said, choice, cell.text, cell.version]

    def ticks(self, question: Question, ticked: tuple[str, ...]) -> list[Value]:
        """1 or 0 per option and the ticked labels in the options' order; all blank when nothing is ticked."""
        if not ticked:
            return [None] * (len(question.options) + 1)
        labels = self.labels[question.id]
        chosen = [labels[option.id] for option in question.options if option.id in ticked]
        flags: list[Value] = [int(option.id in ticked) for option in question.options]
        return [*flags, MULTI_SEPARATOR.join(chosen)]

    def row(self, response: Response) -> list[Value]:
        """One respondent as typed values; each writer turns them into its own cells."""
        zone = self.consultation.timezone
        values: list[Value] = [response.reference, *([response.user_id] if self.identities else []),
                               response.status, local(response.started_at, zone), local(response.agreed_at, zone),
                               local(response.finished_at, zone), response.source]
        for question in self.questions:
            values += self.answer(question, response.answers.get(question.id))
        return values
