"""Every kind of answer is kept as given, and a question routed out stops counting but stays in the history."""

from __future__ import annotations

from conversations.state import NOT_SHOWN, Answer, ConversationState, Stage
from storage import Database
from tests.storage.builders import CONSULTATION, record

TICKS = Answer(choices=("repairs", "cleaning"), text="Both are slow")
NUMBER = Answer(number=3)
SCALE = Answer(choice="fairly_satisfied")


async def current(db: Database, user_id: int) -> dict[str, Answer]:
    return {a.question_id: a.answer for a in await db.current_answers(user_id, CONSULTATION)}


async def test_ticks_a_number_and_a_scale_point_come_back_as_given(db: Database) -> None:
    loaded = await db.load_state(1, CONSULTATION)
    state = ConversationState(stage=Stage.QUESTION, answers={"services": TICKS, "people": NUMBER, "sat": SCALE})
    assert await db.apply_step(record(1, loaded, state, {"services": TICKS, "people": NUMBER, "sat": SCALE}))
    assert await current(db, 1) == {"services": TICKS, "people": NUMBER, "sat": SCALE}
    assert (await db.load_state(1, CONSULTATION)).state.answers["services"].choices == ("repairs", "cleaning")


async def test_a_question_routed_out_stops_counting_and_routed_back_in_has_no_current_answer(db: Database) -> None:
    loaded = await db.load_state(2, CONSULTATION)
    first = ConversationState(stage=Stage.QUESTION, answers={"repair_done": Answer(choice="yes"), "sat": SCALE})
    await db.apply_step(record(2, loaded, first, {"repair_done": Answer(choice="yes"), "sat": SCALE}))
    loaded = await db.load_state(2, CONSULTATION)
    routed_out = ConversationState(stage=Stage.QUESTION, answers={"repair_done": Answer(choice="no"), "sat": NOT_SHOWN})
    await db.apply_step(record(2, loaded, routed_out, {"repair_done": Answer(choice="no"), "sat": NOT_SHOWN}))
    now = await current(db, 2)
    assert now["sat"] == NOT_SHOWN and not now["sat"].counts
    loaded = await db.load_state(2, CONSULTATION)
    back_in = ConversationState(stage=Stage.QUESTION, answers={"repair_done": Answer(choice="yes")})
    await db.apply_step(record(2, loaded, back_in, {"repair_done": Answer(choice="yes"), "sat": None}))
    assert "sat" not in await current(db, 2), "a question routed back in is asked again: no answer counts yet"
    history = [a.answer for a in await db.answer_history(2, CONSULTATION) if a.question_id == "sat"]
    assert history == [SCALE, NOT_SHOWN], "the answer given before it was routed out stays in the history"
