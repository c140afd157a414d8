"""The every-kind example through the real bot process: each kind, required, routing both ways, and storage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conversations.state import Answer
from storage import Database
from tests.botapi import BotApiServer
from tests.e2e.harness import PROJECT, BotProcess, Tenant, read_database

pytestmark = pytest.mark.e2e
EXAMPLE = PROJECT / "conversations" / "consultations" / "examples" / "every-kind.toml"
SURVEY = "tenant-satisfaction-example"


def tick(api: BotApiServer, tenant: Tenant, label: str, expect: str) -> None:
    """Tick an option of the newest multi question: its message is redrawn in place, no new message arrives."""
    message, data = tenant.find_button(label)
    before = len(tenant.messages())
    api.press_button(tenant.user_id, message.message_id, data)

    def redrawn() -> bool:
        stored = api.message(tenant.user_id, message.message_id)
        return stored is not None and expect in stored.button_texts

    api.wait_for(redrawn, timeout=10, what=f"the ticks to show {expect!r}")
    assert len(tenant.messages()) == before, "a tick sent a new message instead of redrawing the question"


def tap_exactly(api: BotApiServer, tenant: Tenant, label: str, expect: str) -> None:
    """Press the newest button labelled exactly so ("Agree", not "Strongly agree")."""
    for message in reversed(tenant.messages()):
        for button in message.buttons:
            if button.get("text") == label:
                api.press_button(tenant.user_id, message.message_id, str(button["callback_data"]))
                tenant.wait(expect)
                return
    raise AssertionError(f"no button labelled {label!r}")


def history(bot: BotProcess, user_id: int, question_id: str) -> list[Answer]:
    async def read(db: Database) -> list[Answer]:
        return [a.answer for a in await db.answer_history(user_id, SURVEY) if a.question_id == question_id]

    return read_database(bot, read)


@pytest.mark.both_modes
def test_a_tenant_takes_every_kind_with_routing_both_ways_through_the_real_bot(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], tmp_path: Path
) -> None:
    bot = bot_factory(CONSULTATION_FILE=str(EXAMPLE)).start()
    tenant = Tenant(api, 5553001)
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="no right or wrong answers")          # an info page first
    tenant.taps("Next", expect="Question 1 of about")
    tenant.says("skip", expect="needs an answer")                       # required: no Skip
    tenant.taps("Fairly satisfied", expect="Why do you say that?")      # a scale point, then the optional reason
    tenant.taps("Skip", expect="carried out a repair")
    tenant.taps("No", expect="Which of these have you used")            # the repairs scale is routed out
    tenant.taps("Back", expect="carried out a repair")                  # Back steps over it
    tenant.taps("No", expect="Which of these have you used")
    tick(api, tenant, "Repairs", "✔ Repairs")
    tick(api, tenant, "None of these", "✔ None of these")               # stands alone
    assert "✔ Repairs" not in tenant.find_button("Done")[0].button_texts
    tenant.says("1, 2", expect="Is there anything you'd like to tell us")  # typed numbers work too
    tenant.says("The cleaners are great", expect="send more")
    tenant.taps("Next", expect="how many times did the cleaners come")  # shown because cleaning was ticked
    tenant.says("forty", expect="whole number")
    tenant.says("40", expect="not in the range")
    tenant.says("4", expect="listens to my views")
    tap_exactly(api, tenant, "Agree", expect="glad you're happy")       # an info page shown by show_if
    tenant.taps("Next", expect="How many people live in your home")
    tenant.says("2", expect="Which age group")                          # feel_safe routed out
    tenant.taps("Prefer not to say", expect="anything else")
    tenant.taps("Skip", expect="Your answers")
    review = tenant.last_text()
    assert "✔ Repairs, ✔ Cleaning of shared areas" in review and "4 visits" in review and "2 people" in review
    assert "repairs service" not in review and "feel your home is safe" not in review

    tenant.taps("Change 2", expect="carried out a repair")              # yes now reveals three questions
    tenant.taps("Yes", expect="repairs service over the last 12 months")
    tenant.taps("Very dissatisfied", expect="What should we do better?")
    tenant.says("Come when you say you will", expect="send more")
    tenant.taps("Next", expect="feel your home is safe")
    tenant.taps("Yes", expect="Your answers")
    assert "Come when you say you will" in tenant.last_text()

    tenant.taps("Change 2", expect="carried out a repair")              # no hides them again
    tenant.taps("No", expect="Your answers")
    assert "Come when you say you will" not in tenant.last_text()
    tenant.taps("Change 2", expect="carried out a repair")              # and yes reveals them: asked afresh
    tenant.taps("Yes", expect="repairs service over the last 12 months")
    assert "Your answer so far" not in tenant.last_text()
    tenant.taps("Fairly satisfied", expect="feel your home is safe")   # satisfied: nothing to do better
    tenant.taps("Skip", expect="Your answers")
    tenant.taps("Change 2", expect="carried out a repair")
    tenant.taps("No", expect="Your answers")
    tenant.taps("Send my answers", expect="Thank you!")

    answers = {a.question_id: a.answer for a in read_database(
        bot, lambda db: db.current_answers(tenant.user_id, SURVEY))}
    assert answers["services_used"].choices == ("repairs", "cleaning")
    assert answers["services_used"].text == "The cleaners are great"
    assert answers["cleaning_visits"].number == 4 and answers["household"].number == 2
    assert answers["overall"].choice == "fairly_satisfied" and answers["listens"].choice == "agree"
    for routed_out in ("repair_satisfaction", "repair_better", "feel_safe"):
        assert not answers[routed_out].shown and not answers[routed_out].counts
    kept = history(bot, tenant.user_id, "repair_satisfaction")
    assert Answer(choice="very_dissatisfied") in kept and Answer(choice="fairly_satisfied") in kept, (
        "the hidden answers stay in the history")
    assert "start_page" not in answers and "glad_page" not in answers, "info pages store nothing"
    sends = [r for r in api.requests() if r.method.startswith(("send", "edit"))
             and r.params.get("chat_id") == tenant.user_id]
    typed = 9  # the tenant.says(...) above
    inputs = typed + len(api.requests("answerCallbackQuery"))  # every press is answered once
    assert len(sends) <= 1.1 * inputs, f"{len(sends)} message calls for {inputs} inputs"
    assert bot.stop() == 0
