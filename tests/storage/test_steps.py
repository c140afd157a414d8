"""One engine step, one transaction: all of it is saved or none of it, exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from conversations.state import Answer, ConversationState, Stage
from storage import Database, StaleStateError, StepRecord, TranscriptLine, changed_answers, steps
from tests.storage.builders import AT, CONSULTATION, INTEGRITY_ERRORS, PRIVACY, VERSION, answer, exchange, record


async def assert_untouched_after_first_step(db: Database, user_id: int, failed_update: int) -> None:
    """Only the first step's answer, lines and update id are there."""
    loaded = await db.load_state(user_id, CONSULTATION)
    assert loaded.revision == 1
    assert loaded.state.answers == {"q1": Answer(text="first")}
    assert [a.question_id for a in await db.answer_history(user_id, CONSULTATION)] == ["q1"]
    assert [line.text for line in await db.transcript(user_id, CONSULTATION)] == ["first", "Thank you."]
    assert await db.is_processed(1)
    assert not await db.is_processed(failed_update)


async def test_a_new_tenant_starts_from_a_fresh_state_at_revision_0(db: Database) -> None:
    loaded = await db.load_state(5, CONSULTATION)
    assert loaded.state == ConversationState()
    assert (loaded.revision, loaded.reference) == (0, None)


async def test_a_step_that_breaks_a_constraint_half_way_leaves_nothing_behind(db: Database) -> None:
    assert await answer(db, 7, "q1", "first", update_id=1)
    loaded = await db.load_state(7, CONSULTATION)
    state = loaded.state.with_answer("q2", Answer(text="second"))
    broken_line = TranscriptLine("out", None, AT)  # type: ignore[arg-type]  # NOT NULL fails after state+answer
    step = record(7, loaded, state, {"q2": Answer(text="second")}, (TranscriptLine("in", "x", AT), broken_line), 2)
    with pytest.raises(INTEGRITY_ERRORS):
        await db.apply_step(step)
    await assert_untouched_after_first_step(db, 7, failed_update=2)


async def test_a_new_tenants_failed_first_step_leaves_no_respondent(db: Database) -> None:
    loaded = await db.load_state(8, CONSULTATION)
    state = ConversationState(stage=Stage.CONSENT, started_at=AT, source="poster")
    broken = (TranscriptLine("in", "/start", AT), TranscriptLine("out", None, AT))  # type: ignore[arg-type]
    with pytest.raises(INTEGRITY_ERRORS):
        await db.apply_step(record(8, loaded, state, lines=broken, update_id=3))
    assert await db.respondent(8) is None
    assert (await db.load_state(8, CONSULTATION)).revision == 0
    assert not await db.is_processed(3)


async def test_an_error_at_the_very_end_of_a_step_rolls_everything_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await answer(db, 7, "q1", "first", update_id=1)

    async def disk_on_fire(*_: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(steps, "_mark_processed", disk_on_fire)
    with pytest.raises(OSError, match="disk on fire"):
        await answer(db, 7, "q1", "changed my mind", update_id=2)
    await assert_untouched_after_first_step(db, 7, failed_update=2)


async def test_a_step_cancelled_mid_transaction_is_rolled_back_and_the_next_step_works(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await answer(db, 7, "q1", "first", update_id=1)
    inside = asyncio.Event()
    real = steps._save_transcript

    async def hang(*_: object) -> None:
        inside.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(steps, "_save_transcript", hang)
    task = asyncio.create_task(answer(db, 7, "q1", "never saved", update_id=2))
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_untouched_after_first_step(db, 7, failed_update=2)
    monkeypatch.setattr(steps, "_save_transcript", real)
    assert await answer(db, 7, "q2", "after the cancel", update_id=3)
    assert (await db.load_state(7, CONSULTATION)).revision == 2


async def test_a_replayed_update_is_applied_once(db: Database) -> None:
    assert await answer(db, 7, "q1", "hello", update_id=42) is True
    assert await answer(db, 7, "q1", "hello again", update_id=42) is False
    loaded = await db.load_state(7, CONSULTATION)
    assert loaded.revision == 1
    assert loaded.state.answers["q1"] == Answer(text="hello")
    assert len(await db.answer_history(7, CONSULTATION)) == 1
    assert len(await db.transcript(7, CONSULTATION)) == 2
    assert await db.is_processed(42)


async def test_a_replay_with_an_out_of_date_revision_is_still_a_quiet_no_op(db: Database) -> None:
    stale = await db.load_state(7, CONSULTATION)
    assert await answer(db, 7, "q1", "hello", update_id=42)
    assert await db.apply_step(record(7, stale, ConversationState(), update_id=42)) is False


async def test_a_step_saved_from_an_out_of_date_state_is_refused_and_can_be_rerun(db: Database) -> None:
    assert await answer(db, 7, "q1", "first", update_id=1)
    seen_by_a = await db.load_state(7, CONSULTATION)
    seen_by_b = await db.load_state(7, CONSULTATION)
    state_a = seen_by_a.state.with_answer("q2", Answer(text="a"))
    assert await db.apply_step(record(7, seen_by_a, state_a, {"q2": Answer(text="a")}, update_id=2))
    state_b = seen_by_b.state.with_answer("q3", Answer(text="b"))
    with pytest.raises(StaleStateError):
        await db.apply_step(record(7, seen_by_b, state_b, {"q3": Answer(text="b")}, update_id=3))
    assert not await db.is_processed(3)
    reloaded = await db.load_state(7, CONSULTATION)
    rerun = reloaded.state.with_answer("q3", Answer(text="b"))
    assert await db.apply_step(record(7, reloaded, rerun, {"q3": Answer(text="b")}, update_id=3))
    assert set((await db.load_state(7, CONSULTATION)).state.answers) == {"q1", "q2", "q3"}


AWKWARD = {
    "emoji": "👩🏽‍🔧 fixed it 👨‍👩‍👧‍👦 🇬🇧 🏴󠁧󠁢󠁷󠁬󠁳󠁿 ❤️",
    "right_to_left": "مرحبا، هذا رأيي — שלום עולם (mixed with English)",
    "combining": "e\u0301 vs \u00e9; Z\u0364\u0351\u0313a\u0308\u0356\u032dl\u036e\u0312g\u030c\u031ao\u0317",
    "long": ("🙂 «quoted» \"x\" 'y' ; -- " * 200)[:4096],
    "sql": "Robert'); DROP TABLE answers;-- \"double\" `back` \\ % _ ? :name $1 /* */ ' OR '1'='1",
    "control": "line one\r\nline two\ttabbed\x00after a NUL",
}


async def test_awkward_text_round_trips_exactly(db: Database) -> None:
    assert len(AWKWARD["long"]) == 4096
    for number, (name, text) in enumerate(AWKWARD.items(), start=1):
        loaded = await db.load_state(number, CONSULTATION)
        state = loaded.state.with_answer(name, Answer(choice="yes", text=text))
        lines = (TranscriptLine("in", text, AT), TranscriptLine("out", text[::-1], AT + timedelta(seconds=1)))
        assert await db.apply_step(record(number, loaded, state, changed_answers(state, (name,)), lines, number))
    for number, (name, text) in enumerate(AWKWARD.items(), start=1):
        assert (await db.load_state(number, CONSULTATION)).state.answers[name].text == text
        if db.postgres:  # PostgreSQL text cannot hold NUL: the answer and transcript keep U+FFFD in its place
            text = text.replace("\0", "\ufffd")
        [stored] = await db.current_answers(number, CONSULTATION)
        assert stored.answer == Answer(choice="yes", text=text)
        assert [(ln.direction, ln.text) for ln in await db.transcript(number, CONSULTATION)] == [
            ("in", text),
            ("out", text[::-1]),
        ]
    assert await db.integrity_check() == "ok"


async def test_changing_an_answer_keeps_the_history_and_the_version_shown(db: Database) -> None:
    await answer(db, 7, "q1", "first thoughts", update_id=1)
    await answer(db, 7, "q1", "second thoughts", update_id=2, at=AT + timedelta(hours=1))
    history = await db.answer_history(7, CONSULTATION)
    assert [(h.answer.text, h.current) for h in history] == [("first thoughts", False), ("second thoughts", True)]
    assert {h.consultation_version for h in history} == {VERSION}
    [current] = await db.current_answers(7, CONSULTATION)
    assert (current.question_id, current.answer.text, current.answered_at) == (
        "q1", "second thoughts", AT + timedelta(hours=1)
    )


async def test_the_first_step_creates_a_respondent_with_a_random_reference_and_a_checked_source(db: Database) -> None:
    for user_id, source in ((1, "poster"), (2, "bad source!"), (3, "x" * 33), (4, None)):
        loaded = await db.load_state(user_id, CONSULTATION)
        state = ConversationState(stage=Stage.CONSENT, started_at=AT, source=source)
        assert await db.apply_step(record(user_id, loaded, state, lines=exchange("/start")))
    sources = [(r.source if (r := await db.respondent(u)) else "missing") for u in (1, 2, 3, 4)]
    assert sources == ["poster", None, None, None]
    first = await db.respondent(1)
    assert first is not None and first.first_seen == AT
    assert first.reference.startswith("R-") and len(first.reference) == 8
    assert (await db.load_state(1, CONSULTATION)).reference == first.reference
    references = {r.reference for u in (1, 2, 3, 4) if (r := await db.respondent(u))}
    assert len(references) == 4


async def test_consent_is_recorded_with_the_privacy_version_and_withdrawal_with_its_time(db: Database) -> None:
    loaded = await db.load_state(9, CONSULTATION)
    agreed = ConversationState(stage=Stage.QUESTION, started_at=AT, consent_at=AT)
    await db.apply_step(record(9, loaded, agreed))
    respondent = await db.respondent(9)
    assert respondent is not None and respondent.consented
    assert (respondent.consent_privacy_version, respondent.consent_given_at) == (PRIVACY, AT)
    later = AT + timedelta(days=1)
    withdrawn = replace(agreed, consent_at=None, stage=Stage.DECLINED)
    await db.apply_step(record(9, await db.load_state(9, CONSULTATION), withdrawn, at=later))
    respondent = await db.respondent(9)
    assert respondent is not None and not respondent.consented
    assert respondent.consent_withdrawn_at == later


async def test_reminder_and_blocked_flags_are_kept_and_unknown_tenants_are_reported(db: Database) -> None:
    await answer(db, 7, "q1", "hi")
    assert await db.set_reminders(7, opted_out=True)
    assert await db.mark_blocked(7, blocked=True)
    respondent = await db.respondent(7)
    assert respondent is not None and respondent.reminders_opted_out and respondent.blocked
    assert await db.mark_blocked(7, blocked=False)
    respondent = await db.respondent(7)
    assert respondent is not None and not respondent.blocked
    assert not await db.set_reminders(12345, opted_out=True)


def test_a_record_that_contradicts_its_own_state_is_refused_before_any_write() -> None:
    state = ConversationState().with_answer("q1", Answer(text="saved"))
    with pytest.raises(ValueError, match="differs"):
        StepRecord(1, CONSULTATION, VERSION, PRIVACY, None, 0, state, {"q1": Answer(text="other")}, (), AT)
    with pytest.raises(ValueError, match="time zone"):
        StepRecord(1, CONSULTATION, VERSION, PRIVACY, None, 0, state, {}, (), AT.replace(tzinfo=None))
    with pytest.raises(ValueError, match="direction"):
        TranscriptLine("sideways", "x", AT)  # type: ignore[arg-type]
