"""Staff review in analysis.xlsx, on a database the bot's own steps filled: edits applied, broken files refused."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conversations.events import Press, Start, Text
from conversations.screens import buttons
from storage import Database
from storage.themes import WorkbookProblems, apply_workbook, make_workbook
from tests.export.builders import DAY1, NOW, Q1, Tenant, bundled, nxt

ADMIN = 4242
ANSWERS = [
    "Repairs take far too long, I waited three months for the boiler",
    "The boiler repair took weeks and nobody came when promised",
    "Repairs are slow and the contractors miss appointments",
    "Waiting months for a repair is not acceptable",
    "Use local firms so money stays in our community",
    "Local businesses should get the contracts, it creates local jobs",
    "Please buy from local suppliers and small local companies",
    "Local jobs for local people, support the local economy",
    "Think about the environment, electric vans and less waste",
    "Cut carbon: greener suppliers and recycling",
    "Environmental impact matters, choose green suppliers",
    "Solar panels and insulation would cut our bills and carbon",
    "Value for money is most important, keep the rent down",
    "Rent keeps going up, spend our money carefully",
    "Good value for money, do not waste tenants' rent",
    "no",
    "nothing",
    "n/a",
]


async def answered(database: Database) -> None:
    """Tenants who each wrote an answer to question 1, saved through the engine as the bot saves them."""
    consultation = bundled()
    for number, words in enumerate(ANSWERS):
        tenant = Tenant(database, consultation, 5000 + number, DAY1 + timedelta(hours=number))
        await tenant.script(Start(), Press(buttons.AGREE), Text(words), nxt(Q1))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database holding the answers above: a SQLite file, then PostgreSQL (the review works the same on both)."""
    url = f"sqlite:///{tmp_path / 'consultation.db'}" if request.param == "sqlite" else \
        str(request.getfixturevalue("postgres_url"))
    database = await Database.open(url)
    await answered(database)
    yield database
    await database.close()


def rows(path: Path, sheet: str) -> list[list[object]]:
    """A sheet's rows as values, headings first."""
    book = load_workbook(path, read_only=True)
    try:
        return [list(row) for row in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


async def table(db: Database) -> list[tuple[object, ...]]:
    """Everything the theme tables hold, to show that a refused workbook changed nothing."""
    found: list[tuple[object, ...]] = []
    for name in ("themes", "theme_codes", "theme_reviews"):
        held = await db.reader.execute_fetchall(f"SELECT * FROM {name} ORDER BY 1, 2, 3")
        found += [(name, *tuple(row)) for row in held]
    return found


def edit(source: Path, target: Path, change: dict[str, dict[tuple[int, str], object]]) -> Path:
    """Change cells as Excel would: {sheet: {(row, heading): value}}, then save under a new name."""
    book = load_workbook(source)
    for sheet, cells in change.items():
        headings = [c.value for c in book[sheet][1]]
        for (row, heading), value in cells.items():
            book[sheet].cell(row=row, column=headings.index(heading) + 1, value=value)
    book.save(target)
    return target


def find_row(path: Path, sheet: str, words: str) -> int:
    """The Excel row number of the answer with these words."""
    for number, row in enumerate(rows(path, sheet), start=1):
        if row[1] == words:
            return number
    raise AssertionError(f"{words!r} not in {sheet}")


async def test_workbook_has_a_themes_and_an_answers_sheet_for_every_written_question(db: Database, tmp_path: Path
                                                                                      ) -> None:
    result = await make_workbook(db, bundled(), tmp_path / "out", None, ADMIN, "test", NOW)
    book = load_workbook(result.path, read_only=True)
    names = book.sheetnames
    book.close()
    assert {"Q1 themes", "Q1 answers", "Q3 themes", "Q3 answers"} <= set(names)
    themes = rows(result.path, "Q1 themes")
    assert themes[0] == ["id", "name", "description", "key phrases", "count", "merge into", "delete"]
    assert len(themes) > 2, "the machine suggested at least two themes"
    answers = rows(result.path, "Q1 answers")
    assert answers[0] == ["reference", "answer", "suggested themes", "confirmed themes", "second coder", "status"]
    assert sorted(str(r[1]) for r in answers[1:]) == sorted(ANSWERS), "every written answer is listed once"
    non_answers = [r for r in answers[1:] if r[1] in ("no", "nothing", "n/a")]
    assert all("non-answer" in str(r[5]) for r in non_answers)
    run = next(r for r in result.runs if r.question_id == Q1)
    assert run.answers == len(ANSWERS) and run.non_answers == 3


async def test_staff_edits_are_applied_audited_and_survive_a_second_run(db: Database, tmp_path: Path) -> None:
    consultation = bundled()
    first = await make_workbook(db, consultation, tmp_path / "one", None, ADMIN, "test", NOW)
    boiler = find_row(first.path, "Q1 answers", ANSWERS[0])
    slow = find_row(first.path, "Q1 answers", ANSWERS[2])
    solar = find_row(first.path, "Q1 answers", ANSWERS[11])
    bills = find_row(first.path, "Q1 answers", ANSWERS[13])
    themes = rows(first.path, "Q1 themes")
    new_row = len(themes) + 1
    edited = edit(first.path, tmp_path / "edited.xlsx", {
        "Q1 themes": {(2, "name"): "Repairs and waiting times", (new_row, "name"): "Energy bills",
                      (new_row, "description"): "Costs of heating and power"},
        "Q1 answers": {(boiler, "confirmed themes"): "T1", (slow, "confirmed themes"): "Repairs and waiting times",
                       (solar, "confirmed themes"): "Energy bills", (bills, "confirmed themes"): "Energy bills",
                       (boiler, "second coder"): "T1"},
    })
    result = await apply_workbook(db, consultation, edited, tmp_path / "two", ADMIN, "test", NOW)
    assert result.applied >= 5
    audit = [e for e in await db.audit_entries(200) if e.action == "themes"]
    details = " | ".join(e.detail for e in audit)
    assert "renamed 'Repairs and waiting times'" in details and "added as 'Energy bills'" in details
    assert all(e.actor_id == ADMIN for e in audit)
    new = rows(result.path, "Q1 themes")
    assert new[1][1] == "Repairs and waiting times"
    assert any(r[1] == "Energy bills" and str(r[0]).startswith("S") for r in new[1:])
    answers = {r[1]: r for r in rows(result.path, "Q1 answers")[1:]}
    assert str(answers[ANSWERS[0]][3]).startswith("T1 ") and "confirmed" in str(answers[ANSWERS[0]][5])
    assert "Energy bills" in str(answers[ANSWERS[11]][3])
    # The machine runs again: staff's names and confirmations are kept exactly.
    again = await make_workbook(db, consultation, tmp_path / "three", None, ADMIN, "test", NOW + timedelta(days=1))
    assert rows(again.path, "Q1 themes")[1][1] == "Repairs and waiting times"
    kept = {r[1]: r for r in rows(again.path, "Q1 answers")[1:]}
    for words in (ANSWERS[0], ANSWERS[2], ANSWERS[11], ANSWERS[13]):
        assert kept[words][3] == answers[words][3]


@pytest.mark.parametrize("breakage", ["missing sheet", "unknown merge", "renamed column", "not a workbook",
                                      "name with a separator", "new theme with one example"])
async def test_a_broken_workbook_is_refused_with_a_line_per_problem_and_changes_nothing(
        db: Database, tmp_path: Path, breakage: str) -> None:
    consultation = bundled()
    first = await make_workbook(db, consultation, tmp_path / "one", None, ADMIN, "test", NOW)
    broken = tmp_path / "broken.xlsx"
    if breakage == "not a workbook":
        broken.write_text("reference,confirmed themes\nR-1,T1\n")
        expected = "not an Excel workbook"
    elif breakage == "missing sheet":
        book = load_workbook(first.path)
        del book["Q3 answers"]
        book.save(broken)
        expected = "'Q3 answers' is missing"
    elif breakage == "unknown merge":
        edit(first.path, broken, {"Q1 themes": {(2, "merge into"): "T99"}})
        expected = "'T99' under 'merge into'"
    elif breakage == "name with a separator":
        edit(first.path, broken, {"Q1 themes": {(2, "name"): "Repairs; waiting"}})
        expected = "'Repairs; waiting' has a ;"
    elif breakage == "new theme with one example":
        new_row = len(rows(first.path, "Q1 themes")) + 1
        edit(first.path, broken, {"Q1 themes": {(new_row, "name"): "Energy bills"},
                                  "Q1 answers": {(2, "confirmed themes"): "Energy bills"}})
        expected = "the new theme 'Energy bills' needs at least 2 answers"
    else:
        edit(first.path, broken, {"Q1 answers": {(1, "confirmed themes"): "my themes"}})
        expected = "no column 'confirmed themes'"
    before = await table(db)
    with pytest.raises(WorkbookProblems) as refused:
        await apply_workbook(db, consultation, broken, tmp_path / "two", ADMIN, "test", NOW)
    assert any(expected in line for line in refused.value.problems), refused.value.problems
    assert await table(db) == before
    assert not (tmp_path / "two").exists()


async def test_a_zip_that_is_not_a_workbook_is_refused(db: Database, tmp_path: Path) -> None:
    broken = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("photo.txt", "not a spreadsheet")
    with pytest.raises(WorkbookProblems) as refused:
        await apply_workbook(db, bundled(), broken, tmp_path / "two", ADMIN, "test", NOW)
    assert refused.value.problems == [bundled().message("themes_problem_not_xlsx")]


async def test_erasing_a_tenant_erases_their_theme_codes_and_review(db: Database, tmp_path: Path) -> None:
    await make_workbook(db, bundled(), tmp_path / "one", None, ADMIN, "test", NOW)

    async def held(user_id: int) -> int:
        rows = await db.reader.execute_fetchall(
            "SELECT (SELECT count(*) FROM theme_codes k JOIN answers a ON a.id = k.answer_id WHERE a.user_id = ?) + "
            "(SELECT count(*) FROM theme_reviews v JOIN answers a ON a.id = v.answer_id WHERE a.user_id = ?)",
            (user_id, user_id))
        return int(next(iter(rows))[0])

    before = await db.reader.execute_fetchall("SELECT count(*) FROM theme_reviews")
    assert await held(5000) > 0
    assert await db.erase_respondent(5000)
    assert await held(5000) == 0
    after = await db.reader.execute_fetchall("SELECT count(*) FROM theme_reviews")
    assert next(iter(after))[0] == next(iter(before))[0] - 1
    again = await make_workbook(db, bundled(), tmp_path / "two", None, ADMIN, "test", NOW)
    assert ANSWERS[0] not in [r[1] for r in rows(again.path, "Q1 answers")]
