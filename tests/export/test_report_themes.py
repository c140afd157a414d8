"""report.html shows themes, not every answer; answers.html, its appendix, lists every written answer once, by theme.

Made from tests/export/themed.py: Q1 analysed by a hand-made machine run and reviewed by staff through the real
storage API (see that module's table for what each tenant wrote and how it was coded).
"""

from __future__ import annotations

import asyncio
import re
from html import unescape
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from storage.export import ExportResult
from storage.export.report_themes import shorten
from tests.export import themed
from tests.export.conftest import export_to


@pytest.fixture(scope="module")
def export(themed_db: tuple[Path, dict[str, int]], tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[Path, ExportResult]:
    folder = tmp_path_factory.mktemp("themed-export")
    return folder, asyncio.run(export_to(themed_db[0], folder, formats=("html",)))


@pytest.fixture(scope="module")
def report(export: tuple[Path, ExportResult]) -> str:
    return (export[0] / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def answers(export: tuple[Path, ExportResult]) -> str:
    return (export[0] / "answers.html").read_text(encoding="utf-8")


def section(page: str, place: int) -> str:
    found = re.search(rf'<section id="q{place}">(.*?)</section>', page, re.S)
    assert found, f"no section q{place}"
    return found.group(1)


def words(html: str) -> str:
    """What a reader sees outside the charts, on one line."""
    text = unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)))
    return " ".join(text.split())


def listed(page: str, place: int) -> list[tuple[str, list[str]]]:
    """answers.html's groups for one question: each group's heading and the answers' words under it."""
    groups = re.findall(r"<summary>(.*?)</summary>\n<ol class=\"answers\">\n(.*?)</ol>", section(page, place), re.S)
    return [(unescape(title), [unescape(item) for item in re.findall(r"<li>(.*?)<span class=\"ref\">", body, re.S)])
            for title, body in groups]


def test_the_html_export_writes_the_report_and_its_appendix_owner_only(export: tuple[Path, ExportResult]) -> None:
    folder, result = export
    assert [(file.format, file.path.name) for file in result.files] == [("html", "report.html"),
                                                                         ("html", "answers.html")]
    assert sorted(path.name for path in folder.iterdir()) == ["answers.html", "report.html"]  # no .partial left
    for file in result.files:
        assert file.path.stat().st_mode & 0o777 == 0o600 and file.size == file.path.stat().st_size
    assert [file.caption_key for file in result.files] == ["export_caption_html", "export_caption_answers"]


def test_the_report_shows_each_live_theme_with_its_count_share_bar_and_quotes_most_answers_first(report: str) -> None:
    q1 = section(report, 1)
    text = words(q1)
    assert "Written answers: 11" in text
    assert text.index("Faster repairs: 5 (45%)") < text.index("Local firms: 3 (27%)")  # most answers first
    chart = re.search(r"<svg.*?</svg>", q1, re.S)
    assert chart and chart.group(0).count('<rect class="bar"') == 2
    assert "<title>Faster repairs: 5 (45%)</title>" in chart.group(0)  # the bar's figure, for screen readers too
    assert "can add up to more than 100%" in text
    quotes = re.findall(r"<blockquote>(.*?)</blockquote>", q1)
    assert len(quotes) == 6  # three each: T2's stored fourth quote and an answer that no longer exists are left out
    assert [unescape(quote) for quote in quotes[:3]] == [themed.WORDS["C"], themed.WORDS["D"], themed.WORDS["G"]]


def test_a_deleted_or_merged_theme_is_not_shown_and_the_merged_ones_answers_count_for_its_target(report: str) -> None:
    text = words(section(report, 1))
    assert "Chaff theme" not in text and "Buy local" not in text
    assert "Local firms: 3 (27%)" in text  # A, G (confirmed by staff) and B (the machine's T4, merged into T1)


def test_a_long_quote_is_shortened_at_a_word_boundary_with_its_reference(report: str) -> None:
    q1 = words(section(report, 1))
    short = shorten(themed.LONG)
    assert len(short) <= 301 and short.endswith("…") and themed.LONG.startswith(short[:-1])
    assert themed.LONG[len(short) - 1] == " "  # cut between words
    assert short in q1 and themed.LONG not in q1
    assert shorten("  a  short\nanswer ") == "a short answer"


def test_the_report_counts_what_needs_reading_non_answers_campaigns_and_the_share_confirmed(report: str) -> None:
    text = words(section(report, 1))
    assert "Needs reading: 2" in text  # J (no theme fitted) and K (written after the run)
    assert "Read by staff, no theme fits: 1" in text
    assert "Non-answers (such as “no” or “n/a”): 1" in text
    assert "Confirmed by staff: 27% of the 11 written answers (3)" in text
    assert "“Stop the cuts to the repairs budget now”: 2 answers" in text


def test_the_report_publishes_agreement_f1_between_machine_and_staff_and_kappa_between_two_staff(report: str) -> None:
    text = words(section(report, 1))
    # machine against staff on the confirmed answers: A {T1,T2} v {T1,T2} = 1, E {} v {} = 1, G {T2} v {T1} = 0
    assert ("Themes suggested by machine; 3 answers confirmed by staff; agreement between machine and staff on "
            "confirmed answers: F1 0.67") in text
    staff = {"A": {"T1", "T2"}, "E": set(), "G": {"T1"}}
    second = {"A": {"T1"}, "E": set(), "G": {"T1"}}
    kappas = [cohen_kappa_score([theme in staff[k] for k in "AEG"], [theme in second[k] for k in "AEG"])
              for theme in ("T1", "T2")]  # per theme, then averaged
    assert f"Cohen's kappa between two staff coders on 3 answers: {sum(kappas) / 2:.2f}" in text
    assert f"{sum(kappas) / 2:.2f}" == "0.50"


def test_a_question_not_analysed_yet_says_so_in_one_line_and_still_gives_its_counts(report: str) -> None:
    text = words(section(report, 2))
    assert "Themes not analysed yet: an admin sends /themes" in text
    assert "Written answers: 4" in text and "Needs reading: 4" in text
    assert "Confirmed by staff: 0% of the 4 written answers (0)" in text
    assert "F1" not in text and "kappa" not in text
    assert '<a href="answers.html#q2">' in section(report, 2)


def test_the_report_holds_no_written_answer_beyond_its_quotes_and_links_to_the_appendix(report: str) -> None:
    text = words(report)
    for letter in "EJK":  # never quoted (F's "no" is a word the page uses)
        assert themed.WORDS[letter] not in text, letter
    assert text.count(themed.CAMPAIGN) == 1  # a campaign's words are shown once, with how many sent them
    for reason in themed.REASONS.values():
        assert reason not in text
    assert '<a href="answers.html#q1">' in section(report, 1)


def test_alerts_come_first_with_each_alerts_count_and_references(report: str) -> None:
    text = words(report)
    assert text.index("Alerts: answers that need a person") < text.index("The figures")
    assert re.search(r"Damp and mould: 1 answers flagged\. Newest: R-GOLD\d\d", text)
    assert "Safeguarding: abuse or neglect of a child or an adult at risk: no answers flagged." in text


def test_answers_html_lists_every_written_answer_once_per_question_grouped_by_theme(answers: str) -> None:
    groups = listed(answers, 1)
    assert [title for title, _ in groups] == [
        "Faster repairs (5)", "Local firms (2 listed here; 3 answers carry this theme, some listed under another)",
        "Needs reading (2)", "Read by staff, no theme fits (1)", "Non-answers (1)"]
    everything = sorted(item for _, items in groups for item in items)
    assert everything == sorted(themed.WORDS.values())  # each of the eleven exactly once
    by_group = dict(groups)
    assert by_group["Faster repairs (5)"] == [themed.WORDS[k] for k in "ACDHI"]
    assert by_group["Needs reading (2)"] == [themed.WORDS["J"], themed.WORDS["K"]]
    assert "Use local builders and fix repairs faster<span class=\"ref\">R-GOLD01 · also: Local firms</span>" in answers
    assert themed.LONG in section(answers, 1)  # the whole answer here, not the shortened quote


def test_answers_html_lists_an_unanalysed_questions_reasons_with_their_choice_and_partial_tag(answers: str) -> None:
    ((title, items),) = listed(answers, 2)
    assert title == "Written answers (4): themes not analysed yet"
    assert sorted(items) == sorted(themed.REASONS.values())
    assert "Keeps money in the county<span class=\"ref\">R-GOLD02 · partial · 👍 Agree</span>" in answers
    assert "Local firms care about quality<span class=\"ref\">R-GOLD01 · 👍 Agree</span>" in answers
    assert '<section id="q3">' in answers and "No written answers." in section(answers, 3)
    assert '<a href="report.html">' in answers
