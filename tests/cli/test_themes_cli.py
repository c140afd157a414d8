"""`consultation-bot themes` as a process: the workbook on the server, an edited one applied, a broken one refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

from openpyxl import load_workbook

from storage import Database
from tests.cli.test_cli import cli
from tests.themes.test_review_workbook import ANSWERS, answered


def database(folder: Path) -> Path:
    """A database with the written answers of tests/themes, as the bot stores them."""
    path = folder / "consultation.db"

    async def fill() -> None:
        db = await Database.open(f"sqlite:///{path}")
        try:
            await answered(db)
        finally:
            await db.close()

    asyncio.run(fill())
    return path


def test_themes_writes_the_workbook_then_applies_an_edited_one_and_refuses_a_broken_one(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{database(tmp_path)}"}
    made = cli("themes", "--out", str(tmp_path / "out"), env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    workbook = tmp_path / "out" / "analysis.xlsx"
    assert f"Wrote {workbook}" in made.stdout and "q1_general: 18 answers" in made.stdout
    book = load_workbook(workbook)
    book["Q1 themes"].cell(row=2, column=2, value="Repairs")
    answers = [row[1].value for row in book["Q1 answers"].iter_rows(min_row=1)]
    book["Q1 answers"].cell(row=answers.index(ANSWERS[0]) + 1, column=4, value="T1")
    book.save(tmp_path / "edited.xlsx")
    applied = cli("themes", "--apply", str(tmp_path / "edited.xlsx"), "--out", str(tmp_path / "new"), env=env,
                  cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert "Applied 2 changes" in applied.stdout
    assert (tmp_path / "new" / "analysis.xlsx").exists() and (tmp_path / "new" / "report.html").exists()
    assert load_workbook(tmp_path / "new" / "analysis.xlsx")["Q1 themes"].cell(row=2, column=2).value == "Repairs"
    del book["Q1 themes"]
    book.save(tmp_path / "broken.xlsx")
    refused = cli("themes", "--apply", str(tmp_path / "broken.xlsx"), "--out", str(tmp_path / "no"), env=env,
                  cwd=tmp_path)
    assert refused.returncode == 2 and "nothing changed" in refused.stderr
    assert "The sheet 'Q1 themes' is missing" in refused.stderr and not (tmp_path / "no").exists()


def test_themes_for_a_question_without_written_answers_names_the_ones_there_are(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{database(tmp_path)}"}
    result = cli("themes", "--question", "q9", "--out", str(tmp_path / "out"), env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "'q9' is not a question with written answers" in result.stderr and "q1_general" in result.stderr
