"""The `consultation-bot` command: run the bot, and the tools staff and admins use around it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.consultation_source import consultation_for
from bot.logging_setup import redacted
from bot.settings import Settings, SettingsError, StartupError, load_dotenv_file, read_settings
from conversations.file.loader import ConsultationError
from storage import SchemaTooNewError


def _at(value: str) -> datetime:
    """--at takes an ISO 8601 date-time; a local one is read in the consultation's zone."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date and time like 2020-11-10T12:00") from None


def _parser() -> argparse.ArgumentParser:
    """Every sub-command, with help a housing officer can follow."""
    parser = argparse.ArgumentParser(prog="consultation-bot", description="A Telegram consultation bot.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true",
                     help="take updates by webhook behind your HTTPS proxy (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_PORT)")
    preview = commands.add_parser("preview", help="play the consultation in this terminal")
    preview.add_argument("file", nargs="?", type=Path, help="consultation file (default: the configured one)")
    preview.add_argument("--at", type=_at, help="pretend it is this date and time (e.g. 2020-11-10T12:00)")
    check = commands.add_parser("check", help="validate a consultation file and summarise it")
    check.add_argument("file", nargs="?", type=Path, help="consultation file (default: the configured one)")
    backup = commands.add_parser("backup", help="copy the database safely, even while the bot runs")
    backup.add_argument("file", type=Path, help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="replace the file if it exists")
    commands.add_parser("purge", help="delete responses kept longer than the consultation's retention period")
    export = commands.add_parser("export", help="write responses, transcripts and the report to a folder (admins)")
    export.add_argument("--out", type=Path, required=True, help="the folder to write into (created if needed)")
    export.add_argument("--only", metavar="FORMATS", help="some of csv,xlsx,jsonl,html (default: all four)")
    export.add_argument("--include-identities", action="store_true",
                        help="add tenants' Telegram ids (audited; keep the files safe)")
    commands.add_parser("stats", help="how the consultation is going: the /stats figures")
    themes = commands.add_parser("themes", help="suggest themes in the written answers; analysis.xlsx to review")
    themes.add_argument("--out", type=Path, required=True, help="the folder to write into (created if needed)")
    themes.add_argument("--question", metavar="ID", help="only this question (default: every one with written answers)")
    themes.add_argument("--apply", type=Path, metavar="FILE.xlsx",
                        help="check and apply an edited analysis.xlsx, then write the new one and the report")
    migrate = commands.add_parser(
        "migrate-db", help="copy every row into another, empty database (e.g. SQLite to PostgreSQL), verified",
        description="Copy every row of one database into another, empty one, keeping the ids, in one transaction, "
                    "then check the copy: each table's row count and a checksum of every row (every answer among "
                    "them). Stop the bot first, or at least do not switch it over until this has finished: the "
                    "copy is of one moment, and anything written to the old database after it is not moved. "
                    "A target that already holds data is refused and left untouched.")
    migrate.add_argument("--from", dest="source", required=True, metavar="URL",
                         help="the database to copy: sqlite:///data/consultation.db or postgresql://...")
    migrate.add_argument("--to", dest="target", required=True, metavar="URL",
                         help="the empty database to fill: postgresql://user:password@host:5432/database "
                              "(or sqlite:///another.db)")
    return parser


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Start long polling (or the webhook server) until SIGTERM or Ctrl-C."""
    if args.webhook:
        from bot.webhook.run import run_webhook_bot

        return run_webhook_bot(settings)
    from bot.app import run_bot

    return run_bot(settings)


def _cmd_preview(settings: Settings, args: argparse.Namespace) -> int:
    """Proof-read the conversation with the same engine the bot uses."""
    from conversations.file.preview import run_preview

    consultation = consultation_for(settings, args.file)
    at = args.at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=consultation.timezone)
    run_preview(consultation, at)
    return 0


def _cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a file and print a one-screen summary."""
    from conversations.file.check import summary

    print(summary(consultation_for(settings, args.file)))
    return 0


def _cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """A consistent online copy, checked with integrity_check."""
    from bot.cli.maintenance import backup

    print(asyncio.run(backup(settings, args.file, args.force)))
    return 0


def _cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    """Retention: delete what is past it and say what went."""
    from bot.cli.maintenance import purge

    print(asyncio.run(purge(settings)))
    return 0


def _cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Admins' files, pseudonymous unless --include-identities; every export is audited."""
    from bot.cli.export import export

    print(asyncio.run(export(settings, args.out, args.only, args.include_identities)))
    return 0


def _cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    """The /stats figures in the terminal."""
    from bot.cli.export import stats

    print(asyncio.run(stats(settings)))
    return 0


def _cmd_themes(settings: Settings, args: argparse.Namespace) -> int:
    """The analysis workbook, or an edited one applied; a refused workbook lists its problems and changes nothing."""
    from bot.cli.themes import themes
    from storage.themes import WorkbookProblems

    try:
        print(asyncio.run(themes(settings, args.out, args.question, args.apply)))
    except WorkbookProblems as refused:
        print(f"consultation-bot: {args.apply} was not applied; nothing changed. Fix these and try again:",
              file=sys.stderr)
        for problem in refused.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    return 0


def _cmd_migrate_db(settings: Settings, args: argparse.Namespace) -> int:
    """Copy and verify, a line per table; a refusal or a difference is one line on stderr and exit 1."""
    from bot.cli.migrate_db import MigrationStopped, migrate_db

    try:
        asyncio.run(migrate_db(settings, args.source, args.target, lambda line: print(line, flush=True)))
    except MigrationStopped as stopped:
        print(f"consultation-bot: {stopped}", file=sys.stderr)
        return 1
    return 0


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "run": _cmd_run,
    "preview": _cmd_preview,
    "check": _cmd_check,
    "backup": _cmd_backup,
    "purge": _cmd_purge,
    "export": _cmd_export,
    "stats": _cmd_stats,
    "themes": _cmd_themes,
    "migrate-db": _cmd_migrate_db,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point; problems a person can fix are one clear line on stderr and a non-zero exit."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta, without warnings
    load_dotenv_file()
    try:
        running = args.command == "run"
        settings = read_settings(require_token=running, webhook=running and args.webhook)
        return COMMANDS[args.command](settings, args)
    except (SettingsError, FileExistsError, ValueError, SchemaTooNewError) as error:
        print(f"consultation-bot: {error}", file=sys.stderr)
        return 2
    except StartupError as error:  # the token, the network or the database: the line says which, and what to do
        print(f"consultation-bot: {redacted(str(error), settings.bot_token)}", file=sys.stderr)
        return 1
    except ConsultationError as error:
        print(f"consultation-bot: the consultation file has {len(error.problems)} problem(s):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `consultation-bot check | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
