"""Whatever a tenant presses or types in a routed survey, the answers that count are exactly the shown questions'."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.events import Event, Help, Press, Review, Start, Text
from conversations.file.loader import load_consultation
from conversations.flow.engine import step
from conversations.flow.routing import visible
from conversations.screens import buttons as ids
from conversations.state import ConversationState, Stage

EXAMPLE = Path(__file__).resolve().parents[2] / "conversations" / "consultations" / "examples" / "every-kind.toml"
SURVEY = load_consultation(EXAMPLE)
NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)
BUTTONS = [ids.AGREE, ids.REVIEW, ids.SUBMIT, ids.RESUME, "opt:x:y"]
for q in SURVEY.questions:
    BUTTONS += [ids.skip_button_id(q.id), ids.back_button_id(q.id), ids.next_button_id(q.id),
                ids.done_button_id(q.id), ids.change_button_id(q.id)]
    BUTTONS += [ids.option_button_id(q.id, o.id) for o in q.options]
WORDS = ["yes", "no", "skip", "back", "next", "done", "1, 3", "2", "1", "5", "none", "repairs, cleaning", "0", "25",
         "fairly satisfied", "very dissatisfied", "don't know", "agree", "change 2", "change 4", "send", "3 people"]

events = st.one_of(
    st.builds(Text, st.one_of(st.sampled_from(WORDS), st.text(max_size=40))),
    st.builds(Press, st.sampled_from(BUTTONS)),
    st.just(Review()),
    st.just(Help()),
    st.just(Start()),
)


def assert_only_shown_questions_count(state: ConversationState) -> None:
    """The invariant the issue names, plus what each kind may hold."""
    for question in SURVEY.questions:
        answer = state.answers.get(question.id)
        shown = visible(SURVEY, question, state.answers)
        if not question.answerable:
            assert answer is None, "an info page stored something"
        elif not shown:
            assert answer is None or not answer.counts, f"{question.id} is not shown but its answer counts"
        if answer is not None and answer.counts:
            assert shown
            if answer.choice is not None:
                assert question.option(answer.choice) is not None
            for tick in answer.choices:
                assert question.option(tick) is not None
            if answer.number is not None:
                assert question.minimum is not None and question.maximum is not None
                assert question.minimum <= answer.number <= question.maximum
    assert ConversationState.from_json(state.to_json()) == state


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_whatever_a_tenant_does_only_the_shown_questions_answers_count(data: st.DataObject) -> None:
    """Mostly the buttons on screen (so tenants get deep into the routing), sometimes anything at all."""
    state = step(SURVEY, ConversationState(), Start(), NOW).state
    on_screen = [ids.AGREE]
    for _ in range(data.draw(st.integers(min_value=1, max_value=60))):
        if on_screen and data.draw(st.integers(0, 9)) < 7:
            event: Event = Press(data.draw(st.sampled_from(on_screen)))
        else:
            event = data.draw(events)
        result = step(SURVEY, state, event, NOW)
        assert_only_shown_questions_count(result.state)
        assert all(len(r.text) <= 4096 and r.text for r in result.replies)
        assert all(0 < len(b.encode()) <= 64 for r in result.replies for b in r.button_ids)
        if result.state.stage is Stage.SUBMITTED and state.stage is not Stage.SUBMITTED:
            for required in ("household", "overall"):
                answer = result.state.answers.get(required)
                assert answer is not None and answer.given, f"sent without the required {required}"
        state = result.state
        on_screen = [b for r in result.replies for b in r.button_ids] or on_screen
    hypothesis.event(f"ended at {state.stage.value}")
    hypothesis.event(f"{sum(1 for a in state.answers.values() if not a.shown)} routed out")


def test_the_property_reaches_deep_into_the_routing() -> None:
    """Not a tautology: a tenant tapping what is on screen gets to the review and past routed-out questions."""
    state = step(SURVEY, ConversationState(), Start(), NOW).state
    for button in (ids.AGREE, "next:start_page", "opt:overall:very_satisfied", "skip:overall", "opt:repair_done:no"):
        state = step(SURVEY, state, Press(button), NOW).state
    assert_only_shown_questions_count(state)
    assert state.answers["repair_satisfaction"].shown is False
