"""responses.xlsx: a summary sheet of counts and choice tallies, then the responses sheet, in write-only mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from conversations.model import Consultation
from conversations.screens.markup import plain
from storage.export.cells import xlsx_text
from storage.export.columns import Table, Value
from storage.export.figures import headline, option_label
from storage.export.rows import Response
from storage.stats import ConsultationStats

BOLD = Font(bold=True)


def cell(sheet: WriteOnlyWorksheet, value: Value, bold: bool = False) -> WriteOnlyCell | Value:
    """Text neutralised and kept as text; times stay datetimes, which openpyxl stores as real dates."""
    if isinstance(value, str):
        value = xlsx_text(value)
    if bold:
        styled = WriteOnlyCell(sheet, value)
        styled.font = BOLD
        return styled
    return value


def summary_rows(consultation: Consultation, stats: ConsultationStats, now: datetime) -> Iterator[list[Value]]:
    """Counts, then each question's answered and skipped, then every choice's tally."""
    say = consultation.message
    zone = consultation.timezone
    yield [plain(consultation.title)]
    yield [say("export_summary_consultation"), consultation.id]
    yield [say("export_summary_version"), consultation.version]
    yield [say("export_summary_exported"), now.astimezone(zone).replace(tzinfo=None, microsecond=0)]
    yield [say("export_summary_zone"), zone.key]
    yield []
    for label, value in headline(consultation, stats):
        yield [label, value]
    yield []
    yield [say(f"export_summary_{key}") for key in ("question", "wording", "answered", "skipped", "written")]
    for question, figures in zip(consultation.questions, stats.questions, strict=True):
        yield [f"Q{question.number}", plain(question.text), figures.answered, figures.skipped, figures.written]
    yield []
    yield [say(f"export_summary_{key}") for key in ("question", "choice", "count", "share")]
    for question, figures in zip(consultation.questions, stats.questions, strict=True):
        chosen = sum(figures.choices.values())
        for option in question.options:
            count = figures.choices.get(option.id, 0)
            yield [f"Q{question.number}", option_label(question, option.id), count,
                   f"{count / chosen:.0%}" if chosen else None]


async def write_xlsx(path: Path, consultation: Consultation, stats: ConsultationStats,
                     responses: AsyncIterator[Response], identities: bool, now: datetime) -> int:
    """Rows go straight to openpyxl's temporary sheet files; returns how many respondents were written."""
    say = consultation.message
    book = Workbook(write_only=True)
    summary = book.create_sheet(say("export_summary_sheet"))
    summary.column_dimensions["A"].width = 40
    summary.column_dimensions["B"].width = 60
    for index, values in enumerate(summary_rows(consultation, stats, now)):
        summary.append([cell(summary, value, bold=index == 0) for value in values])
    sheet = book.create_sheet(say("export_responses_sheet"))
    sheet.freeze_panes = "B2"
    table = Table(consultation, identities)
    sheet.append([cell(sheet, name, bold=True) for name in table.header()])
    count = 0
    async for response in responses:
        sheet.append([xlsx_text(value) if isinstance(value, str) else value for value in table.row(response)])
        count += 1
    book.save(path)
    return count
