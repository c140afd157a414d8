"""Admin exports: responses.csv, responses.xlsx, transcripts.zip, report.html and its appendix answers.html from
one snapshot, audited.

The same function serves /export and `consultation-bot export`. Respondents are shown by reference; Telegram
ids only when `identities` is asked for (the command line only). Erased respondents have no rows left to read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import aiosqlite

from conversations.model import Consultation
from storage.database import Database
from storage.export import rows
from storage.export.csv_writer import write_csv
from storage.export.transcripts import write_transcripts
from storage.stats import ConsultationStats, read_stats, reminders_sent

FORMATS: dict[str, tuple[str, ...]] = {  # the files each format writes
    "csv": ("responses.csv",),
    "xlsx": ("responses.xlsx",),
    "jsonl": ("transcripts.zip",),
    "html": ("report.html", "answers.html"),  # the report, and every written answer grouped by theme
}
NEED_FIGURES = {"xlsx", "html"}  # the files with per-question totals; the others need only the head counts


@dataclass(frozen=True)
class ExportFile:
    """One file written: which format, where, and how big."""

    format: str
    path: Path
    size: int

    @property
    def caption_key(self) -> str:
        """The wording of its caption in Telegram: one per file (the html format writes two)."""
        return "export_caption_answers" if self.path.name == "answers.html" else f"export_caption_{self.format}"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote, and the counts it was made from."""

    files: tuple[ExportFile, ...]
    stats: ConsultationStats


def parse_formats(consultation: Consultation, values: Sequence[str]) -> tuple[str, ...]:
    """'csv,xlsx' or ['csv', 'html'] to formats in the standard order; every format when none are named."""
    wanted = {part.strip().lower() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise ValueError(consultation.message("export_unknown_format", value=", ".join(unknown),
                                              formats=",".join(FORMATS)))
    return tuple(name for name in FORMATS if name in wanted) or tuple(FORMATS)


async def _write_one(conn: aiosqlite.Connection, consultation: Consultation, stats: ConsultationStats, name: str,
                     final: Path, identities: bool, now: datetime) -> None:
    """One file, written beside its final name and renamed into place only once complete, owner-only throughout."""
    partial = final.with_name(f".{final.name}.partial")
    partial.unlink(missing_ok=True)  # left by a crash: start afresh, with the mode below
    partial.touch(mode=0o600)  # personal data: owner-only from the first byte (writers keep the mode)
    try:
        if name == "csv":
            await write_csv(partial, conn, consultation, identities)
        elif name == "xlsx":
            from storage.export.xlsx_writer import write_xlsx  # openpyxl: loaded only when asked for

            await write_xlsx(partial, consultation, stats, rows.responses(conn, consultation.id), identities, now)
        elif name == "jsonl":
            await write_transcripts(partial, consultation, rows.transcripts(conn, consultation.id), identities, now)
        elif final.name == "answers.html":
            from storage.export.answers import write_answers

            await write_answers(partial, conn, consultation)
        else:
            from storage.export.report import write_report

            await write_report(partial, conn, consultation, stats, now)
        os.chmod(partial, 0o600)  # in case a writer replaced the file rather than filling it
        os.replace(partial, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


async def _write(db: Database, consultation: Consultation, folder: Path, formats: tuple[str, ...],
                 identities: bool, now: datetime) -> ExportResult:
    """Every file from one read snapshot, on a connection of its own; each appears only once complete."""
    conn = await db.open_reader()
    written: list[ExportFile] = []
    try:
        async with rows.snapshot(conn):
            counted = await read_stats(conn, consultation, figures=bool(NEED_FIGURES & set(formats)))
            stats = replace(counted, reminders_sent=await reminders_sent(db, consultation.id))
            for name in formats:
                for filename in FORMATS[name]:
                    final = folder / filename
                    await _write_one(conn, consultation, stats, name, final, identities, now)
                    written.append(ExportFile(name, final, final.stat().st_size))
    finally:
        await conn.close()
    return ExportResult(tuple(written), stats)


async def run_export(db: Database, consultation: Consultation, folder: Path, formats: tuple[str, ...],
                     identities: bool, actor_id: int | None, via: str, now: datetime) -> ExportResult:
    """Write the files and audit the export before (so a crash still leaves a trace) and after."""
    folder.mkdir(parents=True, exist_ok=True)
    detail = (f"{consultation.id}: formats={','.join(formats)}; identities={'yes' if identities else 'no'}; "
              f"via={via}")
    await db.audit(actor_id, "export", detail, outcome="started")
    try:
        result = await _write(db, consultation, folder, formats, identities, now)
    except BaseException:
        with contextlib.suppress(Exception):  # the export's own error is the one to report
            await db.audit(actor_id, "export", detail, outcome="failed")
        raise
    stats = result.stats
    counts = f"; respondents={stats.agreed} (finished {stats.finished}, partial {stats.partial})"
    await db.audit(actor_id, "export", detail + counts, outcome="ok")
    return result


__all__ = ["FORMATS", "ExportFile", "ExportResult", "parse_formats", "run_export"]
