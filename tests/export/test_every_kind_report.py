"""report.html for a consultation of every kind: measures at the top, a chart per kind, and its numbers as text."""

from __future__ import annotations

import asyncio
import re
from html import unescape
from pathlib import Path

import pytest

from tests.export.conftest import export_to
from tests.export.every_kind import every_kind

SURVEY = every_kind()


@pytest.fixture(scope="module")
def folder(every_kind_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("every-kind-report")
    asyncio.run(export_to(every_kind_db, folder, formats=("html",), consultation=SURVEY))
    return folder


@pytest.fixture(scope="module")
def page(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def appendix(folder: Path) -> str:
    return (folder / "answers.html").read_text(encoding="utf-8")


def section(page: str, place: int) -> str:
    """One question's section, as text with the tags left in."""
    found = re.search(rf'<section id="q{place}">(.*?)</section>', page, re.S)
    assert found, f"no section q{place}"
    return unescape(found.group(1))


def text_of(html: str) -> str:
    """What a screen reader reads outside the charts: the markup and every SVG removed."""
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)))


def test_the_report_opens_with_the_measures_each_with_its_base(page: str) -> None:
    words = " ".join(text_of(page).split())
    for line in ("TP01 Overall satisfaction: 80.0% of 5", "TP02 Satisfaction with repairs: 33.3% of 3",
                 "TP06 Agreement that Connexus listens to views and acts on them: 66.7% of 6"):
        assert line in words
    assert page.index("Headline measures") < page.index("The figures") < page.index('<section id="q1">')


def test_a_scale_has_a_diverging_bar_its_top_two_and_its_base_in_words(page: str) -> None:
    q1 = section(page, 1)
    assert q1.count('<svg class="chart"') == 1 and q1.count('<rect class="bar"') == 5  # one segment per point
    words = " ".join(text_of(q1).split())
    assert "Top two (Very satisfied, Fairly satisfied): 80% of the 5 who chose a point (4)." in words
    assert "Mean score 4.2 out of 5." in words
    for line in ("Very satisfied: 3 (60%)", "Fairly dissatisfied: 1 (20%)", "Very dissatisfied: 0 (0%)",
                 "Don't know: 1 (left out of the percentages)"):
        assert line in words


def test_the_diverging_bar_puts_positive_points_right_of_the_centre_and_negative_ones_left(page: str) -> None:
    svg = re.search(r"<svg.*?</svg>", section(page, 1), re.S)
    assert svg
    segments = re.findall(r'<rect class="bar" x="([\d.]+)" y="\d+" width="([\d.]+)"[^>]*><title>([^<]+)</title>',
                          svg.group(0))
    centre = 200.0
    where = {title.split(":")[0]: (float(x), float(x) + float(width)) for x, width, title in segments}
    assert where["Very satisfied"][0] >= where["Fairly satisfied"][1] - 0.1 >= centre - 0.1
    assert where["Fairly dissatisfied"][1] <= centre + 0.1


def test_a_multi_gives_each_options_share_and_says_they_can_pass_100_percent(page: str, appendix: str) -> None:
    words = " ".join(text_of(section(page, 5)).split())
    for line in ("Repairs: 2 (40%)", "Cleaning of shared areas: 2 (40%)", "None of these: 1 (20%)"):
        assert line in words
    assert "share of the 5 who chose at least one" in words and "more than 100%" in words
    assert "Written answers: 1" in words and "The cleaners rarely come" not in words  # the reason is in the appendix
    assert "The cleaners rarely come" in " ".join(text_of(section(appendix, 5)).split())


def test_a_number_has_its_median_and_its_distribution_in_words(page: str) -> None:
    q8 = section(page, 8)
    words = " ".join(text_of(q8).split())
    assert "Median 2 people, lowest 1, highest 5, from 5 answers." in words
    assert "1 said 1 2 said 2 1 said 3 1 said 5" in words  # each number given, and how many gave it
    assert q8.count('<rect class="bar"') == 5  # 1 to 5, a gap at 4 drawn as a bar of no height
    assert "No written answers" not in words  # a number takes no words


def test_routed_questions_say_how_many_were_not_shown_and_info_pages_have_no_section(page: str) -> None:
    assert "3 answered, 0 skipped, 3 not shown" in section(page, 3)
    assert page.count("<section ") == len(SURVEY.answerable) == 11
    assert "Question 11 of 11" in page and "Question 12 of" not in page
    assert "We're glad you're happy" not in page  # the info page's words
