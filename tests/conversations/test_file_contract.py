"""Issue 13's file contract: every kind of question loads with its keys, and every mistake a person can make in the
file is refused with one readable line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.file.check import summary
from conversations.file.loader import load_consultation
from conversations.model import DONT_KNOW, QuestionKind
from tests.conversations.contract_files import HEADER, YES_NO, load, problems, the_problem

EXAMPLE = Path(__file__).resolve().parents[2] / "conversations" / "consultations" / "examples" / "every-kind.toml"


def choice(qid: str = "fixed", extra: str = "", options: str = YES_NO) -> str:
    """A yes/no choice question with some extra keys."""
    return f'[[questions]]\nid = "{qid}"\nkind = "choice"\ntext = "Was it fixed?"\n{extra}\n{options}'


SERVICES = '''
[[questions]]
id = "used"
kind = "multi"
text = "Which have you used?"
{extra}

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
'''


def multi(extra: str = "") -> str:
    return SERVICES.replace("{extra}", extra)


def number(extra: str = 'min = 1\nmax = 20') -> str:
    return f'[[questions]]\nid = "people"\nkind = "number"\ntext = "How many people live with you?"\n{extra}\n'


def scale(extra: str = 'scale = "satisfaction_5"') -> str:
    return f'[[questions]]\nid = "overall"\nkind = "scale"\ntext = "How satisfied are you?"\n{extra}\n'


def text(qid: str = "why", extra: str = "") -> str:
    return f'[[questions]]\nid = "{qid}"\nkind = "text"\ntext = "Anything else?"\n{extra}\n'


def info(extra: str = "") -> str:
    return f'[[questions]]\nid = "page"\nkind = "info"\ntext = "A few questions about you now."\n{extra}\n'


# ---------------------------------------------------------------- every kind loads with its keys


def test_a_text_question_loads_with_its_length_and_no_topic_or_objectives(tmp_path: Path) -> None:
    question = load(tmp_path, text(extra="max_length = 500\ncontext = \"Think of last year.\"")).questions[0]
    assert (question.kind, question.max_length, question.context) == (QuestionKind.TEXT, 500, "Think of last year.")
    assert (question.topic, question.objectives, question.required, question.show_if) == ("", (), False, None)


def test_a_choice_loads_its_options_words_and_reason(tmp_path: Path) -> None:
    options = YES_NO.replace('label = "Yes"', 'label = "Yes"\nwords = ["Yes!", "  Yeah ", "Y"]')
    question = load(tmp_path, choice(extra='reason_prompt = "Why?"\nrequired = true', options=options)).questions[0]
    assert [o.id for o in question.options] == ["yes", "no"]
    assert question.options[0].words == ("yes", "yeah", "y"), "kept as the matcher compares typed words"
    assert question.asks_reason and question.required


def test_a_multi_loads_with_its_limits_and_an_option_that_stands_alone(tmp_path: Path) -> None:
    question = load(tmp_path, multi('max_choices = 2\nreason_prompt = "Tell us more?"')).questions[0]
    assert question.kind is QuestionKind.MULTI and question.asks_reason
    assert (question.min_choices, question.max_choices) == (1, 2)
    assert [o.exclusive for o in question.options] == [False, False, True]


def test_a_multi_may_tick_all_of_its_options_by_default(tmp_path: Path) -> None:
    question = load(tmp_path, multi()).questions[0]
    assert (question.min_choices, question.max_choices, question.most_choices) == (1, None, 3)


def test_a_preset_scale_scores_its_points_from_n_down_to_1_and_dont_know_is_not_a_point(tmp_path: Path) -> None:
    question = load(tmp_path, scale('scale = "satisfaction_5"\ndont_know = "Don\'t know"')).questions[0]
    assert [o.id for o in question.points] == [
        "very_satisfied", "fairly_satisfied", "neither", "fairly_dissatisfied", "very_dissatisfied"]
    assert [o.label for o in question.points][0::4] == ["Very satisfied", "Very dissatisfied"]
    assert [question.score(o.id) for o in question.points] == [5, 4, 3, 2, 1]
    dont_know = question.option(DONT_KNOW)
    assert dont_know is not None and dont_know.label == "Don't know" and question.score(DONT_KNOW) is None
    assert question.options[-1] is dont_know


def test_the_agreement_preset_runs_from_strongly_agree_to_strongly_disagree(tmp_path: Path) -> None:
    question = load(tmp_path, scale('scale = "agreement_5"')).questions[0]
    assert [o.id for o in question.points] == ["strongly_agree", "agree", "neither", "disagree", "strongly_disagree"]
    assert question.option(DONT_KNOW) is None


def test_a_scale_may_list_its_own_points_most_positive_first(tmp_path: Path) -> None:
    points = '\n'.join(f'[[questions.options]]\nid = "{p}"\nlabel = "{p.title()}"' for p in ("good", "fair", "poor"))
    question = load(tmp_path, scale(points)).questions[0]
    assert [(o.id, question.score(o.id)) for o in question.points] == [("good", 3), ("fair", 2), ("poor", 1)]


def test_a_number_question_loads_its_range_and_unit(tmp_path: Path) -> None:
    question = load(tmp_path, number('min = 1\nmax = 20\nunit = "people"\nrequired = true')).questions[0]
    assert (question.minimum, question.maximum, question.unit, question.required) == (1, 20, "people", True)


def test_an_info_page_loads_with_its_text_and_show_if_and_takes_no_answer(tmp_path: Path) -> None:
    body = choice() + info('show_if = "${fixed} = \'yes\'"')
    page = load(tmp_path, body).questions[1]
    assert page.kind is QuestionKind.INFO and not page.answerable and page.show_if is not None


def test_organisation_and_title_are_filled_in_every_text_a_tenant_reads(tmp_path: Path) -> None:
    header_extra = '''
[[objectives]]
id = "fix_first_time"
title = "{organisation} fixes it first time"
explanation = "{organisation} wants to fix repairs on the first visit."

[[topics]]
id = "repairs"
title = "Repairs at {organisation}"

[[reminders]]
id = "soon"
before_close = "1d"
audience = "started_not_finished"
text = "One day left to finish the {title}."
'''
    body = (scale('scale = "satisfaction_5"\ndont_know = "Not used {organisation}"\ntopic = "repairs"\n'
                  'objectives = ["fix_first_time"]\ncontext = "About {organisation}."\n'
                  'reason_prompt = "Why, for the {title}?"')
            + number('min = 1\nmax = 9\nunit = "{organisation} visits"')
            + choice(options=YES_NO.replace('"Yes"', '"Yes, {organisation}"'))
            + '[[measures]]\nid = "m"\ntitle = "{organisation} satisfaction"\nquestion = "overall"\n'
              'counts = ["very_satisfied"]\n')
    survey = load(tmp_path, body, HEADER.replace('introduction = ["About this survey."]',
                                                 'introduction = ["About the {title}."]') + header_extra)
    overall, people, fixed = survey.questions
    texts = [overall.context, overall.reason_prompt, overall.options[-1].label, people.unit, fixed.options[0].label,
             survey.measures[0].title, survey.objectives[0].title, survey.objectives[0].explanation,
             survey.topics[0].title, survey.reminders[0].text, survey.introduction[0]]
    assert not [t for t in texts if "{" in t]
    assert overall.options[-1].label == "Not used Riverside Homes"
    assert survey.introduction[0] == "About the Repairs survey."


def test_a_brace_itself_is_written_doubled(tmp_path: Path) -> None:
    question = load(tmp_path, text(extra="").replace('"Anything else?"', '"Use {{curly}} braces?"')).questions[0]
    assert question.text == "Use {curly} braces?"


# ---------------------------------------------------------------- the two files we ship


def test_the_every_kind_example_loads_every_kind() -> None:
    survey = load_consultation(EXAMPLE)
    assert {q.kind for q in survey.questions} == set(QuestionKind)
    assert [m.id for m in survey.measures] == ["tp01", "tp02", "tp06"]


def test_the_bundled_consultation_still_loads_unchanged() -> None:
    bundled = load_consultation()
    assert [q.kind for q in bundled.questions] == [QuestionKind.TEXT, QuestionKind.CHOICE, QuestionKind.TEXT,
                                                     QuestionKind.CHOICE, QuestionKind.TEXT]
    assert not bundled.routed and len(bundled.reminders) == 3


# ---------------------------------------------------------------- every refusal is one line naming its key


def test_a_misspelt_key_is_refused_with_the_key_it_was_meant_to_be(tmp_path: Path) -> None:
    assert the_problem(tmp_path, choice(extra="requried = true")) == \
        "questions[1].requried: is not a key of a question (did you mean required?)"


def test_an_unknown_key_with_no_near_miss_lists_the_keys_the_kind_has(tmp_path: Path) -> None:
    line = the_problem(tmp_path, number('min = 1\nmax = 9\ncolour = "red"'))
    assert line.startswith("questions[1].colour: is not a key of a question (a number question can have ")
    assert "unit" in line and "options" not in line


@pytest.mark.parametrize(("body", "line"), [
    (choice(extra="max_choices = 2"), "questions[1].max_choices: is not used by a choice question (only by multi)"),
    (choice(extra='dont_know = "Don\'t know"'), "questions[1].dont_know: is not used by a choice question (only by "
                                                "scale)"),
    (text(extra='reason_prompt = "Why?"'), "questions[1].reason_prompt: is not used by a text question (only by "
                                           "choice and multi and scale)"),
    (text(extra='unit = "people"'), "questions[1].unit: is not used by a text question (only by number)"),
    (number('min = 1\nmax = 9\nmax_length = 10'), "questions[1].max_length: is not used by a number question (only "
                                                  "by text and choice and multi and scale)"),
    (scale('scale = "agreement_5"\nmin_choices = 1'), "questions[1].min_choices: is not used by a scale question "
                                                      "(only by multi)"),
])
def test_a_key_of_another_kind_is_refused_saying_which_kinds_use_it(tmp_path: Path, body: str, line: str) -> None:
    assert the_problem(tmp_path, body) == line


@pytest.mark.parametrize("key", ['required = true', 'context = "More"', 'topic = "home"', 'objectives = ["a"]',
                                 'reason_prompt = "Why?"', 'max_length = 10'])
def test_an_info_page_with_any_key_but_text_and_show_if_is_refused(tmp_path: Path, key: str) -> None:
    name = key.split(" ")[0]
    assert the_problem(tmp_path, choice() + info(key)) == (
        f"questions[2].{name}: is not used by an info page: it has only text (and show_if); nothing is asked or "
        "stored")


def test_a_missing_or_unknown_kind_is_named_with_the_six_kinds(tmp_path: Path) -> None:
    kinds = "text, choice, multi, scale, number, info"
    missing = the_problem(tmp_path, text().replace('kind = "text"\n', ""))
    assert missing == f"questions[1].kind: is missing: one of {kinds}"
    unknown = the_problem(tmp_path, text().replace('"text"', '"essay"'))
    assert unknown == f"questions[1].kind: 'essay' should be one of {kinds}"


def test_exclusive_is_refused_outside_a_multi(tmp_path: Path) -> None:
    line = the_problem(tmp_path, choice(options=YES_NO.replace('label = "No"', 'label = "No"\nexclusive = true')))
    assert line.startswith("questions[1].options[2].exclusive: only an option of a multi question can stand alone")


def test_a_multi_whose_every_option_stands_alone_is_refused_as_a_choice(tmp_path: Path) -> None:
    body = multi().replace('label = "Repairs"', 'label = "Repairs"\nexclusive = true').replace(
        'label = "Cleaning"', 'label = "Cleaning"\nexclusive = true')
    assert the_problem(tmp_path, body).startswith("questions[1].options: every option has exclusive = true")


@pytest.mark.parametrize(("limits", "line"), [
    ("min_choices = 0", "questions[1].min_choices: is 0; it should be from 1 to 2, the options that can be ticked "
                        "together"),
    ("min_choices = 3", "questions[1].min_choices: is 3; it should be from 1 to 2, the options that can be ticked "
                        "together"),
    ("max_choices = 4", "questions[1].max_choices: is 4; it should be from 1 to 3, the options"),
    ("max_choices = 0", "questions[1].max_choices: is 0; it should be from 1 to 3, the options"),
    ("min_choices = 2\nmax_choices = 1", "questions[1].min_choices: is 2, more than max_choices (1)"),
    ("max_choices = 1.5", "questions[1].max_choices: should be a whole number, not 1.5"),
])
def test_a_multis_limits_must_lie_within_its_options(tmp_path: Path, limits: str, line: str) -> None:
    assert the_problem(tmp_path, multi(limits)) == line


def test_dont_know_cannot_be_listed_as_a_point_of_a_scale(tmp_path: Path) -> None:
    points = '[[questions.options]]\nid = "good"\nlabel = "Good"\n[[questions.options]]\nid = "dont_know"\nlabel = "?"'
    assert the_problem(tmp_path, scale(points)).startswith("questions[1].options[2].id: 'dont_know' is made by "
                                                           "dont_know = \"...\"")


@pytest.mark.parametrize(("extra", "line"), [
    ('scale = "happiness_7"', "questions[1].scale: 'happiness_7' is not a scale (you can use agreement_5, "
                              "satisfaction_5, or list the points as options)"),
    ("", "questions[1].scale: is missing: a scale question needs scale = \"<preset>\" (such as agreement_5, "
         "satisfaction_5) or its points as options"),
    ('scale = "agreement_5"\n[[questions.options]]\nid = "a"\nlabel = "A"\n[[questions.options]]\nid = "b"\n'
     'label = "B"', "questions[1].scale: give either scale = \"<preset>\" or the points as options, not both"),
    ('[[questions.options]]\nid = "a"\nlabel = "A"', "questions[1].options: a scale needs at least two points, "
                                                     "most positive first"),
    ('scale = "agreement_5"\ndont_know = ""', "questions[1].dont_know: is missing or empty"),
])
def test_a_scale_needs_a_known_preset_or_its_own_points(tmp_path: Path, extra: str, line: str) -> None:
    assert the_problem(tmp_path, scale(extra)) == line


@pytest.mark.parametrize(("extra", "line"), [
    ("max = 9", "questions[1].min: is missing: a number question needs min and max"),
    ("min = 1", "questions[1].max: is missing: a number question needs min and max"),
    ("min = 10\nmax = 9", "questions[1].min: is 10, more than max (9)"),
    ('min = 1\nmax = "nine"', "questions[1].max: should be a whole number, not 'nine'"),
])
def test_a_number_question_needs_a_whole_min_and_max_in_order(tmp_path: Path, extra: str, line: str) -> None:
    assert the_problem(tmp_path, number(extra)) == line


@pytest.mark.parametrize("kind_body", [
    choice(options=YES_NO.split("[[questions.options]]\nid = \"no\"")[0]),
    multi().split('[[questions.options]]\nid = "cleaning"')[0],
])
def test_a_choice_or_multi_needs_at_least_two_options(tmp_path: Path, kind_body: str) -> None:
    assert "options: a " in the_problem(tmp_path, kind_body) and "needs at least two options" in the_problem(
        tmp_path, kind_body)


def test_ids_too_long_for_telegrams_button_data_are_refused(tmp_path: Path) -> None:
    qid, oid = "q" * 30, "o" * 30  # opt:<30>:<30> is 65 bytes
    options = YES_NO.replace('id = "yes"', f'id = "{oid}"')
    assert the_problem(tmp_path, choice(qid, options=options)) == (
        f"questions[1].options[1].id: '{oid}' is too long: with the question id '{qid}' it would not fit Telegram's "
        "64-byte button data (shorten either)")
    assert the_problem(tmp_path, text("q" * 41)) == (
        f"questions[1].id: '{'q' * 41}' should use only a-z, 0-9, - and _ (at most 40 characters)")


def test_an_option_id_with_spaces_or_capitals_is_refused(tmp_path: Path) -> None:
    line = the_problem(tmp_path, choice(options=YES_NO.replace('id = "yes"', 'id = "Yes please"')))
    assert line == "questions[1].options[1].id: 'Yes please' should use only a-z, 0-9, - and _ (at most 40 characters)"


@pytest.mark.parametrize("where", ["text", "context", "reason_prompt"])
def test_a_placeholder_other_than_organisation_and_title_is_refused(tmp_path: Path, where: str) -> None:
    body = choice(extra=f'{where} = "Ask {{landlord}}"') if where != "text" else choice().replace(
        '"Was it fixed?"', '"Was {landlord} quick?"')
    assert the_problem(tmp_path, body) == (
        f"questions[1].{where}: unknown placeholder {{landlord}} (you can use {{organisation}}, {{title}})")


def test_a_placeholder_in_an_option_label_is_refused_too(tmp_path: Path) -> None:
    line = the_problem(tmp_path, choice(options=YES_NO.replace('"Yes"', '"Yes, {landlrd}"')))
    assert line.startswith("questions[1].options[1].label: unknown placeholder {landlrd}")


def test_a_button_label_with_markup_or_an_ampersand_is_refused(tmp_path: Path) -> None:
    for label in ("Rent &amp; money", "<b>Yes</b>", "Rent & money"):
        line = the_problem(tmp_path, choice(options=YES_NO.replace('"Yes"', f'"{label}"')))
        assert line.startswith(f"questions[1].options[1].label: '{label}' is a button label: it cannot hold <, > or &")


@pytest.mark.parametrize(("word", "why"), [("skip", "the word for Skip"), ("Go back", "the word for Back"),
                                           ("", "has an empty word")])
def test_an_option_word_that_could_never_choose_it_is_refused(tmp_path: Path, word: str, why: str) -> None:
    options = YES_NO.replace('label = "No"', f'label = "No"\nwords = ["{word}"]')
    line = the_problem(tmp_path, choice(options=options))
    assert line.startswith("questions[1].options[2].words: ") and why in line


def test_a_number_as_a_word_of_a_multi_option_is_refused(tmp_path: Path) -> None:
    body = multi().replace('label = "Cleaning"', 'label = "Cleaning"\nwords = ["1"]')
    assert the_problem(tmp_path, body) == ("questions[1].options[2].words: '1' is a number, and typing a number ticks "
                                           "the option in that place")


def test_an_unknown_key_in_an_option_is_refused(tmp_path: Path) -> None:
    options = YES_NO.replace('label = "No"', 'label = "No"\nexclusve = true')
    assert the_problem(tmp_path, choice(options=options)) == \
        "questions[1].options[2].exclusve: is not a key of an option (did you mean exclusive?)"


def test_max_length_outside_1_to_3500_is_refused(tmp_path: Path) -> None:
    for value in ("0", "4000"):
        assert the_problem(tmp_path, text(extra=f"max_length = {value}")) == \
            "questions[1].max_length: should be a whole number from 1 to 3500"


def test_an_unknown_topic_or_objective_is_named_with_the_ones_there_are(tmp_path: Path) -> None:
    assert the_problem(tmp_path, text(extra='topic = "home"')) == \
        "questions[1].topic: 'home' is not one of the topics (none: add [[topics]])"
    assert the_problem(tmp_path, text(extra='objectives = "value"')).startswith(
        "questions[1].objectives: should be a list of objective ids")


def test_an_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    assert the_problem(tmp_path, text(), "retention_days = 30\n" + HEADER) == \
        "retention_days: is not a key of a consultation file (did you mean retention_days_after_close?)"


# ---------------------------------------------------------------- show_if


def routed(show_if: str, before: str = "") -> str:
    """A yes/no choice, a multi, a scale, a number and a text question, an info page, then one routed question."""
    return (before + choice() + multi() + scale('scale = "satisfaction_5"\ndont_know = "Don\'t know"') + number()
            + text() + info() + text("routed", f'show_if = "{show_if}"'))


def test_every_form_of_show_if_loads_against_earlier_questions(tmp_path: Path) -> None:
    expression = ("${fixed} = 'yes' and ${fixed} != 'no' and selected(${used}, 'none') and ${overall} >= 4 and "
                  "${overall} = 'dont_know' and ${people} < 3 and answered(${why}) or not (${overall} != 'neither')")
    survey = load(tmp_path, routed(expression))
    assert survey.routed and survey.questions[-1].show_if_source == expression


@pytest.mark.parametrize(("show_if", "line"), [
    ("${later} = 'yes'", "names ${later}, which is not before this question (a question can depend only on earlier "
                         "ones)"),
    ("${ghost} = 'yes'", "names ${ghost}, which is not a question in this file"),
    ("answered(${routed})", "names ${routed}, this question itself (a question can depend only on earlier ones)"),
    ("${fixed} = 'maybe'", "'maybe' is not an option of ${fixed} (its options are yes, no)"),
    ("selected(${used}, 'parking')", "'parking' is not an option of ${used} (its options are repairs, cleaning, "
                                     "none)"),
    ("answered(${page})", "names ${page}, an info page, which has no answer"),
    ("selected(${fixed}, 'yes')", "selected() needs a multi question; ${fixed} is a choice question: write "
                                  "${fixed} = 'yes'"),
    ("${used} = 'repairs'", "${used} is a multi question, so it has no option 'repairs': use selected(${used}, "
                            "'repairs')"),
    ("${people} = 'two'", "${people} is a number question, so it has no option 'two': compare it with a whole "
                          "number, as in ${people} >= 2, or use answered(${people})"),
    ("${why} = 'yes'", "${why} is a text question, so it has no option 'yes': a text answer can only be tested "
                       "with answered(${why})"),
    ("${why} > 3", "${why} is a text question: a text answer can only be tested with answered(${why})"),
    ("${fixed} < 'yes'", "< compares numbers; 'yes' is an option (use = or !=)"),
    ("${fixed} = 1", "${fixed} is a choice question: compare it with an option in quotes, as in ${fixed} = 'yes'"),
    ("${used} > 1", "${used} is a multi question: test its ticks with selected(${used}, 'option')"),
    ("${overall} >= 6", "${overall} scores 1 to 5 (the first point scores 5); 6 is outside"),
    ("${overall} < 0", "${overall} scores 1 to 5 (the first point scores 5); 0 is outside"),
    ("${people} > 21", "${people} takes 1 to 20; 21 is outside, so the test never changes"),
    ("${fixed} = 'yes' and", "expected a question such as ${q2}, selected(...), answered(...) or '(' at column "
                             "21, found the end"),
    ("${fixed} = 'yes'))", "the ')' at column 17 has no '(' before it"),
    ("", "is empty: write a condition such as ${q2} = 'yes'"),
])
def test_a_show_if_that_cannot_hold_is_refused_naming_the_key(tmp_path: Path, show_if: str, line: str) -> None:
    body = routed(show_if) + text("later")
    assert the_problem(tmp_path, body) == f"questions[7].show_if: {line}"


def test_a_show_if_naming_a_later_question_is_refused_naming_the_key(tmp_path: Path) -> None:
    body = text("first", "show_if = \"answered(${second})\"") + text("second")
    assert the_problem(tmp_path, body) == ("questions[1].show_if: names ${second}, which is not before this question "
                                           "(a question can depend only on earlier ones)")


def test_a_show_if_that_is_not_text_is_refused(tmp_path: Path) -> None:
    assert the_problem(tmp_path, text("a") + text("b", "show_if = true")) == \
        "questions[2].show_if: should be text such as \"${q2} = 'yes'\""


def test_a_broken_question_does_not_make_its_routing_report_nonsense(tmp_path: Path) -> None:
    body = scale('scale = "nope"') + text("b", "show_if = \"${overall} >= 4 or ${overall} = 'good'\"")
    assert problems(tmp_path, body) == ["questions[1].scale: 'nope' is not a scale (you can use agreement_5, "
                                        "satisfaction_5, or list the points as options)"]


# ---------------------------------------------------------------- measures


def measure(question: str = "overall", counts: str = '["very_satisfied"]', extra: str = "") -> str:
    return f'[[measures]]\nid = "tp01"\ntitle = "Satisfaction"\nquestion = "{question}"\ncounts = {counts}\n{extra}'


def test_a_measure_loads_with_the_options_it_counts(tmp_path: Path) -> None:
    survey = load(tmp_path, scale() + measure(counts='["very_satisfied", "fairly_satisfied"]'))
    assert survey.measures[0].counts == ("very_satisfied", "fairly_satisfied")


@pytest.mark.parametrize(("kwargs", "line"), [
    ({"question": "ghost"}, "measures[1].question: 'ghost' is not a question in this file"),
    ({"question": ""}, "measures[1].question: is missing: the id of the question this measure counts"),
    ({"question": "why"}, "measures[1].question: 'why' is a text question; a measure counts the options of a choice, "
                          "scale or multi question"),
    ({"counts": '["very_happy"]'}, "measures[1].counts: 'very_happy' is not an option of 'overall' (its options are "
                                   "very_satisfied, fairly_satisfied, neither, fairly_dissatisfied, very_dissatisfied, "
                                   "dont_know)"),
    ({"counts": '["dont_know"]'}, "measures[1].counts: cannot count 'dont_know': \"don't know\" is left out of a "
                                  "measure's base"),
    ({"counts": "[]"}, "measures[1].counts: should be a list of option ids, for example [\"very_satisfied\"]"),
    ({"extra": 'base = "all"'}, "measures[1].base: is not a key of a measure (it can have counts, id, question, "
                                "title)"),
])
def test_a_measure_on_a_question_or_option_that_does_not_exist_is_refused(tmp_path: Path, kwargs: dict[str, str],
                                                                          line: str) -> None:
    body = scale('scale = "satisfaction_5"\ndont_know = "Don\'t know"') + text() + measure(**kwargs)
    assert the_problem(tmp_path, body) == line


def test_many_mistakes_are_each_reported_once_on_their_own_line(tmp_path: Path) -> None:
    body = (choice(extra="requried = true") + number("min = 5\nmax = 1")
            + text("later", "show_if = \"${nothing} = 'x'\"") + measure("fixed", '["maybe"]'))
    assert problems(tmp_path, body) == [
        "questions[1].requried: is not a key of a question (did you mean required?)",
        "questions[2].min: is 5, more than max (1)",
        "questions[3].show_if: names ${nothing}, which is not a question in this file",
        "measures[1].counts: 'maybe' is not an option of 'fixed' (its options are yes, no)",
    ]


# ---------------------------------------------------------------- a consultation written outside the team

COUNCIL = '''
# Written from the README and the every-kind example only, by a council's parks team.
id = "westbury-parks-2027"
version = "1"
title = "Parks and green spaces survey"
organisation = "Westbury District Council"
timezone = "Europe/London"
opens_at = 2027-03-01T09:00:00
closes_at = 2027-03-28T23:59:00
minutes_to_complete = 6
retention_days_after_close = 180
welcome = "Hello from {organisation}. Tell us about our parks by {closes}."
introduction = ["We look after 14 parks. We want to know how you use them."]
thank_you = "Thank you. We will publish what we heard in the summer."

[privacy]
version = "1"
notice = "We keep your answers for 6 months after {closes}. We do not keep your name."

[[topics]]
id = "parks"
title = "Your parks"

[[topics]]
id = "about_you"
title = "About you"

[[questions]]
id = "visited"
kind = "multi"
topic = "parks"
required = true
text = "Which of our parks have you visited in the last year? Tick all that apply."

[[questions.options]]
id = "riverside"
label = "Riverside Park"
words = ["riverside", "river"]

[[questions.options]]
id = "common"
label = "Westbury Common"
words = ["common"]

[[questions.options]]
id = "allotments"
label = "The allotments"

[[questions.options]]
id = "none"
label = "None of these"
words = ["none", "nothing"]
exclusive = true

[[questions]]
id = "visits"
kind = "number"
topic = "parks"
min = 1
max = 60
unit = "visits"
show_if = "answered(${visited}) and not selected(${visited}, 'none')"
text = "About how many times a month do you visit a park?"

[[questions]]
id = "rating"
kind = "scale"
topic = "parks"
show_if = "not selected(${visited}, 'none')"
dont_know = "Not sure"
reason_prompt = "What makes you say that? Type it, or tap Skip."
text = "How good are {organisation}'s parks overall?"

[[questions.options]]
id = "excellent"
label = "Excellent"

[[questions.options]]
id = "good"
label = "Good"

[[questions.options]]
id = "fair"
label = "Fair"

[[questions.options]]
id = "poor"
label = "Poor"

[[questions]]
id = "improve"
kind = "text"
topic = "parks"
max_length = 800
show_if = "${rating} <= 2 or ${rating} = 'dont_know'"
text = "What one thing would make our parks better?"

[[questions]]
id = "monitoring"
kind = "info"
text = "The last questions help us check we hear from everyone. You can skip any of them."

[[questions]]
id = "age"
kind = "choice"
topic = "about_you"
text = "How old are you?"

[[questions.options]]
id = "under_25"
label = "Under 25"

[[questions.options]]
id = "25_to_64"
label = "25 to 64"

[[questions.options]]
id = "65_plus"
label = "65 or over"

[[questions.options]]
id = "prefer_not"
label = "Prefer not to say"
words = ["prefer not to say", "prefer not"]

[[questions]]
id = "disability"
kind = "multi"
topic = "about_you"
max_choices = 3
text = "Do any of these make it harder for you to use a park? Tick all that apply."

[[questions.options]]
id = "mobility"
label = "Walking or mobility"

[[questions.options]]
id = "sight"
label = "Sight"

[[questions.options]]
id = "hearing"
label = "Hearing"

[[questions.options]]
id = "mental_health"
label = "Mental health"

[[questions.options]]
id = "no_difficulty"
label = "None of these"
exclusive = true

[[questions.options]]
id = "prefer_not"
label = "Prefer not to say"
words = ["prefer not to say", "prefer not"]
exclusive = true

[[measures]]
id = "good_parks"
title = "Rate {organisation}'s parks good or excellent"
question = "rating"
counts = ["excellent", "good"]
'''


def test_a_consultation_written_outside_the_team_to_the_contract_loads(tmp_path: Path) -> None:
    survey = load(tmp_path, COUNCIL, header="")
    kinds = [q.kind.value for q in survey.questions]
    assert kinds == ["multi", "number", "scale", "text", "info", "choice", "multi"]
    assert survey.objectives == () and survey.routed
    rating = survey.question("rating")
    assert rating is not None and [rating.score(o.id) for o in rating.points] == [4, 3, 2, 1]
    assert rating.text == "How good are Westbury District Council's parks overall?"
    disability = survey.question("disability")
    assert disability is not None and [o.id for o in disability.options if o.exclusive] == ["no_difficulty",
                                                                                            "prefer_not"]
    assert (disability.min_choices, disability.most_choices) == (1, 3)


def test_a_consultation_written_outside_the_team_checks_in_plain_words(tmp_path: Path) -> None:
    screen = summary(load(tmp_path, COUNCIL, header=""))
    for shown in (
        "0 objectives, 2 topics, 6 questions and 1 info page, 0 reminders, 1 measure:",
        "  1. [multi, 1 to 4 of 4; 'None of these' stands alone; required] Which of our parks",
        "  2. [number 1 to 60 visits] About how many times",
        "     shown only if Q1 (visited) was answered and Q1 (visited) does not have 'None of these' ticked (or was",
        "  3. [scale of 4 points + Not sure; + optional reason] How good are Westbury District Council's parks",
        "     shown only if Q3 (rating) scores 2 or less ('Fair' or 'Poor') or Q3 (rating) is 'Not sure'",
        "  7. [multi, 1 to 3 of 6; 'None of these' stands alone; 'Prefer not to say' stands alone] Do any of these",
        "  Rate Westbury District Council's parks good or excellent: Q3 (rating) 'Excellent' or 'Good'",
        "  info page 5",
    ):
        assert shown in screen, shown
