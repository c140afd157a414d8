"""`consultation-bot export` and `consultation-bot stats` as a housing officer runs them, as real processes."""

from __future__ import annotations

import asyncio
import csv
import shutil
from pathlib import Path

from storage import Database
from tests.cli.test_cli import cli


def settings_for(database: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{database}"}


def copy_of(golden_db: Path, tmp_path: Path) -> Path:
    """The fixed database, copied so audit lines from these runs stay here."""
    copy = tmp_path / "consultation.db"
    shutil.copy(golden_db, copy)
    return copy


def audit_details(database: Path) -> list[tuple[str, str, str]]:
    async def read() -> list[tuple[str, str, str]]:
        db = await Database.open(f"sqlite:///{database}")
        try:
            return [(entry.action, entry.outcome, entry.detail) for entry in await db.audit_entries(10)]
        finally:
            await db.close()

    return asyncio.run(read())


def test_export_writes_the_five_files_and_says_what_it_wrote(golden_db: Path, tmp_path: Path) -> None:
    database = copy_of(golden_db, tmp_path)
    result = cli("export", "--out", str(tmp_path / "out"), env=settings_for(database), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "answers.html", "report.html", "responses.csv", "responses.xlsx", "transcripts.zip"]
    assert "3 respondents (2 finished, 1 partial)" in result.stdout
    assert "reference only" in result.stdout and "<b>" not in result.stdout
    newest = audit_details(database)[0]
    assert newest[:2] == ("export", "ok") and "identities=no; via=command line (" in newest[2]


def test_only_picks_the_formats_and_identities_are_added_and_audited(golden_db: Path, tmp_path: Path) -> None:
    database = copy_of(golden_db, tmp_path)
    out = tmp_path / "out"
    result = cli("export", "--out", str(out), "--only", "csv,html", "--include-identities",
                 env=settings_for(database), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == ["answers.html", "report.html", "responses.csv"]
    assert "Telegram ids" in result.stdout
    with (out / "responses.csv").open(encoding="utf-8-sig", newline="") as file:
        assert [row["telegram_id"] for row in csv.DictReader(file)] == ["1001", "1002", "1003"]
    for name in ("responses.csv", "report.html", "answers.html"):
        assert (out / name).stat().st_mode & 0o777 == 0o600
    assert "formats=csv,html; identities=yes" in audit_details(database)[0][2]


def test_an_unknown_format_is_one_clear_line(golden_db: Path, tmp_path: Path) -> None:
    result = cli("export", "--out", str(tmp_path / "out"), "--only", "csv,pdf",
                 env=settings_for(copy_of(golden_db, tmp_path)), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("consultation-bot: 'pdf' is not an export format. "
                                     "Use any of csv,xlsx,jsonl,html, separated by commas or spaces.")
    assert not (tmp_path / "out").exists()


def test_stats_prints_the_figures_staff_see_in_telegram(golden_db: Path, tmp_path: Path) -> None:
    result = cli("stats", env=settings_for(copy_of(golden_db, tmp_path)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for line in ("Started: 5", "Agreed to take part: 3", "Finished (sent their answers): 2",
                 "Partial (agreed, not sent yet): 1", "Reminders sent: 0", "👍 Agree: 2 (67%)"):
        assert line in result.stdout
    assert "Closed" in result.stdout and "ago" in result.stdout  # the bundled consultation closed in 2020
