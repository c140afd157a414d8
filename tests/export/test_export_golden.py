"""Golden files of every export format, made from the small fixed database at a fixed moment.

When a change to wording or layout is intended, rewrite them with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/export` and read the diff before committing it.
"""

from __future__ import annotations

import asyncio
import csv
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conversations.screens.markup import plain
from storage import Database
from storage.export import ExportResult
from storage.export.figures import stats_message
from tests.export.builders import ERASED_WORDS, NEWER_VERSION, NOW, bundled
from tests.export.conftest import export_to, golden

TELEGRAM_IDS = ("1001", "1002", "1003")


@pytest.fixture(scope="module")
def export(golden_database: Path | str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExportResult]:
    """The pseudonymous export of every file (from SQLite, then from PostgreSQL: the same golden files)."""
    folder = tmp_path_factory.mktemp("export")
    return folder, asyncio.run(export_to(golden_database, folder))


@pytest.fixture(scope="module")
def with_ids(golden_database: Path | str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same export with --include-identities."""
    folder = tmp_path_factory.mktemp("identities")
    asyncio.run(export_to(golden_database, folder, identities=True))
    return folder


def every_text(folder: Path) -> str:
    """Everything the export wrote, zip members and the XLSX's XML included, as one string to search."""
    parts = []
    for path in sorted(folder.iterdir()):
        if path.suffix in (".zip", ".xlsx"):
            with zipfile.ZipFile(path) as archive:
                parts += [archive.read(name).decode("utf-8") for name in archive.namelist()]
        else:
            parts.append(path.read_text(encoding="utf-8-sig"))
    return "\n".join(parts)


def sheet_values(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet's cell values; dates as ISO text so they can be compared as JSON."""
    book = load_workbook(path, read_only=True)
    return {
        sheet.title: [[value.isoformat(sep=" ") if isinstance(value, datetime) else value for value in row]
                      for row in sheet.iter_rows(values_only=True)]
        for sheet in book.worksheets
    }


def test_responses_csv_matches_its_golden_file(export: tuple[Path, ExportResult]) -> None:
    golden("responses.csv", (export[0] / "responses.csv").read_bytes())


def test_responses_xlsx_matches_its_golden_values(export: tuple[Path, ExportResult]) -> None:
    values = sheet_values(export[0] / "responses.xlsx")
    golden("responses.xlsx.json", json.dumps(values, ensure_ascii=False, indent=1).encode())


def test_transcripts_zip_matches_its_golden_files(export: tuple[Path, ExportResult]) -> None:
    with zipfile.ZipFile(export[0] / "transcripts.zip") as archive:
        names = archive.namelist()
        assert names == ["transcripts/R-GOLD01.txt", "transcripts/R-GOLD02.txt", "transcripts/R-GOLD03.txt",
                         "transcripts.jsonl"]
        for name in names:
            golden(name, archive.read(name))


def test_report_html_matches_its_golden_file(export: tuple[Path, ExportResult]) -> None:
    golden("report.html", (export[0] / "report.html").read_bytes())


def test_answers_html_matches_its_golden_file(export: tuple[Path, ExportResult]) -> None:
    golden("answers.html", (export[0] / "answers.html").read_bytes())


def test_stats_text_matches_its_golden_file(export: tuple[Path, ExportResult]) -> None:
    golden("stats.txt", plain(stats_message(bundled(), export[1].stats, NOW)).encode())


def test_an_erased_respondent_appears_in_no_file(export: tuple[Path, ExportResult], with_ids: Path) -> None:
    for folder in (export[0], with_ids):
        text = every_text(folder)
        assert ERASED_WORDS not in text
        assert "R-GOLD04" not in text and "1004" not in text
    assert export[1].stats.erased == 1


def test_only_those_who_agreed_are_exported_and_the_others_are_counted(export: tuple[Path, ExportResult]) -> None:
    folder, result = export
    with (folder / "responses.csv").open(encoding="utf-8-sig", newline="") as file:
        references = [row["reference"] for row in csv.DictReader(file)]
    assert references == ["R-GOLD01", "R-GOLD02", "R-GOLD03"]
    text = every_text(folder)
    assert "R-GOLD05" not in text and "R-GOLD06" not in text  # said no thanks; still reading the notice
    stats = result.stats
    assert (stats.started, stats.agreed, stats.finished, stats.partial) == (5, 3, 2, 1)
    assert (stats.not_agreed, stats.declined, stats.erased) == (2, 1, 1)


def test_exports_are_pseudonymous_unless_identities_are_asked_for(
    export: tuple[Path, ExportResult], with_ids: Path
) -> None:
    plain_text = every_text(export[0])
    assert "telegram_id" not in plain_text
    assert not any(user_id in plain_text for user_id in TELEGRAM_IDS)
    with (with_ids / "responses.csv").open(encoding="utf-8-sig", newline="") as file:
        assert [row["telegram_id"] for row in csv.DictReader(file)] == list(TELEGRAM_IDS)
    with zipfile.ZipFile(with_ids / "transcripts.zip") as archive:
        lines = archive.read("transcripts.jsonl").decode().splitlines()
        assert [json.loads(line)["telegram_id"] for line in lines] == [int(i) for i in TELEGRAM_IDS]
        assert "Telegram id: 1001" in archive.read("transcripts/R-GOLD01.txt").decode()
    assert sheet_values(with_ids / "responses.xlsx")["Responses"][0][1] == "telegram_id"
    for name in ("report.html", "answers.html"):
        report = (with_ids / name).read_text(encoding="utf-8")
        assert not any(user_id in report for user_id in TELEGRAM_IDS)  # the report is for the board: never ids


def test_a_changed_answer_shows_the_current_words_and_the_version_they_were_given_under(
    export: tuple[Path, ExportResult],
) -> None:
    with (export[0] / "responses.csv").open(encoding="utf-8-sig", newline="") as file:
        changed = next(row for row in csv.DictReader(file) if row["reference"] == "R-GOLD03")
    assert changed["Q1 text"] == "Second thought, after reading the plan again"
    assert changed["Q1 version"] == NEWER_VERSION
    assert (changed["Q2 choice"], changed["Q2 version"]) == ("👍 Agree", "2020-11-04")
    assert (changed["Q4 choice"], changed["Q4 version"]) == ("👎 Disagree", NEWER_VERSION)
    assert changed["finished (Europe/London)"] == "2020-11-12 10:07:00"
    assert "First thought" not in (export[0] / "responses.csv").read_text(encoding="utf-8-sig")
    with zipfile.ZipFile(export[0] / "transcripts.zip") as archive:
        assert "First thought" in archive.read("transcripts/R-GOLD03.txt").decode()  # the history is kept there


async def test_every_export_is_audited_with_what_and_whether_identities_were_included(tmp_path: Path,
                                                                                       golden_db: Path) -> None:
    await export_to(golden_db, tmp_path / "a", formats=("csv",))
    await export_to(golden_db, tmp_path / "b", identities=True, formats=("html",))
    db = await Database.open(f"sqlite:///{golden_db}")
    try:
        lines = [(entry.action, entry.outcome, entry.detail) for entry in await db.audit_entries(4)]
    finally:
        await db.close()
    assert [(action, outcome) for action, outcome, _ in lines] == [
        ("export", "ok"), ("export", "started"), ("export", "ok"), ("export", "started")]
    newest, oldest = lines[0][2], lines[2][2]
    assert "formats=html; identities=yes; via=test" in newest and "respondents=3 (finished 2, partial 1)" in newest
    assert "formats=csv; identities=no; via=test" in oldest
