"""`consultation-bot themes`: the analysis workbook on the server, and an edited one applied, as /themes does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.cli.export import who
from bot.consultation_source import consultation_for
from bot.settings import Settings
from conversations.screens.markup import plain
from storage import Database
from storage.export import run_export
from storage.themes import apply_workbook, make_workbook
from storage.themes.runs import run_lines


async def themes(settings: Settings, folder: Path, question_id: str | None, apply: Path | None,
                 now: datetime | None = None) -> str:
    """Run the machine and write analysis.xlsx into `folder`; with `apply`, check and apply that workbook first
    (nothing changes if it has a problem), then write the new workbook and the refreshed report. Audited."""
    consultation = consultation_for(settings)
    say, at, via = consultation.message, now or datetime.now(UTC), f"command line ({who()})"
    if apply is not None and not apply.is_file():
        raise ValueError(f"there is no file {apply}")
    database = await Database.open(settings.database_url)
    try:
        if apply is None:
            result = await make_workbook(database, consultation, folder, question_id, None, via, at)
            lines = [say("themes_cli_done", path=result.path)]
        else:
            result = await apply_workbook(database, consultation, apply, folder, None, via, at)
            report = await run_export(database, consultation, folder, ("html",), identities=False, actor_id=None,
                                      via=via, now=at)
            lines = [say("themes_cli_applied", changes=result.applied, file=apply, path=result.path)]
            lines += [say("themes_cli_done", path=file.path) for file in report.files]
            if result.gone:
                lines.append(say("themes_applied_gone", count=result.gone))
    finally:
        await database.close()
    return plain("\n".join([*run_lines(say, result.runs), *lines]))
