"""`consultation-bot export` and `consultation-bot stats`: the admin's files and the staff figures, from a shell."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

from bot.consultation_source import consultation_for
from bot.settings import Settings
from conversations.screens.markup import plain
from storage import Database
from storage.export import parse_formats, run_export
from storage.export.figures import megabytes, number, stats_message
from storage.stats import gather_stats


def who() -> str:
    """The account running the command, for the audit line (the command line has no Telegram id)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


async def export(settings: Settings, folder: Path, only: str | None, identities: bool,
                 now: datetime | None = None) -> str:
    """Write the chosen files into `folder`; Telegram ids only with `identities`; always audited."""
    consultation = consultation_for(settings)
    formats = parse_formats(consultation, [only] if only else [])
    database = await Database.open(settings.database_url)
    try:
        result = await run_export(database, consultation, folder, formats, identities, actor_id=None,
                                  via=f"command line ({who()})", now=now or datetime.now(UTC))
    finally:
        await database.close()
    say, stats = consultation.message, result.stats
    lines = [say("export_cli_done", consultation=consultation.id, folder=folder, respondents=number(stats.agreed),
                 finished=number(stats.finished), partial=number(stats.partial))]
    lines += [say("export_cli_file", name=file.path, size=megabytes(file.size)) for file in result.files]
    lines.append(say("export_cli_identities" if identities else "export_cli_pseudonymous"))
    return plain("\n".join(lines))


async def stats(settings: Settings, now: datetime | None = None) -> str:
    """The /stats figures as plain text."""
    consultation = consultation_for(settings)
    database = await Database.open(settings.database_url)
    try:
        figures = await gather_stats(database, consultation)
    finally:
        await database.close()
    return plain(stats_message(consultation, figures, now or datetime.now(UTC)))
