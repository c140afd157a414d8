"""`consultation-bot migrate-db`: every row of one database copied into another, empty one (SQLite to PostgreSQL, or
back), then checked by counts and checksums. The copying and checking are storage/transfer.py's; this words them."""

from __future__ import annotations

from collections.abc import Callable

from bot.consultation_source import consultation_for
from bot.settings import Settings
from storage.export.figures import number
from storage.transfer import TransferMismatch, TransferRefused, TransferReport, transfer
from storage.urls import without_password

SHORT = 16  # hex digits of a table's checksum on its line; the answers' sha256 is printed in full


class MigrationStopped(Exception):
    """Refused, stopped or not verified: the message is the one line to show, with no password in it."""


def table_lines(say: Callable[..., str], report: TransferReport) -> list[str]:
    """One line per table: its rows and checksum, or both sides' when they differ."""
    lines = []
    for table in report.tables:
        if table.same:
            lines.append(say("migrate_db_table", table=table.name, rows=number(table.rows),
                             digest=table.digest[:SHORT]))
        else:
            lines.append(say("migrate_db_table_differs", table=table.name, rows=number(table.rows),
                             copied=number(table.copied_rows), digest=table.digest[:SHORT],
                             copied_digest=table.copied_digest[:SHORT]))
    return lines


async def migrate_db(settings: Settings, from_url: str, to_url: str, out: Callable[[str], None] = print) -> None:
    """Copy, verify and say so through `out`, line by line; MigrationStopped with one line when it cannot."""
    say = consultation_for(settings).message

    def started(source: str, target: str) -> None:
        out(say("migrate_db_start", source=source, target=target))

    try:
        report = await transfer(from_url, to_url, started=started)
    except TransferRefused as refused:
        raise MigrationStopped(say(refused.key, **refused.values)) from None
    except TransferMismatch as mismatch:
        for line in table_lines(say, mismatch.report):
            out(line)
        raise MigrationStopped(say("migrate_db_differs", source=mismatch.report.source,
                                   target=mismatch.report.target)) from None
    for line in table_lines(say, report):
        out(line)
    out(say("migrate_db_answers", digest=report.table("answers").digest))
    out(say("migrate_db_verified", tables=len(report.tables), rows=number(report.rows),
            seconds=f"{report.seconds:.1f}"))
    out(say("migrate_db_next", source=report.source, target=without_password(to_url)))
