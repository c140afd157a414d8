"""Measures and per-kind figures from the every-kind database, worked out here by hand from every_kind.ANSWERS, and
shown the same in the XLSX Summary, /stats and `consultation-bot stats`."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from pathlib import Path
from statistics import median

import pytest
from openpyxl import load_workbook

from conversations.model import DONT_KNOW, Consultation, Measure
from conversations.screens.markup import plain
from storage import Database
from storage.export import ExportResult
from storage.export.figures import stats_message
from storage.stats import ConsultationStats, gather_stats
from tests.cli.test_cli import cli
from tests.export.conftest import export_to
from tests.export.every_kind import ANSWERS, FILE, NOT_SHOWN, NOW, SKIPPED, every_kind

SURVEY = every_kind()


def by_hand(question_id: str, counts: tuple[str, ...]) -> tuple[int, int]:
    """(counted, base): of the tenants who answered with an option other than don't know, those giving one of
    `counts` (a multi: ticking any of them). Skips, not shown and never reached are not in the base."""
    counted = base = 0
    for answers in ANSWERS.values():
        given = answers.get(question_id)
        if given in (None, SKIPPED, NOT_SHOWN, DONT_KNOW):
            continue
        options = given if isinstance(given, tuple) else (given,)
        base += 1
        counted += bool(set(options) & set(counts))
    return counted, base


def numbers_given(question_id: str) -> list[int]:
    return [value for answers in ANSWERS.values() if isinstance(value := answers.get(question_id), int)]


async def figures(database: Path, survey: Consultation = SURVEY) -> ConsultationStats:
    db = await Database.open(f"sqlite:///{database}")
    try:
        return await gather_stats(db, survey)
    finally:
        await db.close()


@pytest.fixture(scope="module")
def export(every_kind_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExportResult]:
    folder = tmp_path_factory.mktemp("every-kind-figures")
    return folder, asyncio.run(export_to(every_kind_db, folder, formats=("xlsx",), consultation=SURVEY))


def summary(folder: Path) -> list[tuple[object, ...]]:
    book = load_workbook(folder / "responses.xlsx")
    return [tuple(value for value in row if value is not None) for row in book["Summary"].iter_rows(values_only=True)]


def test_measures_count_those_who_answered_leaving_out_skips_not_shown_and_dont_know(every_kind_db: Path) -> None:
    stats = asyncio.run(figures(every_kind_db))
    for measure, found in zip(SURVEY.measures, stats.measures, strict=True):
        assert (found.counted, found.base) == by_hand(measure.question, measure.counts), measure.id
    tp01, tp02, tp06 = stats.measures
    assert (tp01.counted, tp01.base) == (4, 5)  # six answered; C said don't know
    assert (tp02.counted, tp02.base) == (1, 3)  # B, D and F were not shown it (F after answering it)
    assert (tp06.counted, tp06.base) == (4, 6)


def test_a_multi_measure_counts_a_tenant_once_when_any_of_its_options_is_ticked(every_kind_db: Path) -> None:
    used = Measure("used", "Used repairs or cleaning", "services_used", ("repairs", "cleaning"))
    stats = asyncio.run(figures(every_kind_db, replace(SURVEY, measures=(used,))))
    (found,) = stats.measures
    assert (found.counted, found.base) == by_hand("services_used", used.counts) == (3, 5)  # A ticked both: once


def test_each_kind_has_its_own_figures(every_kind_db: Path) -> None:
    stats = asyncio.run(figures(every_kind_db))
    by_id = {q.id: f for q, f in zip(SURVEY.answerable, stats.questions, strict=True)}
    assert len(stats.questions) == 11  # info pages have no figures
    satisfaction = by_id["repair_satisfaction"]
    assert (satisfaction.answered, satisfaction.skipped, satisfaction.not_shown) == (3, 0, 3)
    services = by_id["services_used"]
    assert (services.answered, services.skipped, services.chosen) == (5, 1, 5)
    assert services.choices == {"repairs": 2, "cleaning": 2, "grounds": 2, "rent_advice": 1, "none": 1}
    household = by_id["household"]
    assert household.median == median(numbers_given("household")) == 2
    assert (min(household.numbers), max(household.numbers)) == (1, 5)
    visits = by_id["cleaning_visits"]
    assert (visits.answered, visits.not_shown, visits.median) == (2, 4, median(numbers_given("cleaning_visits")))
    assert by_id["overall"].choices[DONT_KNOW] == 1


def test_the_xlsx_summary_has_each_measure_with_its_base_and_share(export: tuple[Path, ExportResult]) -> None:
    rows = summary(export[0])
    for measure in SURVEY.measures:
        counted, base = by_hand(measure.question, measure.counts)
        assert (measure.title, f"{counted / base:.1%}", base, counted) in rows
    assert ("TP01 Overall satisfaction", "80.0%", 5, 4) in rows
    header = rows.index(("Measure", "Share", "Of those who answered (don't know left out)", "Counted"))
    assert header < rows.index(("Question", "Wording", "Answered", "Skipped", "Not shown", "Written answers"))


def test_the_xlsx_summary_has_per_kind_figures(export: tuple[Path, ExportResult]) -> None:
    rows = summary(export[0])
    assert ("Q3", "How satisfied or dissatisfied are you with the repairs service over the last 12 months?",
            3, 0, 3, 0) in rows  # answered, skipped, not shown, written
    assert ("Q5", "Repairs", 2, "40%") in rows and ("Q5", "None of these", 1, "20%") in rows
    assert ("Q1", "Don't know", 1) in rows  # counted, with no share: it is left out of the percentages
    assert ("Q1", 4, "80.0%", 5, 4.2, 1) in rows  # top two, their share, of, mean score, don't know
    assert ("Q8", 5, 2, 1, 5, "people") in rows  # numbers given, median, lowest, highest, unit
    assert ("Q6", 2, 2, 0, 4, "visits") in rows


def test_stats_text_gives_per_kind_figures_and_measures(every_kind_db: Path) -> None:
    text = plain(stats_message(SURVEY, asyncio.run(figures(every_kind_db)), NOW))
    for line in ("TP01 Overall satisfaction: 80.0% of 5", "TP02 Satisfaction with repairs: 33.3% of 3",
                 "3. Your home: 3 answered, 0 skipped, 3 not shown", "    Don't know: 1 (left out of the percentages)",
                 "    Top two: 80% (4 of 5) · mean score 4.2 out of 5", "    Repairs: 2 (40%)",
                 "can add up to more than 100%", "    Median 2 people · lowest 1 · highest 5 (5 answers)",
                 "11. Is there anything else you would like to tell Connexus?: 1 answered, 4 skipped"):
        assert line in text, line
    assert text.index("Measures") < text.index("Per question")


def test_consultation_bot_stats_prints_the_same_figures(every_kind_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "consultation.db"
    shutil.copy(every_kind_db, copy)
    result = cli("stats", env={"DATABASE_URL": f"sqlite:///{copy}", "CONSULTATION_FILE": str(FILE)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = plain(stats_message(SURVEY, asyncio.run(figures(copy)), NOW))
    skip_countdown = [line for line in expected.splitlines() if not line.startswith(("Closed", "Closes", "Opens"))]
    printed = result.stdout.splitlines()
    assert [line for line in printed if not line.startswith(("Closed", "Closes", "Opens"))] == skip_countdown
