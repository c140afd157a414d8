"""Done means: the real engine runs a whole consultation on top of storage, restarting between every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conversations.events import Event, Press, Start, Text
from conversations.file.loader import load_consultation
from conversations.flow.engine import StepResult, step
from conversations.model import Consultation
from conversations.screens import buttons
from conversations.state import Answer, ConversationState, Stage
from storage import Database, StepRecord, TranscriptLine, changed_answers
from tests.storage.builders import run_sql

TENANT = 424_242
NOW = datetime(2020, 11, 10, 12, 0, tzinfo=UTC)  # inside the bundled consultation's window
LONG_REASON = "Because local firms know our estates 🏘️. " * 40


def said(event: Event) -> str:
    """What the tenant sent, as the transcript shows it."""
    if isinstance(event, Start):
        return f"/start {event.payload}" if event.payload else "/start"
    if isinstance(event, Text):
        return event.text
    assert isinstance(event, Press)
    return f"[pressed {event.button_id}]"


def script() -> list[tuple[Event, Stage]]:
    """A whole consultation: agree, answer, choose with and without reasons, skip, submit, change, resubmit."""
    q1, q2, q3, q4, q5 = "q1_general", "q2_local_suppliers", "q3_cost_quality", "q4_environment", "q5_other"
    return [
        (Start("letter"), Stage.CONSENT),
        (Press(buttons.AGREE), Stage.QUESTION),
        (Text("Buy from firms that 'actually' finish jobs; -- no DROP TABLE please"), Stage.QUESTION),
        (Text("And answer the phone ☎️"), Stage.QUESTION),
        (Press(buttons.next_button_id(q1)), Stage.QUESTION),
        (Press(buttons.option_button_id(q2, "agree")), Stage.QUESTION),
        (Text(LONG_REASON.strip()), Stage.QUESTION),
        (Press(buttons.next_button_id(q2)), Stage.QUESTION),
        (Press(buttons.skip_button_id(q3)), Stage.QUESTION),
        (Press(buttons.option_button_id(q4, "not_sure")), Stage.QUESTION),
        (Press(buttons.skip_button_id(q4)), Stage.QUESTION),
        (Text("مرحبا — thank you"), Stage.QUESTION),
        (Press(buttons.next_button_id(q5)), Stage.REVIEW),
        (Press(buttons.SUBMIT), Stage.SUBMITTED),
        (Press(buttons.change_button_id(q3)), Stage.QUESTION),
        (Text("Quality first, then cost"), Stage.QUESTION),
        (Press(buttons.next_button_id(q3)), Stage.REVIEW),
        (Press(buttons.SUBMIT), Stage.SUBMITTED),
    ]


async def one_step(url: str, consultation: Consultation, event: Event, update_id: int, now: datetime) -> StepResult:
    """What the bot does per update, with a fresh Database each time (a restart between every step)."""
    async with await Database.open(url) as db:
        loaded = await db.load_state(TENANT, consultation.id)
        result = step(consultation, loaded.state, event, now)
        replies = [TranscriptLine("out", reply.text, now) for reply in result.replies]
        lines = (TranscriptLine("in", said(event), now), *replies)
        saved = await db.apply_step(
            StepRecord(
                user_id=TENANT,
                consultation_id=consultation.id,
                consultation_version=consultation.version,
                privacy_version=consultation.privacy_version,
                update_id=update_id,
                expected_revision=loaded.revision,
                state=result.state,
                changed=changed_answers(result.state, result.changed),
                transcript=lines,
                at=now,
            )
        )
        assert saved
    return result


async def test_a_whole_consultation_survives_a_restart_between_every_step(url: str) -> None:
    consultation = load_consultation()
    expected = ConversationState()
    transcript: list[tuple[str, str]] = []
    changes: list[tuple[str, Answer]] = []
    for number, (event, stage) in enumerate(script(), start=1):
        now = NOW + timedelta(minutes=number)
        async with await Database.open(url) as db:
            loaded = await db.load_state(TENANT, consultation.id)
        assert loaded.state == expected, f"state differs after restart before step {number}"
        assert loaded.revision == number - 1
        result = await one_step(url, consultation, event, update_id=number, now=now)
        assert result.state.stage is stage, f"step {number}: {event}"
        expected = result.state
        transcript += [("in", said(event)), *(("out", reply.text) for reply in result.replies)]
        changes += [(qid, result.state.answers[qid]) for qid in result.changed]

    async with await Database.open(url) as db:
        final = await db.load_state(TENANT, consultation.id)
        assert final.state == expected
        assert final.state.to_json() == expected.to_json()
        current = {a.question_id: a.answer for a in await db.current_answers(TENANT, consultation.id)}
        assert current == expected.answers
        assert current["q3_cost_quality"] == Answer(text="Quality first, then cost")
        assert current["q2_local_suppliers"] == Answer(choice="agree", text=LONG_REASON.strip())
        history = await db.answer_history(TENANT, consultation.id)
        assert [(h.question_id, h.answer) for h in history] == changes
        assert [h.answer for h in history if h.question_id == "q3_cost_quality"] == [
            Answer(skipped=True), Answer(text="Quality first, then cost"),
        ]
        assert {h.consultation_version for h in history} == {consultation.version}
        assert [(ln.direction, ln.text) for ln in await db.transcript(TENANT, consultation.id)] == transcript
        respondent = await db.respondent(TENANT)
        assert respondent is not None
        assert (respondent.source, respondent.consent_privacy_version) == ("letter", consultation.privacy_version)
        assert respondent.consent_given_at == NOW + timedelta(minutes=2)
        assert await db.integrity_check() == "ok"

    async with await Database.open(url) as db:  # the columns exports will filter on, without parsing JSON
        [row] = run_sql(db, "SELECT stage, started_at, consent_at, submitted_at, consultation_version "
                            "FROM conversations")
    row = tuple(value.astimezone(UTC).isoformat(timespec="microseconds") if isinstance(value, datetime) else value
                for value in row)  # PostgreSQL's timestamptz, as SQLite's stored text
    assert row == (
        "submitted",
        (NOW + timedelta(minutes=1)).isoformat(timespec="microseconds"),
        (NOW + timedelta(minutes=2)).isoformat(timespec="microseconds"),
        (NOW + timedelta(minutes=18)).isoformat(timespec="microseconds"),
        consultation.version,
    )
