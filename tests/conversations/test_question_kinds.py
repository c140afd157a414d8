"""Every kind of question as a tenant meets it, through the pure engine (the every-kind example file)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from conversations.events import Review
from conversations.file.loader import load_consultation
from conversations.model import Consultation
from conversations.screens.markup import plain
from conversations.screens.questions import number_words
from conversations.state import NOT_SHOWN, Answer, Stage
from tests.conversations.helpers import Tenant

EXAMPLE = Path(__file__).resolve().parents[2] / "conversations" / "consultations" / "examples" / "every-kind.toml"
NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def survey() -> Consultation:
    return load_consultation(EXAMPLE)


def at_overall(survey: Consultation) -> Tenant:
    """Agreed, past the opening info page, at the required overall-satisfaction scale."""
    tenant = Tenant(survey, NOW)
    tenant.agree()
    tenant.taps("next:start_page")
    return tenant


def at_services(survey: Consultation, repaired: bool = False) -> Tenant:
    """At the tick-all-that-apply question."""
    tenant = at_overall(survey)
    tenant.taps("opt:overall:fairly_satisfied")
    tenant.taps("skip:overall")  # the optional reason
    tenant.taps("opt:repair_done:yes" if repaired else "opt:repair_done:no")
    if repaired:
        tenant.taps("opt:repair_satisfaction:fairly_satisfied")
    return tenant


def inline(tmp_path: Path, questions: str) -> Consultation:
    """A small consultation of our own, written to the file contract."""
    path = tmp_path / "small.toml"
    path.write_text(f'''
id = "small"
title = "Small survey"
organisation = "Example Homes"
timezone = "Europe/London"
opens_at = 2026-12-01T09:00:00
closes_at = 2027-01-31T17:00:00
welcome = "Hello"
introduction = ["About this survey"]
thank_you = "Thanks"
[privacy]
notice = "Privacy notice"
{questions}
''', encoding="utf-8")
    return load_consultation(path)


def test_an_info_page_is_read_then_next_and_nothing_is_stored(survey: Consultation) -> None:
    tenant = Tenant(survey, NOW)
    tenant.agree()
    assert "There are no right or wrong answers" in tenant.text and "Question" not in tenant.text
    assert tenant.buttons == ("next:start_page",), "the first page has nothing before it to go back to"
    tenant.says("what is this?")
    assert "Tap Next when you're ready" in tenant.text
    tenant.says("next")
    assert "Question 1 of about" in tenant.text, "info pages are not numbered as questions"
    assert "start_page" not in tenant.state.answers


def test_a_required_question_offers_no_skip_and_a_typed_skip_is_answered_kindly(survey: Consultation) -> None:
    tenant = at_overall(survey)
    assert "skip:overall" not in tenant.buttons
    tenant.says("skip")
    assert "needs an answer" in tenant.text and "Taking everything into account" in tenant.text
    assert "overall" not in tenant.state.answers


def test_a_scale_takes_a_point_or_dont_know_and_words_work_too(survey: Consultation) -> None:
    tenant = at_overall(survey)
    assert tenant.buttons[:6] == tuple(f"opt:overall:{p}" for p in (
        "very_satisfied", "fairly_satisfied", "neither", "fairly_dissatisfied", "very_dissatisfied", "dont_know"))
    tenant.says("fairly satisfied")
    assert tenant.state.answers["overall"].choice == "fairly_satisfied"
    assert survey.questions[1].score("fairly_satisfied") == 4 and survey.questions[1].score("dont_know") is None
    assert "Why do you say that?" in tenant.text, "the optional reason follows the point"


def test_ticking_redraws_the_pressed_message_and_done_records_the_ticks(survey: Consultation) -> None:
    tenant = at_services(survey)
    tenant.taps("opt:services_used:repairs")
    assert tenant.last is not None and tenant.last.edit_pressed, "a tick redraws the message it was pressed on"
    assert "✔ Repairs" in [b.label for r in tenant.last.replies for row in r.buttons for b in row]
    assert "services_used" not in tenant.state.answers, "nothing counts until Done"
    tenant.taps("opt:services_used:cleaning")
    tenant.taps("opt:services_used:repairs")  # untick
    tenant.taps("done:services_used")
    assert tenant.state.answers["services_used"].choices == ("cleaning",)
    assert tenant.last is not None and not tenant.last.edit_pressed
    assert "You chose: ✔ Cleaning of shared areas" in tenant.text


def test_an_option_that_stands_alone_clears_the_others_and_is_cleared_by_them(survey: Consultation) -> None:
    tenant = at_services(survey)
    tenant.taps("opt:services_used:repairs")
    tenant.taps("opt:services_used:none")
    assert tenant.state.draft == ("none",)
    tenant.taps("opt:services_used:grounds")
    assert tenant.state.draft == ("grounds",)


def test_typed_numbers_or_words_answer_a_multi_and_mistakes_change_nothing(survey: Consultation) -> None:
    tenant = at_services(survey)
    tenant.says("1, 5")
    assert "can't be chosen together" in tenant.text and "services_used" not in tenant.state.answers
    tenant.says("repairs and flowers")
    assert "couldn't match flowers" in tenant.text and "services_used" not in tenant.state.answers
    tenant.taps("done:services_used")
    assert "choose at least 1" in tenant.text
    tenant.says("gardens, 2")
    assert tenant.state.answers["services_used"].choices == ("cleaning", "grounds")


def test_a_multi_refuses_more_ticks_than_allowed(tmp_path: Path) -> None:
    small = inline(tmp_path, '''
[[questions]]
id = "priorities"
kind = "multi"
max_choices = 2
text = "Pick your top two"
[[questions.options]]
id = "a"
label = "Repairs"
[[questions.options]]
id = "b"
label = "Cleaning"
[[questions.options]]
id = "c"
label = "Parking"
''')
    tenant = Tenant(small, NOW)
    tenant.agree()
    assert "up to 2" in tenant.text
    tenant.taps("opt:priorities:a")
    tenant.taps("opt:priorities:b")
    tenant.taps("opt:priorities:c")
    assert "up to 2" in tenant.text and tenant.state.draft == ("a", "b")
    tenant.says("1, 2, 3")
    assert "3 of them" in tenant.text and "priorities" not in tenant.state.answers


def test_a_number_must_be_whole_and_in_range_and_is_shown_with_its_unit(survey: Consultation) -> None:
    tenant = at_services(survey)
    tenant.says("cleaning")
    tenant.taps("skip:services_used")  # no reason
    assert "how many times did the cleaners come" in tenant.text
    for wrong, says in (("three", "whole number"), ("3.5", "whole number"), ("40", "not in the range")):
        tenant.says(wrong)
        assert says in tenant.text and "cleaning_visits" not in tenant.state.answers
    tenant.says("4 visits")
    assert tenant.state.answers["cleaning_visits"] == Answer(number=4)
    assert "4 visits" in tenant.text


def test_words_that_match_two_options_ask_which_one(tmp_path: Path) -> None:
    small = inline(tmp_path, '''
[[questions]]
id = "tenure"
kind = "choice"
text = "How do you rent your home?"
[[questions.options]]
id = "social"
label = "Social rent"
words = ["rent"]
[[questions.options]]
id = "affordable"
label = "Affordable rent"
words = ["rent"]
''')
    tenant = Tenant(small, NOW)
    tenant.agree()
    tenant.says("rent")
    assert "could be Social rent or Affordable rent" in tenant.text and "tenure" not in tenant.state.answers


def test_a_routed_out_question_is_not_shown_and_back_steps_over_it(survey: Consultation) -> None:
    tenant = at_services(survey, repaired=False)
    assert "Which of these have you used" in tenant.text
    assert tenant.state.answers["repair_satisfaction"] == NOT_SHOWN, "passed over, and recorded as not shown"
    tenant.taps("back:services_used")
    assert "carried out a repair" in tenant.text, "Back goes to the question that was shown before"


def test_a_change_in_the_review_hides_later_answers_then_asks_them_when_they_return(survey: Consultation) -> None:
    tenant = at_services(survey, repaired=True)
    tenant.says("repairs")
    tenant.taps("skip:services_used")
    tenant.taps("skip:listens")
    tenant.taps("next:glad_page")  # shown: satisfied overall, with nothing to do better
    tenant.says("2")  # household, required
    tenant.taps("skip:feel_safe")
    tenant.taps("skip:age_group")
    tenant.taps("skip:anything_else")
    assert tenant.state.stage is Stage.REVIEW
    assert "How satisfied or dissatisfied are you with the repairs" in tenant.text
    tenant.taps("change:repair_done")
    tenant.taps("opt:repair_done:no")
    assert tenant.state.stage is Stage.REVIEW, "nothing new to ask: straight back to the review"
    assert "repairs service" not in tenant.text, "the hidden question dropped out of the review"
    assert tenant.state.answers["repair_satisfaction"] == NOT_SHOWN
    tenant.taps("change:repair_done")
    tenant.taps("opt:repair_done:yes")
    assert "How satisfied or dissatisfied are you with the repairs" in tenant.text, "asked again before the review"
    tenant.taps("opt:repair_satisfaction:very_dissatisfied")
    assert "What should we do better?" in tenant.text, "and what it reveals in turn"
    tenant.says("Come when you say you will")
    tenant.taps("next:repair_better")
    assert "Do you feel your home is safe" in tenant.text, "routed out by 'no', back in with 'yes': asked again"
    tenant.taps("opt:feel_safe:yes")
    assert tenant.state.stage is Stage.REVIEW and "Come when you say you will" in tenant.text


def test_progress_never_goes_backwards_and_says_about_until_the_total_is_known(survey: Consultation) -> None:
    tenant = at_overall(survey)
    seen = []
    for event in ("opt:overall:very_satisfied", "skip:overall", "opt:repair_done:no"):
        tenant.taps(event)
        seen.append(tenant.text)
    headers = [line for text in seen for line in text.splitlines() if line.startswith("Question")]
    numbers = [int(h.split()[1]) for h in headers]
    assert numbers == sorted(numbers) and "about" in headers[0]


def test_the_bundled_consultation_still_counts_exactly(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    assert "Question 1 of 5" in tenant.text


def test_the_review_shows_every_kind_readably(survey: Consultation) -> None:
    tenant = at_services(survey)
    tenant.says("1, 2")
    tenant.taps("skip:services_used")
    tenant.says("4")
    review = plain("\n".join(r.text for r in tenant.send(Review())))
    assert "✔ Repairs, ✔ Cleaning of shared areas" in review
    assert "Fairly satisfied" in review and "4 visits" in review
    assert "repairs service" not in review, "a question not shown is not in the review"


def test_sending_waits_for_a_required_question_that_routing_brought_in(tmp_path: Path) -> None:
    small = inline(tmp_path, '''
[[questions]]
id = "pets"
kind = "choice"
text = "Do you have pets?"
[[questions.options]]
id = "yes"
label = "Yes"
[[questions.options]]
id = "no"
label = "No"
[[questions]]
id = "how_many"
kind = "number"
required = true
min = 1
max = 10
show_if = "${pets} = 'yes'"
text = "How many?"
''')
    tenant = Tenant(small, NOW)
    tenant.agree()
    tenant.taps("opt:pets:no")
    assert tenant.state.stage is Stage.REVIEW
    tenant.taps("change:pets")
    tenant.taps("opt:pets:yes")
    assert "How many?" in tenant.text
    tenant.send(Review())
    tenant.taps("submit")
    assert tenant.state.stage is not Stage.SUBMITTED and "needs an answer" in tenant.text and "How many?" in tenant.text
    tenant.says("2")
    tenant.taps("submit")
    assert tenant.state.stage is Stage.SUBMITTED


def test_organisation_and_title_are_filled_in_everywhere(survey: Consultation) -> None:
    texts = [q.text for q in survey.questions] + [m.title for m in survey.measures]
    assert not any("{organisation}" in t or "{title}" in t for t in texts)
    listens = survey.question("listens")
    assert listens is not None and "Connexus listens to my views" in listens.text


def test_a_number_of_one_takes_the_singular_unit(survey: Consultation) -> None:
    household = survey.question("household")
    assert household is not None
    assert number_words(survey, household, 1) == "1 person" and number_words(survey, household, 3) == "3 people"
