"""responses.xlsx: a summary sheet of counts, measures and tallies, then the responses sheet, in write-only mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from conversations.model import Consultation, Question, QuestionKind
from conversations.screens.markup import plain
from storage.export.cells import xlsx_text
from storage.export.columns import Table, Value
from storage.export.figures import headline, option_label
from storage.export.kinds import in_shares, measure_percent, scale_figures, share_base
from storage.export.layout import numbered
from storage.export.rows import Response
from storage.stats import ConsultationStats, QuestionFigures

BOLD = Font(bold=True)
Summary = Value | float  # a median or a mean score is a real number


def cell(sheet: WriteOnlyWorksheet, value: Summary, bold: bool = False) -> WriteOnlyCell | Summary:
    """Text neutralised and kept as text; times stay datetimes, which openpyxl stores as real dates."""
    if isinstance(value, str):
        value = xlsx_text(value)
    if bold:
        styled = WriteOnlyCell(sheet, value)
        styled.font = BOLD
        return styled
    return value


def summary_rows(consultation: Consultation, stats: ConsultationStats, now: datetime) -> Iterator[list[Summary]]:
    """Counts and measures, then each question's answered and skipped (and not shown), every option's tally, and the
    scale and number figures."""
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
    yield from measure_rows(consultation, stats)
    yield []
    questions = list(zip(numbered(consultation), stats.questions, strict=True))
    routed = consultation.routed or any(figures.not_shown for figures in stats.questions)
    keys = ("question", "wording", "answered", "skipped", *(["not_shown"] if routed else []), "written")
    yield [say(f"export_summary_{key}") for key in keys]
    for (place, question), figures in questions:
        yield [f"Q{place}", plain(question.text), figures.answered, figures.skipped,
               *([figures.not_shown] if routed else []), figures.written]
    yield []
    yield [say(f"export_summary_{key}") for key in ("question", "choice", "count", "share")]
    for (place, question), figures in questions:
        yield from option_rows(consultation, place, question, figures)
    yield from kind_rows(consultation, questions)


def measure_rows(consultation: Consultation, stats: ConsultationStats) -> Iterator[list[Summary]]:
    """Each measure: its share, its base (those who answered the question, don't know left out) and its count."""
    if not consultation.measures:
        return
    say = consultation.message
    yield []
    yield [say(f"export_summary_{key}") for key in ("measure", "measure_share", "measure_base", "measure_counted")]
    for measure, figures in zip(consultation.measures, stats.measures, strict=True):
        yield [plain(measure.title), measure_percent(figures) if figures.base else None, figures.base,
               figures.counted]


def option_rows(consultation: Consultation, place: int, question: Question, figures: QuestionFigures
                ) -> Iterator[list[Summary]]:
    """Every option's tally and share (a scale's don't know has no share; a multi's shares can pass 100%)."""
    base = share_base(question, figures)
    for option in question.options:
        count = figures.choices.get(option.id, 0)
        shared = in_shares(question, option.id) and base
        yield [f"Q{place}", option_label(question, option.id), count, f"{count / base:.0%}" if shared else None]
    if question.kind is QuestionKind.MULTI:
        yield [f"Q{place}", consultation.message("export_summary_multi_note", base=base)]


def kind_rows(consultation: Consultation, questions: list[tuple[tuple[int, Question], QuestionFigures]]
              ) -> Iterator[list[Summary]]:
    """A table for the scales (top two, mean score) and one for the numbers (median, lowest, highest), if any."""
    say = consultation.message
    scales = [(place, q, f) for (place, q), f in questions if q.kind is QuestionKind.SCALE]
    if scales:
        yield []
        yield [say(f"export_summary_{key}") for key in ("question", "top_two", "top_two_share", "scale_base",
                                                         "mean_score", "dont_know")]
        for place, question, figures in scales:
            scale = scale_figures(question, figures)
            share = scale.top_two_share
            yield [f"Q{place}", scale.top_two, None if share is None else f"{share:.1%}", scale.base,
                   None if scale.mean is None else round(scale.mean, 2), scale.dont_know]
    numbers = [(place, q, f) for (place, q), f in questions if q.kind is QuestionKind.NUMBER]
    if numbers:
        yield []
        yield [say(f"export_summary_{key}") for key in ("question", "numbers_given", "median", "lowest", "highest",
                                                         "unit")]
        for place, question, figures in numbers:
            given = figures.numbers
            yield [f"Q{place}", sum(given.values()), figures.median, min(given, default=None),
                   max(given, default=None), question.unit or None]


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
