"""The responses table shared by the CSV and the XLSX: one row per respondent, four columns per question."""

from __future__ import annotations

from datetime import datetime

from conversations.model import Consultation
from storage.export.cells import local
from storage.export.figures import option_label
from storage.export.rows import Cell, Response

Value = str | int | datetime | None
QUESTION_FIELDS = ("status", "choice", "text", "version")
ANSWERED, SKIPPED = "answered", "skipped"


class Table:
    """Header and rows for one consultation; choice labels are worked out once, not once per cell."""

    def __init__(self, consultation: Consultation, identities: bool) -> None:
        self.consultation = consultation
        self.identities = identities
        self.question_ids = tuple(question.id for question in consultation.questions)
        self.labels = {question.id: {option.id: option_label(question, option.id) for option in question.options}
                       for question in consultation.questions}

    def header(self) -> list[str]:
        """Column names (data, not wording: scripts read them); times are named with their zone."""
        zone = self.consultation.timezone.key
        columns = ["reference", *(["telegram_id"] if self.identities else []), "status",
                   f"started ({zone})", f"agreed ({zone})", f"finished ({zone})", "source"]
        for question in self.consultation.questions:
            columns += [f"Q{question.number} {name}" for name in QUESTION_FIELDS]
        return columns

    def answer(self, question_id: str, cell: Cell | None) -> list[Value]:
        """Status (answered, skipped, or blank when never reached), the choice's label, the words, the version."""
        if cell is None:
            return [None, None, None, None]
        choice = self.labels[question_id].get(cell.choice, cell.choice) if cell.choice else None
        status = ANSWERED if cell.choice or cell.text else (SKIPPED if cell.skipped else None)
        return [status, choice, cell.text, cell.version]

    def row(self, response: Response) -> list[Value]:
        """One respondent as typed values; each writer turns them into its own cells."""
        zone = self.consultation.timezone
        values: list[Value] = [response.reference, *([response.user_id] if self.identities else []),
                               response.status, local(response.started_at, zone), local(response.agreed_at, zone),
                               local(response.finished_at, zone), response.source]
        for question_id in self.question_ids:
            values += self.answer(question_id, response.answers.get(question_id))
        return values
