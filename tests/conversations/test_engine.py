"""The conversation a tenant gets, path by path, through the pure engine with an injected clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from conversations.events import Help, Privacy, Review, Start
from conversations.model import Consultation
from conversations.state import Answer, ConversationState, Stage
from tests.conversations.helpers import IN_WINDOW, Tenant

Q1, Q2, Q3, Q4, Q5 = "q1_general", "q2_local_suppliers", "q3_cost_quality", "q4_environment", "q5_other"
LONDON = ZoneInfo("Europe/London")


def test_welcome_says_what_this_is_how_long_it_takes_and_when_it_closes(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.send(Start())
    assert "Connexus" in tenant.text
    assert "10 minutes" in tenant.text
    assert "Monday 30 November 2020 at 5pm" in tenant.text
    assert "privacy" in tenant.text.lower()
    assert tenant.buttons == ("consent:yes", "consent:no")


def test_nothing_is_asked_before_the_tenant_agrees(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.send(Start())
    tenant.says("The repairs are slow")
    assert tenant.state.stage is Stage.CONSENT
    assert tenant.state.answers == {}
    assert "Question" not in tenant.text
    assert "consent:yes" in tenant.buttons


def test_agreeing_explains_procurement_then_asks_question_one(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    assert "What is procurement?" in tenant.text
    assert "Question 1 of 5" in tenant.text
    assert tenant.state.consent_at == IN_WINDOW
    assert tenant.state.stage is Stage.QUESTION


def test_declining_is_respected_and_can_be_reversed(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.send(Start())
    tenant.taps("consent:no")
    assert tenant.state.stage is Stage.DECLINED
    tenant.says("hello?")
    assert "Question" not in tenant.text and tenant.state.answers == {}
    assert tenant.buttons == ("consent:again",)
    tenant.taps("consent:again")
    assert tenant.buttons == ("consent:yes", "consent:no")
    tenant.taps("consent:yes")
    assert "Question 1 of 5" in tenant.text


def test_typed_yes_counts_as_agreeing(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.send(Start())
    tenant.says("Yes!")
    assert tenant.state.stage is Stage.QUESTION


def test_each_objective_is_explained_before_its_question_and_only_once(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    assert "building up our suppliers" in tenant.text and "open and fair buying" in tenant.text
    tenant.taps(f"skip:{Q1}")
    assert "caring for people and the planet" in tenant.text
    assert tenant.text.index("caring for people") < tenant.text.index("Question 2 of 5")
    tenant.taps(f"skip:{Q2}")
    assert "value for money" in tenant.text.lower() and "real savings" in tenant.text
    tenant.taps(f"skip:{Q3}")
    assert "Question 4 of 5" in tenant.text
    assert "caring for people" not in tenant.text  # already explained before question 2


def test_every_question_shows_its_progress_marker(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    for number, qid in enumerate([Q1, Q2, Q3, Q4, Q5], start=1):
        assert f"Question {number} of 5" in tenant.text
        tenant.taps(f"skip:{qid}")


def test_tenant_can_skip_a_question(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.taps(f"skip:{Q1}")
    assert tenant.state.answers[Q1] == Answer(skipped=True)
    assert "Question 2 of 5" in tenant.text


def test_tenant_can_go_back_to_the_previous_question(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("More local builders")
    tenant.taps(f"next:{Q1}")
    tenant.taps(f"back:{Q2}")
    assert "Question 1 of 5" in tenant.text
    assert "More local builders" in tenant.text  # the answer so far is shown


def test_back_on_the_first_question_says_there_is_nothing_before_it(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("back")
    assert "first question" in tenant.text
    assert "Question 1 of 5" in tenant.text


def test_a_typed_word_that_matches_a_button_counts_as_that_button(consultation: Consultation) -> None:
    for typed, expected in [("yes", "agree"), ("AGREE", "agree"), ("Not sure", "not_sure"), ("no.", "disagree")]:
        tenant = Tenant(consultation)
        tenant.agree()
        tenant.taps(f"skip:{Q1}")
        tenant.says(typed)
        assert tenant.state.answers[Q2].choice == expected, typed


def test_other_words_where_a_button_is_expected_get_the_question_again(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.taps(f"skip:{Q1}")
    tenant.says("what do you mean?")
    assert Q2 not in tenant.state.answers
    assert "Question 2 of 5" in tenant.text
    assert f"opt:{Q2}:agree" in tenant.buttons
    assert "error" not in tenant.text.lower()


def test_a_choice_is_followed_by_an_optional_reason(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.taps(f"skip:{Q1}")
    tenant.taps(f"opt:{Q2}:disagree")
    assert "Why do you think that?" in tenant.text
    tenant.says("Best value matters most")
    tenant.taps(f"next:{Q2}")
    assert tenant.state.answers[Q2] == Answer(choice="disagree", text="Best value matters most")
    assert "Question 3 of 5" in tenant.text


def test_the_reason_can_be_skipped_and_the_choice_is_kept(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.taps(f"skip:{Q1}")
    tenant.taps(f"opt:{Q2}:agree")
    tenant.taps(f"skip:{Q2}")
    assert tenant.state.answers[Q2] == Answer(choice="agree")


def test_tenant_can_add_to_a_free_text_answer_before_moving_on(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("Repairs take too long.")
    tenant.says("And nobody rings back.")
    assert tenant.state.answers[Q1].text == "Repairs take too long.\nAnd nobody rings back."
    assert f"next:{Q1}" in tenant.buttons
    tenant.says("next")
    assert "Question 2 of 5" in tenant.text


def test_text_over_the_limit_is_refused_with_the_limit_and_nothing_half_kept(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("First thought.")
    tenant.says("x" * 2500)
    assert "2,000" in tenant.text
    assert tenant.state.answers[Q1].text == "First thought."


def test_an_empty_message_is_not_taken_as_an_answer(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("   ")
    assert Q1 not in tenant.state.answers


def test_skip_on_an_answered_question_keeps_the_answer(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("Use local firms")
    tenant.taps(f"next:{Q1}")
    tenant.taps(f"back:{Q2}")
    tenant.taps(f"skip:{Q1}")
    assert tenant.state.answers[Q1].text == "Use local firms"


def _answer_all(tenant: Tenant) -> None:
    tenant.agree()
    tenant.says("Quicker repairs")
    tenant.taps(f"next:{Q1}")
    tenant.taps(f"opt:{Q2}:agree")
    tenant.says("Keeps money local")
    tenant.taps(f"next:{Q2}")
    tenant.taps(f"skip:{Q3}")
    tenant.taps(f"opt:{Q4}:not_sure")
    tenant.taps(f"skip:{Q4}")
    tenant.says("Thanks for asking")
    tenant.taps(f"next:{Q5}")


def test_review_shows_every_answer_with_change_and_submit(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    _answer_all(tenant)
    assert tenant.state.stage is Stage.REVIEW
    for expected in ["Quicker repairs", "Agree", "Keeps money local", "(skipped)", "Not sure", "Thanks for asking"]:
        assert expected in tenant.text
    assert f"change:{Q3}" in tenant.buttons and "submit" in tenant.buttons


def test_tenant_can_change_an_answer_before_submitting(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    _answer_all(tenant)
    tenant.taps(f"change:{Q2}")
    assert "Question 2 of 5" in tenant.text
    tenant.taps(f"opt:{Q2}:disagree")
    tenant.taps(f"skip:{Q2}")
    assert tenant.state.stage is Stage.REVIEW  # straight back to the review
    assert tenant.state.answers[Q2] == Answer(choice="disagree", text="Keeps money local")
    tenant.taps("submit")
    assert tenant.state.stage is Stage.SUBMITTED


def test_typing_change_and_a_number_in_the_review_opens_that_question(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    _answer_all(tenant)
    tenant.says("change 3")
    assert "Question 3 of 5" in tenant.text


def test_submitting_thanks_the_tenant_and_says_what_happens_next(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    _answer_all(tenant)
    tenant.taps("submit")
    assert "Thank you" in tenant.text and "tell tenants what we changed" in tenant.text
    assert tenant.state.submitted_at == IN_WINDOW


def test_after_submitting_a_tenant_can_see_and_change_answers_until_the_close(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    _answer_all(tenant)
    tenant.taps("submit")
    tenant.now = IN_WINDOW + timedelta(days=3)
    tenant.send(Start())
    assert "already sent" in tenant.text and tenant.buttons == ("review",)
    tenant.taps("review")
    assert "Quicker repairs" in tenant.text
    tenant.taps(f"change:{Q1}")
    tenant.says("Much quicker repairs")
    tenant.taps(f"next:{Q1}")
    tenant.taps("submit")
    assert "change is saved" in tenant.text
    assert tenant.state.answers[Q1].text == "Much quicker repairs"


def test_before_the_window_opens_the_tenant_is_told_when_it_opens(consultation: Consultation) -> None:
    tenant = Tenant(consultation, now=datetime(2020, 11, 4, 8, 59, tzinfo=UTC))
    tenant.send(Start())
    assert "opens on" in tenant.text and "Wednesday 4 November 2020 at 9am" in tenant.text
    assert tenant.state == ConversationState()


def test_after_the_close_new_sessions_are_refused_with_when_it_closed(consultation: Consultation) -> None:
    tenant = Tenant(consultation, now=datetime(2020, 12, 1, 9, 0, tzinfo=UTC))
    tenant.send(Start())
    assert "closed on Monday 30 November 2020 at 5pm" in tenant.text
    assert "Thank you" in tenant.text
    assert tenant.state == ConversationState()


def test_a_tenant_part_way_through_is_told_it_closed_and_nothing_more_is_taken(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("Faster repairs")
    tenant.now = datetime(2020, 11, 30, 17, 0, tzinfo=UTC)
    tenant.says("and better kitchens")
    assert "closed" in tenant.text
    assert tenant.state.answers[Q1].text == "Faster repairs"
    tenant.send(Review())
    assert "Faster repairs" in tenant.text and tenant.buttons == ()


def test_the_closing_instant_is_five_pm_london_time_on_30_november(consultation: Consultation) -> None:
    closing = datetime(2020, 11, 30, 17, 0, tzinfo=LONDON)
    assert closing.utcoffset() == timedelta(0)  # GMT in November
    tenant = Tenant(consultation, now=closing - timedelta(seconds=1))
    tenant.agree()
    assert "Question 1 of 5" in tenant.text
    tenant.now = closing
    tenant.says("Just in time?")
    assert "closed" in tenant.text and Q1 not in tenant.state.answers


def test_a_window_across_the_clock_change_uses_local_time_on_both_sides(consultation: Consultation) -> None:
    # Opens in BST (UTC+1), closes in GMT: 2021-10-25 09:00 BST to 2021-11-05 17:00 GMT.
    spanning = consultation.with_window(
        datetime(2021, 10, 25, 9, 0, tzinfo=LONDON), datetime(2021, 11, 5, 17, 0, tzinfo=LONDON)
    )
    early = Tenant(spanning, now=datetime(2021, 10, 25, 7, 59, tzinfo=UTC))  # 08:59 BST
    early.send(Start())
    assert "opens on" in early.text and "Monday 25 October 2021 at 9am" in early.text
    on_time = Tenant(spanning, now=datetime(2021, 10, 25, 8, 0, tzinfo=UTC))  # 09:00 BST
    on_time.send(Start())
    assert "Friday 5 November 2021 at 5pm" in on_time.text
    late = Tenant(spanning, now=datetime(2021, 11, 5, 17, 0, tzinfo=UTC))  # 17:00 GMT
    late.send(Start())
    assert "closed" in late.text


def test_help_says_where_the_tenant_is_at_every_stage(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.send(Start())
    tenant.send(Help())
    assert "at the start" in tenant.text
    tenant.taps("consent:yes")
    tenant.taps(f"skip:{Q1}")
    tenant.send(Help())
    assert "question 2 of 5" in tenant.text and "Skip" in tenant.text
    assert tenant.state.position == 1  # help changes nothing
    _answer_all(tenant := Tenant(consultation))
    tenant.send(Help())
    assert "checking your answers" in tenant.text


def test_an_old_button_changes_nothing_and_says_where_we_are(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.taps(f"skip:{Q1}")
    tenant.taps(f"opt:{Q2}:agree")
    tenant.taps(f"skip:{Q2}")
    before = tenant.state
    tenant.taps(f"opt:{Q2}:disagree")  # pressed on the old question 2 message
    assert tenant.state == before
    assert "earlier message" in tenant.text and "question 3 of 5" in tenant.text
    tenant.taps("never-issued:xyz")
    assert tenant.state == before


def test_start_part_way_through_carries_on_at_the_same_question(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.taps(f"skip:{Q1}")
    tenant.taps(f"skip:{Q2}")
    tenant.send(Start())
    assert "Welcome back" in tenant.text and "Question 3 of 5" in tenant.text


def test_the_resume_button_from_a_reminder_opens_the_exact_question(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.taps(f"skip:{Q1}")
    tenant.taps("resume")
    assert "Question 2 of 5" in tenant.text


def test_privacy_can_be_read_again_at_any_time(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.send(Privacy())
    assert "your privacy" in tenant.text and tenant.buttons == ()
    assert tenant.state.stage is Stage.QUESTION


def test_the_deep_link_source_is_kept_from_the_first_start(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.send(Start("poster"))
    tenant.send(Start("letter"))
    assert tenant.state.source == "poster"


def test_tenant_words_shown_back_cannot_break_formatting(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("<b>bold</b> & <script>")
    tenant.send(Review())
    raw = "\n".join(r.text for r in tenant.last.replies) if tenant.last else ""
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in raw


def test_a_long_review_is_split_under_telegrams_limit(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    answers = {q.id: Answer(text="word " * 399 + "end") for q in consultation.questions}
    tenant.state = replace(tenant.state, answers=answers)
    replies = tenant.send(Review())
    assert len(replies) > 1
    assert all(len(r.text) <= 4096 for r in replies)
    assert "submit" in replies[-1].button_ids


def test_state_survives_a_round_trip_through_json(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    _answer_all(tenant)
    assert ConversationState.from_json(tenant.state.to_json()) == tenant.state


def test_the_step_reports_which_answers_changed(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("Idea")
    assert tenant.last is not None and tenant.last.changed == (Q1,)
    tenant.send(Help())
    assert tenant.last.changed == ()


def test_typing_next_on_a_fresh_question_moves_on_without_storing_the_word(consultation: Consultation) -> None:
    tenant = Tenant(consultation)
    tenant.agree()
    tenant.says("Next")
    assert tenant.state.answers[Q1] == Answer(skipped=True)
    assert "Question 2 of 5" in tenant.text
