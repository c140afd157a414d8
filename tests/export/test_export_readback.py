"""The CSV reads back with Python's csv module, and the XLSX with openpyxl, to the values that went in."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from storage.export import ExportResult
from storage.export.cells import neutralise, xlsx_text
from tests.export.builders import AWKWARD
from tests.export.conftest import export_to


@pytest.fixture(scope="module")
def export(golden_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExportResult]:
    folder = tmp_path_factory.mktemp("readback")
    return folder, asyncio.run(export_to(golden_db, folder, formats=("csv", "xlsx")))


def csv_rows(folder: Path) -> list[list[str]]:
    with (folder / "responses.csv").open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def by_reference(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"), ("\0Nul", "'\0Nul"), ("Plain words", "Plain words"), ("1-1", "1-1"),
        (" =not first", " =not first"), ("", ""),
    ],
)
def test_a_cell_starting_like_a_formula_is_neutralised_and_keeps_its_text(value: str, expected: str) -> None:
    assert neutralise(value) == expected


def test_xlsx_text_replaces_characters_xml_cannot_hold_and_still_neutralises() -> None:
    assert xlsx_text("\0bell\x07 ok\ttab\nline") == "'\ufffdbell\ufffd ok\ttab\nline"


def test_the_csv_has_a_byte_order_mark_and_reads_back_to_the_same_values(export: tuple[Path, ExportResult]) -> None:
    folder = export[0]
    assert (folder / "responses.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    rows = csv_rows(folder)
    assert len({len(row) for row in rows}) == 1  # every row has every column, newlines inside cells included
    people = by_reference(rows)
    first, second = people["R-GOLD01"], people["R-GOLD02"]
    assert first["Q1 text"] == "'" + AWKWARD["formula"]
    assert first["Q2 text"] == AWKWARD["mixed"]  # commas, quotes and a line break survive the round trip
    assert first["Q4 text"] == "'" + AWKWARD["plus"]
    assert first["Q5 text"] == AWKWARD["emoji"]
    assert (first["Q3 status"], first["Q3 text"]) == ("skipped", "")
    assert second["Q1 text"] == "'" + AWKWARD["minus"]
    assert second["Q2 text"] == "'" + AWKWARD["at"]
    assert (second["status"], second["finished (Europe/London)"], second["Q3 status"]) == ("partial", "", "")
    assert (first["source"], second["source"]) == ("poster", "")


def test_the_xlsx_reads_back_with_openpyxl_to_the_same_rows_as_the_csv(export: tuple[Path, ExportResult]) -> None:
    folder = export[0]
    book = load_workbook(folder / "responses.xlsx")
    assert book.sheetnames == ["Summary", "Responses"]
    sheet = book["Responses"]
    from_xlsx = [["" if v is None else v.isoformat(sep=" ") if isinstance(v, datetime) else str(v) for v in row]
                 for row in sheet.iter_rows(values_only=True)]
    assert from_xlsx == csv_rows(folder)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} would run as a formula: {cell.value!r}"
    assert isinstance(sheet["D2"].value, datetime)  # started: a real date Excel can sort, not text


def test_the_xlsx_summary_sheet_has_the_counts_and_every_choice_tally(export: tuple[Path, ExportResult]) -> None:
    book = load_workbook(export[0] / "responses.xlsx")
    rows = [tuple(v for v in row if v is not None) for row in book["Summary"].iter_rows(values_only=True)]
    assert ("Finished (sent their answers)", 2) in rows
    assert ("Partial (agreed, not sent yet)", 1) in rows
    assert ("Erased at their request (not exported)", 1) in rows
    assert ("Q2", "👍 Agree", 2, "67%") in rows and ("Q2", "🤔 Not sure", 0, "0%") in rows
    assert ("Q4", "👎 Disagree", 1, "50%") in rows
    tallies = [row for row in rows if row and row[0] == "Q3" and len(row) == 5]
    assert tallies and tallies[0][2:] == (1, 1, 1)  # answered, skipped, written
