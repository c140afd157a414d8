"""Any sequence of events from any state: never raises, always a valid state, never loses a given answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.events import Event, Help, Press, Privacy, Review, Start, Text
from conversations.file.loader import load_consultation
from conversations.flow.engine import step
from conversations.screens import buttons as ids
from conversations.state import ConversationState, Phase, Stage

CONSULTATION = load_consultation()
QUESTION_IDS = [q.id for q in CONSULTATION.questions]
BUTTONS = [ids.AGREE, ids.DECLINE, ids.RECONSIDER, ids.REVIEW, ids.SUBMIT, ids.RESUME, "", "opt:x:y", "üñí:çødé"]
for q in CONSULTATION.questions:
    BUTTONS += [ids.skip_button_id(q.id), ids.back_button_id(q.id), ids.next_button_id(q.id),
                ids.change_button_id(q.id)]
    BUTTONS += [ids.option_button_id(q.id, o.id) for o in q.options]
WORDS = ["yes", "no", "skip", "back", "next", "agree", "not sure", "change 2", "send", "review", "", " ", "9"]

events = st.one_of(
    st.builds(Start, st.one_of(st.none(), st.text(max_size=80))),
    st.builds(Text, st.one_of(st.sampled_from(WORDS), st.text(max_size=300), st.text(min_size=1990, max_size=2100))),
    st.builds(Press, st.one_of(st.sampled_from(BUTTONS), st.text(max_size=70))),
    st.just(Help()),
    st.just(Review()),
    st.just(Privacy()),
)
OPENS = CONSULTATION.opens_at
moments = st.integers(min_value=-2, max_value=40).map(lambda days: OPENS + timedelta(days=days, hours=3))


def assert_valid(state: ConversationState) -> None:
    """Invariants every saved state must meet."""
    assert 0 <= state.position < len(QUESTION_IDS)
    assert state.furthest < len(QUESTION_IDS)
    assert set(state.answers) <= set(QUESTION_IDS)
    for qid, answer in state.answers.items():
        question = CONSULTATION.question(qid)
        assert question is not None
        if answer.choice is not None:
            assert question.option(answer.choice) is not None
        if answer.text is not None:
            assert 0 < len(answer.text) <= question.max_length
    if state.stage in (Stage.QUESTION, Stage.REVIEW, Stage.SUBMITTED):
        assert state.consent_at is not None
    if state.stage is Stage.SUBMITTED:
        assert state.submitted_at is not None
    if state.phase is Phase.REASON:
        assert state.stage is Stage.QUESTION
    assert ConversationState.from_json(state.to_json()) == state


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(events, moments), max_size=40))
def test_any_sequence_of_events_keeps_a_valid_state_and_every_given_answer(
    sequence: list[tuple[Event, datetime]],
) -> None:
    state = ConversationState()
    for event, now in sequence:
        result = step(CONSULTATION, state, event, now)
        assert_valid(result.state)
        assert all(len(r.text) <= 4096 and r.text for r in result.replies)
        assert all(0 < len(b.encode()) <= 64 for r in result.replies for b in r.button_ids)
        for qid, before in state.answers.items():
            after = result.state.answers.get(qid)
            assert after is not None, "an answer disappeared"
            if before.given:
                assert after.given, "a given answer was replaced by a skip"
            if qid not in result.changed:
                assert after == before
        if now >= CONSULTATION.closes_at or now < CONSULTATION.opens_at:
            assert result.state == state, "nothing is taken outside the window"
        state = result.state


@settings(max_examples=100, deadline=None)
@given(st.lists(events, max_size=25), st.lists(events, max_size=10))
def test_events_from_any_reached_state_never_raise(prefix: list[Event], suffix: list[Event]) -> None:
    now = datetime(2020, 11, 10, 12, tzinfo=UTC)
    state = ConversationState()
    for event in [Start(), Press(ids.AGREE), *prefix, *suffix]:
        state = step(CONSULTATION, state, event, now).state
        assert_valid(state)
