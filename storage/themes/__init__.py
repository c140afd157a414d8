"""Theme analysis of written answers: suggested themes, staff review in analysis.xlsx, and what the report shows.

`make_workbook` serves /themes and `consultation-bot themes`; `apply_workbook` serves an uploaded workbook and
`consultation-bot themes --apply`. Both run the machine again, and neither ever overwrites a staff decision.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from conversations.model import Consultation
from storage.database import Database
from storage.themes import store
from storage.themes.edits import WorkbookEdits
from storage.themes.runs import QuestionRun, analysable, apply_and_rerun, pick, run_themes
from storage.themes.sheets import AlertRow, WorkbookProblems

WORKBOOK = "analysis.xlsx"


@dataclass(frozen=True)
class WorkbookResult:
    """The workbook written and what the run found."""

    path: Path
    runs: tuple[QuestionRun, ...]
    applied: int = 0  # rows of an uploaded workbook that changed something
    gone: int = 0  # rows whose answers were erased since


async def _alert_rows(db: Database, consultation: Consultation) -> list[AlertRow]:
    """Answers alerts matched, newest first, for the sheet that comes first."""
    from storage import alerts

    flagged = await alerts.flagged(db.reader, consultation.id)
    titles = {a.id: a.title for a in consultation.alerts}
    return [AlertRow(f.reference, f.question_id, titles.get(f.alert_id, f.alert_id), f.text) for f in flagged]


async def write_current(db: Database, consultation: Consultation, folder: Path, question_id: str | None) -> Path:
    """analysis.xlsx as things stand, written beside a partial name and renamed once complete (owner-only)."""
    codings = [(q, await store.load(db.reader, consultation.id, q.id)) for q in pick(consultation, question_id)]
    folder.mkdir(parents=True, exist_ok=True)
    final, partial = folder / WORKBOOK, folder / f".{WORKBOOK}.partial"
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    from storage.themes.workbook_write import write_workbook  # openpyxl (and numpy): only when a workbook is made

    try:
        write_workbook(partial, consultation, codings, await _alert_rows(db, consultation))
        os.chmod(partial, 0o600)
        os.replace(partial, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return final


async def make_workbook(db: Database, consultation: Consultation, folder: Path, question_id: str | None,
                        actor_id: int | None, via: str, now: datetime) -> WorkbookResult:
    """Run the machine (keeping staff decisions), then write the workbook for review."""
    runs = await run_themes(db, consultation, question_id, actor_id, via, now)
    return WorkbookResult(await write_current(db, consultation, folder, question_id), tuple(runs))


async def check_workbook(db: Database, consultation: Consultation, path: Path) -> WorkbookEdits:
    """The edits an uploaded workbook asks for; WorkbookProblems (one line each) if it cannot be applied."""
    from storage.themes.workbook_read import read_workbook

    codings = [(q, await store.load(db.reader, consultation.id, q.id)) for q in analysable(consultation)]
    return read_workbook(path, consultation, codings)


async def apply_workbook(db: Database, consultation: Consultation, path: Path, folder: Path, actor_id: int | None,
                         via: str, now: datetime) -> WorkbookResult:
    """Check the workbook (nothing changes if it has a problem), apply it, reassign, and write the new workbook."""
    edits = await check_workbook(db, consultation, path)
    runs = await apply_and_rerun(db, consultation, edits, actor_id, via, now)
    written = await write_current(db, consultation, folder, None)
    return WorkbookResult(written, tuple(runs), edits.changes, edits.gone)


__all__ = ["WORKBOOK", "WorkbookProblems", "WorkbookResult", "analysable", "apply_workbook", "make_workbook"]
