"""`consultation-bot check FILE` as a housing officer runs it before launch: every problem on its own line and exit 2,
or every page with its kind, who sees it in plain words, the measures and the reading ease."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conversations.expressions import parse
from conversations.file.check import facts, summary
from conversations.file.loader import load_consultation, scale_presets
from conversations.file.routing_words import shown_if
from conversations.model import Consultation
from tests.conversations.contract_files import HEADER, YES_NO, load

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT / "conversations" / "consultations" / "examples" / "every-kind.toml"


def check(file: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli check FILE` as a real process, with no settings from this machine's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CONSULTATION_", "TELEGRAM_"))}
    return subprocess.run([sys.executable, "-m", "bot.cli", "check", str(file)], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(PROJECT)}, cwd=cwd, timeout=60)


BROKEN = HEADER + '''
[[questions]]
id = "repair_done"
kind = "choice"
text = "Did we repair your home this year?"
show_if = "${household} > 1"
''' + YES_NO + '''
[[questions]]
id = "household"
kind = "number"
min = 20
max = 1
text = "How many people live in your home?"

[[questions]]
id = "overall"
kind = "scale"
scale = "satisfied_5"
text = "How satisfied are you?"

[[questions]]
id = "why"
kind = "text"
show_if = "${repair_done} = 'maybe' or ${ghost} = 'yes'"
text = "Why?"

[[questions]]
id = "more"
kind = "text"
show_if = "${repair_done} == 'yes'"
text = "Tell us more"

[[measures]]
id = "tp01"
title = "Satisfaction"
question = "overal"
counts = ["very_satisfied"]

[[measures]]
id = "tp02"
title = "Repairs"
question = "repair_done"
counts = ["yes", "dont_know", "perhaps"]
'''


def test_check_prints_every_problem_on_its_own_line_naming_the_key_and_exits_2(tmp_path: Path) -> None:
    file = tmp_path / "broken.toml"
    file.write_text(BROKEN, encoding="utf-8")
    result = check(file, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    expected = [
        "questions[1].show_if: names ${household}, which is not before this question (a question can depend only "
        "on earlier ones)",
        "questions[2].min: is 20, more than max (1)",
        "questions[3].scale: 'satisfied_5' is not a scale (you can use agreement_5, satisfaction_5, or list the "
        "points as options)",
        "questions[4].show_if: 'maybe' is not an option of ${repair_done} (its options are yes, no)",
        "questions[4].show_if: names ${ghost}, which is not a question in this file",
        "questions[5].show_if: '==' at column 16 is not an operator: write = to compare, not ==",
        "measures[1].question: 'overal' is not a question in this file",
        "measures[2].counts: cannot count 'dont_know': \"don't know\" is left out of a measure's base",
        "measures[2].counts: 'perhaps' is not an option of 'repair_done' (its options are yes, no)",
    ]
    lines = result.stderr.splitlines()
    assert lines[0] == f"consultation-bot: the consultation file has {len(expected)} problem(s):"
    assert lines[1:] == [f"  {file}: {line}" for line in expected]


def test_check_of_a_good_file_lists_each_page_its_kind_and_its_routing_in_plain_words(tmp_path: Path) -> None:
    result = check(EXAMPLE, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for shown in (
        "  1. [info page] First, a few questions",
        "  2. [scale satisfaction_5 + Don't know; required; + optional reason] Taking everything into account",
        "  6. [multi, 1 to 5 of 5; 'None of these' stands alone; + optional reason] Which of these",
        "  7. [number 0 to 31 visits] In the last month",
        "  10. [number 1 to 20 people; required] How many people live in your home",
        "  13. [text, up to 2000 characters] Is there anything else",
        "     shown only if Q3 (repair_done) is 'Yes'",
        "     shown only if Q6 (services_used) has 'Cleaning of shared areas' ticked",
        "11 questions and 2 info pages",
        "  TP01 Overall satisfaction: Q2 (overall) 'Very satisfied' or 'Fairly satisfied'",
    ):
        assert shown in out, shown
    assert "${" not in out, "a housing officer reads question numbers and labels, not expressions"


def test_check_scores_the_reading_ease_of_questions_reasons_and_info_pages(tmp_path: Path) -> None:
    out = check(EXAMPLE, tmp_path).stdout
    reading = out[out.index("Reading ease"):]
    for name in ("info page 1", "question 2", "question 2 reason", "question 6 reason", "info page 9", "thank_you"):
        assert f"  {name}" in reading, name
    assert reading.count("<- hardest") == 1


def test_every_line_of_the_check_fits_a_terminal() -> None:
    screen = summary(load_consultation(EXAMPLE))
    assert max(len(line) for line in screen.splitlines()) <= 110


# ---------------------------------------------------------------- the routing in plain words


ROUTES = HEADER + '''
[[questions]]
id = "repair_done"
kind = "choice"
text = "Did we repair your home?"
''' + YES_NO + '''
[[questions]]
id = "overall"
kind = "scale"
scale = "satisfaction_5"
dont_know = "Don't know"
text = "How satisfied are you?"

[[questions]]
id = "household"
kind = "number"
min = 1
max = 20
text = "How many people live in your home?"

[[questions]]
id = "used"
kind = "multi"
text = "Which have you used?"

[[questions.options]]
id = "repairs"
label = "Repairs"

[[questions.options]]
id = "cleaning"
label = "Cleaning of shared areas"

[[questions]]
id = "why"
kind = "text"
text = "Why?"

[[questions]]
id = "last"
kind = "text"
text = "Anything else?"
show_if = "answered(${why})"
'''


@pytest.fixture
def routes(tmp_path: Path) -> Consultation:
    return load(tmp_path, ROUTES, header="")


@pytest.mark.parametrize(("expression", "words"), [
    ("${repair_done} = 'yes'", "Q1 (repair_done) is 'Yes'"),
    ("${repair_done} != 'no'", "Q1 (repair_done) is answered with anything but 'No'"),
    ("${overall} = 'dont_know'", "Q2 (overall) is 'Don't know'"),
    ("${overall} <= 2", "Q2 (overall) scores 2 or less ('Fairly dissatisfied' or 'Very dissatisfied')"),
    ("${overall} > 3", "Q2 (overall) scores more than 3 ('Very satisfied' or 'Fairly satisfied')"),
    ("${overall} = 3", "Q2 (overall) scores 3 ('Neither satisfied nor dissatisfied')"),
    ("${overall} != 5", "Q2 (overall) is answered with a point other than 5 ('Fairly satisfied', 'Neither "
                        "satisfied nor dissatisfied', 'Fairly dissatisfied' or 'Very dissatisfied')"),
    ("${overall} < 1", "Q2 (overall) scores less than 1 (no point of the scale)"),
    ("${household} > 1", "Q3 (household) is more than 1"),
    ("${household} >= 2", "Q3 (household) is 2 or more"),
    ("${household} < 3", "Q3 (household) is less than 3"),
    ("${household} <= 4", "Q3 (household) is 4 or less"),
    ("${household} = 1", "Q3 (household) is 1"),
    ("${household} != 1", "Q3 (household) is answered with anything but 1"),
    ("selected(${used}, 'cleaning')", "Q4 (used) has 'Cleaning of shared areas' ticked"),
    ("answered(${why})", "Q5 (why) was answered"),
    ("not answered(${why})", "Q5 (why) was not answered (skipped, or not shown)"),
    ("not ${repair_done} = 'yes'", "Q1 (repair_done) is not 'Yes' (or was not answered)"),
    ("not selected(${used}, 'repairs')", "Q4 (used) does not have 'Repairs' ticked (or was not answered)"),
    ("not (${household} > 1 and answered(${why}))", "not (Q3 (household) is more than 1 and Q5 (why) was answered)"),
    ("${repair_done} = 'yes' and (${household} > 1 or answered(${why}))",
     "Q1 (repair_done) is 'Yes' and (Q3 (household) is more than 1 or Q5 (why) was answered)"),
    ("${repair_done} = 'yes' or ${household} > 1 and answered(${why})",
     "Q1 (repair_done) is 'Yes' or (Q3 (household) is more than 1 and Q5 (why) was answered)"),
    ("answered(${why}) or answered(${used}) or answered(${household})",
     "Q5 (why) was answered or Q4 (used) was answered or Q3 (household) was answered"),
])
def test_a_routing_condition_reads_in_question_numbers_and_labels(routes: Consultation, expression: str,
                                                                  words: str) -> None:
    assert shown_if(routes, parse(expression)) == words


def test_only_routed_questions_get_a_shown_only_if_line(routes: Consultation) -> None:
    screen = summary(routes)
    assert screen.count("shown only if") == 1
    assert "  6. [text, up to 2000 characters] Anything else?\n     shown only if Q5 (why) was answered" in screen


def test_a_scale_of_its_own_points_is_described_by_their_number(tmp_path: Path) -> None:
    points = "".join(f'[[questions.options]]\nid = "{p}"\nlabel = "{p.title()}"\n' for p in ("good", "fair", "poor"))
    survey = load(tmp_path, f'[[questions]]\nid = "rate"\nkind = "scale"\ntext = "Rate it"\n{points}')
    assert facts(survey.questions[0], scale_presets()) == "[scale of 3 points]"
