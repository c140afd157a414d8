"""responses.csv and the XLSX Responses sheet for every kind of question, read back from the every-kind database."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conversations.model import DONT_KNOW, QuestionKind
from tests.export.conftest import export_to
from tests.export.every_kind import (
    ANSWERS,
    FINISHED,
    NOT_SHOWN,
    REASONS,
    REFERENCES,
    SKIPPED,
    every_kind,
    relabelled,
)

SURVEY = every_kind()
PLACE = {question.id: place for place, question in enumerate(SURVEY.answerable, start=1)}


@pytest.fixture(scope="module")
def folder(every_kind_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("every-kind-columns")
    asyncio.run(export_to(every_kind_db, out, formats=("csv", "xlsx"), consultation=SURVEY))
    return out


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def people(folder: Path) -> dict[str, dict[str, str]]:
    """Each tenant (A to F) as {column: cell}."""
    header, *rows = read_csv(folder / "responses.csv")
    by_reference = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    return {tenant: by_reference[reference] for tenant, reference in REFERENCES.items()}


def q(question_id: str, field: str) -> str:
    return f"Q{PLACE[question_id]} {field}"


def test_questions_are_numbered_among_those_that_take_answers_and_info_pages_have_no_columns(folder: Path) -> None:
    header = read_csv(folder / "responses.csv")[0]
    numbers = sorted({int(name.split()[0][1:]) for name in header if name.startswith("Q")})
    assert numbers == list(range(1, 12))  # 13 pages in the file, two of them info pages
    assert q("overall", "status") == "Q1 status" and q("anything_else", "status") == "Q11 status"
    assert not any("start_page" in name or "glad_page" in name for name in header)


def test_text_and_choice_questions_keep_their_four_columns(folder: Path) -> None:
    header = read_csv(folder / "responses.csv")[0]
    for question_id in ("repair_done", "repair_better", "feel_safe", "age_group", "anything_else"):
        prefix = f"Q{PLACE[question_id]} "
        assert [name[len(prefix):] for name in header if name.startswith(prefix)] == [
            "status", "choice", "text", "version"]


def test_every_question_says_answered_skipped_or_not_shown_as_each_tenant_left_it(folder: Path) -> None:
    rows = people(folder)
    for tenant, answers in ANSWERS.items():
        row = rows[tenant]
        assert row["status"] == ("finished" if tenant in FINISHED else "partial")
        for question in SURVEY.answerable:
            given = answers.get(question.id)
            expected = ("" if given is None else "skipped" if given == SKIPPED
                        else "not shown" if given == NOT_SHOWN else "answered")
            assert row[q(question.id, "status")] == expected, (tenant, question.id)


def test_a_scale_question_gets_its_label_and_its_point_in_two_columns(folder: Path) -> None:
    header = read_csv(folder / "responses.csv")[0]
    assert [name for name in header if name.startswith("Q1 ")] == [
        "Q1 status", "Q1 choice", "Q1 point", "Q1 text", "Q1 version"]
    rows = people(folder)
    cells = {tenant: (row["Q1 choice"], row["Q1 point"]) for tenant, row in rows.items()}
    assert cells == {"A": ("Very satisfied", "5"), "B": ("Fairly dissatisfied", "2"), "C": ("Don't know", ""),
                     "D": ("Very satisfied", "5"), "E": ("Fairly satisfied", "4"), "F": ("Very satisfied", "5")}
    assert rows["A"]["Q1 text"] == REASONS["A", "overall"]  # the reason keeps its words column
    assert (rows["C"]["Q1 status"], rows["C"]["Q1 version"]) == ("answered", SURVEY.version)


def test_a_multi_question_gets_a_column_per_option_and_one_cell_listing_the_chosen_labels(folder: Path) -> None:
    question = SURVEY.question("services_used")
    assert question is not None and question.kind is QuestionKind.MULTI
    header = read_csv(folder / "responses.csv")[0]
    n = PLACE[question.id]
    assert [name for name in header if name.startswith(f"Q{n} ")] == [
        f"Q{n} status", *(f"Q{n} ticked {option.id}" for option in question.options), f"Q{n} choices",
        f"Q{n} text", f"Q{n} version"]
    rows = people(folder)
    for tenant, row in rows.items():
        ticked = ANSWERS[tenant]["services_used"]
        flags = [row[q(question.id, f"ticked {option.id}")] for option in question.options]
        if isinstance(ticked, tuple):
            assert flags == ["1" if option.id in ticked else "0" for option in question.options], tenant
        else:  # skipped: no ticks to report, not a row of zeros
            assert flags == [""] * len(question.options) and row[q(question.id, "choices")] == ""
    assert rows["C"][q(question.id, "choices")] == (
        "Cleaning of shared areas; Gardens and grounds; Rent and money advice")
    assert rows["C"][q(question.id, "text")] == REASONS["C", "services_used"]
    assert rows["B"][q(question.id, "choices")] == "None of these"  # the option that stands alone
    assert rows["B"][q(question.id, "ticked none")] == "1" and rows["B"][q(question.id, "ticked repairs")] == "0"


def test_a_number_question_gets_its_number(folder: Path) -> None:
    header = read_csv(folder / "responses.csv")[0]
    n = PLACE["household"]
    assert [name for name in header if name.startswith(f"Q{n} ")] == [f"Q{n} status", f"Q{n} number",
                                                                         f"Q{n} version"]
    rows = people(folder)
    assert {tenant: row[f"Q{n} number"] for tenant, row in rows.items()} == {
        "A": "3", "B": "1", "C": "2", "D": "", "E": "5", "F": "2"}
    visits = {tenant: (row[q("cleaning_visits", "status")], row[q("cleaning_visits", "number")])
              for tenant, row in rows.items()}
    assert visits["C"] == ("answered", "0")  # nought is an answer, not a blank
    assert visits["B"] == ("not shown", "")


def test_a_question_routed_out_after_it_was_answered_says_not_shown_and_nothing_else(folder: Path) -> None:
    f = people(folder)["F"]
    for question_id in ("repair_satisfaction", "feel_safe"):  # answered, then routed out from the review
        prefix = f"Q{PLACE[question_id]} "
        assert next(cell for name, cell in f.items() if name.startswith(prefix)) == "not shown"
        assert all(cell == "" for name, cell in f.items() if name.startswith(prefix) and "status" not in name)


def test_a_question_never_reached_is_blank_in_every_column(folder: Path) -> None:
    d = people(folder)["D"]
    for question_id in ("household", "feel_safe", "age_group", "anything_else"):
        prefix = f"Q{PLACE[question_id]} "
        assert all(cell == "" for name, cell in d.items() if name.startswith(prefix)), question_id


def test_the_xlsx_responses_sheet_has_the_csv_cells_with_numbers_as_numbers(folder: Path) -> None:
    sheet = load_workbook(folder / "responses.xlsx")["Responses"]
    values = list(sheet.iter_rows(values_only=True))
    as_text = [["" if v is None else v.isoformat(sep=" ") if isinstance(v, datetime) else str(v) for v in row]
               for row in values]
    assert as_text == read_csv(folder / "responses.csv")
    header = list(values[0])
    first = dict(zip(header, values[1], strict=True))  # R-GOLD01, tenant A
    assert first["Q1 point"] == 5 and first[q("household", "number")] == 3
    assert first[q("services_used", "ticked repairs")] == 1 and first[q("services_used", "ticked none")] == 0


def test_a_label_or_unit_that_starts_like_a_formula_is_neutralised_in_every_new_cell(
    every_kind_db: Path, tmp_path: Path
) -> None:
    risky = relabelled(SURVEY, {("services_used", "repairs"): "=Repairs", ("overall", "very_satisfied"): "+Very",
                                ("overall", DONT_KNOW): "@Unsure"}, units={"household": "=people"})
    asyncio.run(export_to(every_kind_db, tmp_path, formats=("csv", "xlsx"), consultation=risky))
    rows = people(tmp_path)
    assert rows["A"][q("services_used", "choices")] == "'=Repairs; Cleaning of shared areas"
    assert rows["E"][q("services_used", "choices")] == "'=Repairs"
    assert rows["A"]["Q1 choice"] == "'+Very" and rows["C"]["Q1 choice"] == "'@Unsure"
    book = load_workbook(tmp_path / "responses.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} would run: {cell.value!r}"
                assert not (isinstance(cell.value, str) and cell.value.startswith(("=", "+", "@"))), cell.value
    summary = [row for row in book["Summary"].iter_rows(values_only=True)]
    assert any(row[0] == f"Q{PLACE['services_used']}" and row[1] == "'=Repairs" for row in summary)
    assert any(row[0] == f"Q{PLACE['household']}" and "'=people" in row for row in summary)
