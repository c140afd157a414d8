"""The show_if language: how it reads (grammar and precedence), how it refuses (with the column), and what it means
for each kind of question once routing evaluates it against a tenant's answers."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from conversations.expressions import (
    And,
    Answered,
    Compare,
    ExpressionError,
    Not,
    Or,
    Selected,
    leaves,
    parse,
    references,
)
from conversations.flow.routing import holds
from conversations.model import Consultation
from conversations.state import NOT_SHOWN, Answer
from tests.conversations.contract_files import YES_NO, load

A = Compare("a", "=", "x")
B = Compare("b", "=", "y")
C = Compare("c", "=", "z")


def refusal(source: str) -> str:
    """The message parse gives for a show_if it cannot read."""
    with pytest.raises(ExpressionError) as refused:
        parse(source)
    return str(refused.value)


# ---------------------------------------------------------------- the grammar


def test_a_comparison_reads_as_question_operator_value() -> None:
    assert parse("${a} = 'x'") == A


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_every_operator_is_read(op: str) -> None:
    assert parse(f"${{age}} {op} 18") == Compare("age", op, 18)


def test_single_and_double_quotes_both_give_an_option_id() -> None:
    assert parse("${a} = 'x'") == parse('${a} = "x"') == A


def test_a_negative_number_is_read_as_one_value() -> None:
    assert parse("${temp} >= -2") == Compare("temp", ">=", -2)
    assert parse("${temp}<-2") == Compare("temp", "<", -2)


def test_whitespace_is_free_around_every_part_and_inside_a_reference() -> None:
    assert parse("  ${ a }='x'  ") == A
    assert parse("selected( ${m} ,'o' )") == Selected("m", "o")
    assert parse("answered(\n  ${q5}\n)") == Answered("q5")


def test_keywords_are_read_in_any_case() -> None:
    assert parse("NOT answered(${a}) And ${b} = 'y'") == And(Not(Answered("a")), B)


def test_and_binds_tighter_than_or() -> None:
    assert parse("${a} = 'x' or ${b} = 'y' and ${c} = 'z'") == Or(A, And(B, C))
    assert parse("${a} = 'x' and ${b} = 'y' or ${c} = 'z'") == Or(And(A, B), C)


def test_not_binds_tighter_than_and() -> None:
    assert parse("not ${a} = 'x' and ${b} = 'y'") == And(Not(A), B)
    assert parse("not not ${a} = 'x'") == Not(Not(A))


def test_parentheses_override_precedence() -> None:
    assert parse("(${a} = 'x' or ${b} = 'y') and ${c} = 'z'") == And(Or(A, B), C)
    assert parse("not (${a} = 'x' or ${b} = 'y')") == Not(Or(A, B))
    assert parse("((${a} = 'x'))") == A


def test_and_and_or_group_from_the_left() -> None:
    assert parse("${a} = 'x' or ${b} = 'y' or ${c} = 'z'") == Or(Or(A, B), C)
    assert parse("${a} = 'x' and ${b} = 'y' and ${c} = 'z'") == And(And(A, B), C)


def test_selected_and_answered_are_calls() -> None:
    assert parse("selected(${services}, 'repairs')") == Selected("services", "repairs")
    assert parse("answered(${q5})") == Answered("q5")


def test_references_and_leaves_list_what_is_named_in_order() -> None:
    tree = parse("${b} = 'y' and not (answered(${a}) or selected(${m}, 'o'))")
    assert references(tree) == ["b", "a", "m"]
    assert leaves(tree) == [B, Answered("a"), Selected("m", "o")]


def test_option_ids_with_digits_and_dashes_stay_whole_inside_quotes() -> None:
    assert parse("${age} = '35_to_64'") == Compare("age", "=", "35_to_64")
    assert parse("${age} != '65-plus'") == Compare("age", "!=", "65-plus")


# ---------------------------------------------------------------- refusals, each saying where


@pytest.mark.parametrize("source", ["", "   ", "\n"])
def test_an_empty_show_if_is_refused(source: str) -> None:
    assert "is empty" in refusal(source)


def test_an_unclosed_parenthesis_names_its_column() -> None:
    assert refusal("(${a} = 'x' or ${b} = 'y'") == "the '(' at column 1 is never closed: add ')'"
    assert refusal("${a} = 'x' and (answered(${b})") == "the '(' at column 16 is never closed: add ')'"


def test_a_closing_parenthesis_without_an_opening_one_names_its_column() -> None:
    assert refusal("${a} = 'x')") == "the ')' at column 11 has no '(' before it"


def test_an_unknown_word_names_its_column() -> None:
    message = refusal("${a} = 'x' nand ${b} = 'y'")
    assert message.startswith("unknown word 'nand' at column 12")


def test_an_option_without_quotes_is_refused_with_the_quotes_to_add() -> None:
    assert refusal("${a} = yes") == "unknown word 'yes' at column 8: put an option in quotes, as in 'yes'"
    assert "'35_to_64'" in refusal("${age} = 35_to_64")
    assert "column 16: put an option in quotes, as in 'o2'" in refusal("selected(${m}, o2)")


def test_a_question_without_its_dollar_and_braces_is_refused_with_the_way_to_write_it() -> None:
    assert refusal("q2 = 'yes'") == "unknown word 'q2' at column 1: write a question as ${q2}"
    assert "column 10: write a question as ${q5}" in refusal("answered(q5)")
    assert "column 16: write a question as ${b}" in refusal("${a} = 'x' and b = 'y'")


def test_a_missing_operator_names_its_column() -> None:
    assert refusal("${a} 'x'") == "expected =, !=, <, <=, > or >= at column 6, found ''x''"
    assert refusal("${a}") == "expected =, !=, <, <=, > or >= at column 5, found the end"


def test_a_missing_value_names_its_column() -> None:
    assert refusal("${a} =") == "expected an option id in quotes, or a whole number at column 7, found the end"
    assert "column 9, found 'and'" in refusal("${a} != and ${b} = 'y'")


def test_trailing_words_after_a_whole_condition_name_their_column() -> None:
    assert refusal("${a} = 'x' ${b} = 'y'") == "expected the end, or 'and' / 'or' at column 12, found '${b}'"
    assert "column 12, found '3'" in refusal("${a} = 'x' 3")


def test_a_dangling_and_or_not_is_refused_at_the_end() -> None:
    assert "found the end" in refusal("${a} = 'x' and")
    assert "found the end" in refusal("${a} = 'x' or")
    assert "column 4, found the end" in refusal("not")


@pytest.mark.parametrize(("source", "hint"), [
    ("${a} == 'x'", "'==' at column 6 is not an operator: write = to compare, not =="),
    ("${a} <> 3", "'<>' at column 6 is not an operator: write != for 'is not'"),
    ("${a} = 'x' && ${b} = 'y'", "at column 12: write and, not &&"),
    ("${a} = 'x' || ${b} = 'y'", "at column 12: write or, not ||"),
    ("!answered(${a})", "at column 1: write not, or != for 'is not'"),
    ("$a = 'x'", "at column 1: write a question as ${its_id}"),
    ("{a} = 'x'", "at column 1: write a question as ${its_id}"),
    ("${a} = 'x", "at column 8: this quote is never closed"),
    ("'x' = ${a}", "expected a question at column 1"),
])
def test_habits_from_other_languages_are_refused_with_what_to_write(source: str, hint: str) -> None:
    assert hint in refusal(source)


def test_a_call_missing_its_parts_says_which_part() -> None:
    assert "'(' after selected at column 10" in refusal("selected ${m}, 'o')")
    assert "',' between the question and the option" in refusal("selected(${m} 'o')")
    assert "an option id in quotes at column 16" in refusal("selected(${m}, 3)")
    assert "a question such as ${q5} at column 10" in refusal("answered('q5')")
    assert "')' at column 14" in refusal("answered(${a}")


def test_a_comparison_of_a_question_with_a_number_and_no_question_is_refused() -> None:
    assert "expected a question such as ${q2}" in refusal("3 = 3")


def test_absurd_nesting_and_length_are_refused_not_crashed_on() -> None:
    assert "nested more than 50 deep" in refusal("not " * 60 + "answered(${a})")
    assert "nested more than 50 deep" in refusal("(" * 60 + "answered(${a})" + ")" * 60)
    assert "is too long" in refusal(" or ".join(["${a} = 'x'"] * 200))


# ---------------------------------------------------------------- what it means, evaluated by routing


SURVEY = '''
[[questions]]
id = "fixed"
kind = "choice"
text = "Was it fixed?"
''' + YES_NO + '''
[[questions]]
id = "overall"
kind = "scale"
scale = "satisfaction_5"
dont_know = "Don't know"
text = "How satisfied are you?"

[[questions]]
id = "people"
kind = "number"
min = 0
max = 20
text = "How many people live with you?"

[[questions]]
id = "used"
kind = "multi"
text = "Which have you used?"

[[questions.options]]
id = "repairs"
label = "Repairs"

[[questions.options]]
id = "cleaning"
label = "Cleaning"

[[questions.options]]
id = "none"
label = "None of these"
exclusive = true

[[questions]]
id = "why"
kind = "text"
text = "Why?"

[[questions]]
id = "last"
kind = "text"
text = "Anything else?"
'''


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Consultation:
    return load(tmp_path_factory.mktemp("survey"), SURVEY)


def holds_for(survey: Consultation, source: str, **answers: Answer) -> bool:
    """Whether a show_if (checked by the loader first, as a file would be) holds for these answers."""
    routed = SURVEY + f'show_if = "{source}"\n'
    load_checked(routed)
    return holds(survey, parse(source), answers)


def load_checked(body: str) -> None:
    """The expression must be one the loader accepts: evaluating one it refuses would prove nothing."""
    with tempfile.TemporaryDirectory() as folder:
        load(Path(folder), body)


SKIPPED = Answer(skipped=True)


@pytest.mark.parametrize(("source", "answer", "expected"), [
    ("${fixed} = 'yes'", Answer(choice="yes"), True),
    ("${fixed} = 'yes'", Answer(choice="no"), False),
    ("${fixed} != 'no'", Answer(choice="yes"), True),
    ("${fixed} != 'no'", Answer(choice="no"), False),
    ("${fixed} != 'no'", Answer(choice="yes", text="a reason"), True),
])
def test_a_choice_compares_by_its_option(survey: Consultation, source: str, answer: Answer, expected: bool) -> None:
    assert holds_for(survey, source, fixed=answer) is expected


@pytest.mark.parametrize(("source", "point", "expected"), [
    ("${overall} = 'very_satisfied'", "very_satisfied", True),
    ("${overall} != 'very_satisfied'", "fairly_satisfied", True),
    ("${overall} = 'dont_know'", "dont_know", True),
    ("${overall} != 'dont_know'", "dont_know", False),
    ("${overall} >= 4", "very_satisfied", True),
    ("${overall} >= 4", "fairly_satisfied", True),
    ("${overall} >= 4", "neither", False),
    ("${overall} > 4", "fairly_satisfied", False),
    ("${overall} <= 2", "fairly_dissatisfied", True),
    ("${overall} < 2", "fairly_dissatisfied", False),
    ("${overall} < 2", "very_dissatisfied", True),
    ("${overall} = 3", "neither", True),
    ("${overall} != 3", "neither", False),
    ("${overall} != 3", "very_satisfied", True),
])
def test_a_scale_compares_by_option_or_by_its_points_from_n_down_to_1(survey: Consultation, source: str,
                                                                        point: str, expected: bool) -> None:
    assert holds_for(survey, source, overall=Answer(choice=point)) is expected


@pytest.mark.parametrize("source", ["${overall} < 3", "${overall} > 3", "${overall} <= 5", "${overall} >= 1",
                                    "${overall} = 3", "${overall} != 3"])
def test_dont_know_is_not_a_point_so_every_comparison_by_points_is_false(survey: Consultation, source: str) -> None:
    assert holds_for(survey, source, overall=Answer(choice="dont_know")) is False


@pytest.mark.parametrize(("source", "number", "expected"), [
    ("${people} > 1", 2, True), ("${people} > 1", 1, False),
    ("${people} >= 3", 3, True), ("${people} >= 3", 2, False),
    ("${people} < 4", 3, True), ("${people} < 4", 4, False),
    ("${people} <= 2", 2, True), ("${people} <= 2", 3, False),
    ("${people} = 3", 3, True), ("${people} = 3", 4, False),
    ("${people} != 3", 4, True), ("${people} != 3", 3, False),
    ("${people} < 1", 0, True), ("${people} = 0", 0, True),
])
def test_a_number_compares_as_a_number_and_zero_is_an_answer(survey: Consultation, source: str, number: int,
                                                              expected: bool) -> None:
    assert holds_for(survey, source, people=Answer(number=number)) is expected


def test_selected_is_true_for_each_ticked_option_of_a_multi(survey: Consultation) -> None:
    ticked = Answer(choices=("repairs", "cleaning"))
    assert holds_for(survey, "selected(${used}, 'repairs')", used=ticked)
    assert holds_for(survey, "selected(${used}, 'cleaning')", used=ticked)
    assert not holds_for(survey, "selected(${used}, 'none')", used=ticked)
    assert holds_for(survey, "selected(${used}, 'none')", used=Answer(choices=("none",)))


@pytest.mark.parametrize(("qid", "answer"), [
    ("fixed", Answer(choice="no")), ("overall", Answer(choice="dont_know")), ("people", Answer(number=0)),
    ("used", Answer(choices=("none",))), ("why", Answer(text="Too slow")),
])
def test_answered_is_true_for_any_answer_of_any_kind(survey: Consultation, qid: str, answer: Answer) -> None:
    assert holds_for(survey, f"answered(${{{qid}}})", **{qid: answer})


EVERY_TEST = [
    ("fixed", "${fixed} = 'yes'"), ("fixed", "${fixed} != 'yes'"), ("fixed", "${fixed} != 'no'"),
    ("overall", "${overall} = 'dont_know'"), ("overall", "${overall} != 'very_satisfied'"),
    ("overall", "${overall} < 3"), ("overall", "${overall} >= 1"), ("overall", "${overall} != 3"),
    ("people", "${people} = 0"), ("people", "${people} != 0"), ("people", "${people} < 20"),
    ("people", "${people} >= 0"), ("used", "selected(${used}, 'none')"), ("why", "answered(${why})"),
    ("fixed", "answered(${fixed})"), ("used", "answered(${used})"),
]


@pytest.mark.parametrize(("qid", "source"), EVERY_TEST)
@pytest.mark.parametrize("how", ["skipped", "not shown", "not reached"])
def test_any_comparison_with_a_skipped_or_not_shown_question_is_false_not_equal_included(
        survey: Consultation, qid: str, source: str, how: str) -> None:
    answers = {"skipped": {qid: SKIPPED}, "not shown": {qid: NOT_SHOWN}, "not reached": {}}[how]
    assert holds_for(survey, source, **answers) is False


@pytest.mark.parametrize("answer", [SKIPPED, NOT_SHOWN])
def test_not_turns_a_skipped_questions_false_comparison_true(survey: Consultation, answer: Answer) -> None:
    assert holds_for(survey, "not answered(${fixed})", fixed=answer)
    assert holds_for(survey, "not ${fixed} = 'yes'", fixed=answer)
    assert holds_for(survey, "not ${fixed} != 'yes'", fixed=answer), "not (!=) is not the same as ="
    assert not holds_for(survey, "${fixed} = 'yes'", fixed=answer)


def test_and_or_and_parentheses_combine_as_they_read(survey: Consultation) -> None:
    yes, two, skipped = Answer(choice="yes"), Answer(number=2), SKIPPED
    assert holds_for(survey, "${fixed} = 'yes' and ${people} > 1", fixed=yes, people=two)
    assert not holds_for(survey, "${fixed} = 'yes' and ${people} > 1", fixed=yes, people=skipped)
    assert holds_for(survey, "${fixed} = 'no' or ${people} > 1", fixed=yes, people=two)
    assert holds_for(survey, "${fixed} = 'no' and ${people} > 5 or answered(${fixed})", fixed=yes, people=two), \
        "and binds tighter than or"
    assert not holds_for(survey, "${fixed} = 'no' and (${people} > 5 or answered(${fixed}))", fixed=yes, people=two)
    assert holds_for(survey, "not (${fixed} = 'no' or ${people} > 5)", fixed=yes, people=two)
