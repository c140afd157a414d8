"""A tenant takes the whole consultation on their phone: the real bot process over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, current_answers, settled

pytestmark = pytest.mark.e2e
# both_modes: all but the closed-consultation reply, which is the clock's and the same whoever fetches updates


def stored_answers(bot: BotProcess, user_id: int) -> dict[str, tuple[str | None, str | None, bool]]:
    """What the database holds for a tenant, read with the storage layer after the bot wrote it."""
    return {qid: (a.choice, a.text, a.skipped) for qid, a in current_answers(bot, user_id).items()}


@pytest.mark.both_modes
def test_a_tenant_takes_the_whole_consultation_from_start_to_submitted(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start poster", expect="Is it OK to go ahead?")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("Repairs take too long", expect="send more")
    tenant.says("and nobody rings back", expect="added")
    tenant.taps("Next", expect="Question 2 of 5")
    tenant.says("yes", expect="Why do you think that?")          # typed word for the Agree button
    tenant.says("Keeps jobs local", expect="send more")
    tenant.taps("Next", expect="Question 3 of 5")
    tenant.taps("Back", expect="Question 2 of 5")                 # back, and forward again
    tenant.taps("Skip", expect="Question 3 of 5")                 # skip keeps the answer already given
    tenant.taps("Skip", expect="Question 4 of 5")
    tenant.taps("Not sure", expect="Is there anything you would change")
    tenant.taps("Skip", expect="Question 5 of 5")
    tenant.says("Thank you for asking", expect="send more")
    tenant.taps("Next", expect="Your answers")
    tenant.taps("Change 3", expect="Question 3 of 5")             # change an answer from the review
    tenant.says("Kitchens are good quality", expect="send more")
    tenant.taps("Next", expect="Your answers")
    tenant.taps("Send my answers", expect="Thank you!")

    answers = stored_answers(bot, tenant.user_id)
    assert answers["q1_general"] == (None, "Repairs take too long\nand nobody rings back", False)
    assert answers["q2_local_suppliers"] == ("agree", "Keeps jobs local", False)
    assert answers["q3_cost_quality"] == (None, "Kitchens are good quality", False)
    assert answers["q4_environment"] == ("not_sure", None, False)
    assert answers["q5_other"] == (None, "Thank you for asking", False)
    # every press was answered; each step was one message, and the old buttons stayed (a later tap on them is stale)
    presses = api.requests("answerCallbackQuery")
    assert len(presses) == 12
    assert api.requests("editMessageReplyMarkup") == []
    assert len(api.requests("sendMessage")) == 19, "one message for each of the 19 things the tenant did"
    question_one = next(m for m in tenant.messages() if "Question 1 of 5" in (m.text or ""))
    assert question_one.buttons != []


@pytest.mark.both_modes
def test_two_tenants_interleaved_keep_their_own_answers(api: BotApiServer, bot: BotProcess) -> None:
    alice, bob = Tenant(api, 5550011), Tenant(api, 5550012)
    alice.says("/start", expect="Is it OK")
    bob.says("/start", expect="Is it OK")
    alice.taps("I agree", expect="Question 1 of 5")
    bob.taps("I agree", expect="Question 1 of 5")
    alice.says("Alice's idea", expect="send more")
    bob.says("Bob's idea", expect="send more")
    bob.taps("Next", expect="Question 2 of 5")
    alice.taps("Next", expect="Question 2 of 5")
    assert stored_answers(bot, alice.user_id)["q1_general"][1] == "Alice's idea"
    assert stored_answers(bot, bob.user_id)["q1_general"][1] == "Bob's idea"


@pytest.mark.both_modes
def test_a_restart_half_way_carries_on_at_the_same_question(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], tenant: Tenant
) -> None:
    first = bot_factory().start()
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("Before the restart", expect="send more")
    tenant.taps("Next", expect="Question 2 of 5")
    assert first.stop() == 0
    bot_factory().start()
    tenant.says("/start", expect="Question 2 of 5")
    assert "Welcome back" in tenant.last_text() or "Welcome back" in tenant.text_since(len(tenant.messages()) - 2)
    tenant.taps("Agree", expect="Why do you think that?")
    assert stored_answers(first, tenant.user_id)["q1_general"][1] == "Before the restart"


@pytest.mark.both_modes
def test_messages_sent_while_the_bot_was_down_are_answered_when_it_starts(
    api: BotApiServer, bot_factory: Callable[..., BotProcess]
) -> None:
    early = [Tenant(api, 5550100 + i) for i in range(3)]
    for person in early:
        api.send_text(person.user_id, "/start")
    bot_factory().start()
    for person in early:
        person.wait("Is it OK to go ahead?", timeout=20)


def test_after_the_close_a_new_tenant_is_told_when_it_closed(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], tenant: Tenant
) -> None:
    bot_factory(CONSULTATION_OPENS_AT="2020-11-04T09:00", CONSULTATION_CLOSES_AT="2020-11-30T17:00").start()
    tenant.says("/start", expect="closed on Monday 30 November 2020 at 5pm")


@pytest.mark.both_modes
def test_a_duplicated_update_is_applied_once(api: BotApiServer, bot: BotProcess, tenant: Tenant) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    api.duplicate_next()
    tenant.says("Said once", expect="send more")
    settled(bot, timeout=10)  # the duplicate fetched (polling), or posted, acknowledged and applied (webhook)
    if bot.webhook:
        assert any(d.redelivery for d in api.webhook_deliveries()), "the duplicate was never posted"
    tenant.says("/help", expect="Help")
    replies_to_answer = [m for m in tenant.messages() if "I've got that" in (m.text or "") or "added" in (m.text or "")]
    assert len(replies_to_answer) == 1
    assert stored_answers(bot, tenant.user_id)["q1_general"][1] == "Said once"


@pytest.mark.both_modes
def test_delete_then_start_gives_a_fresh_start_with_nothing_from_before(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("Something personal", expect="send more")
    tenant.says("/delete", expect="Are you sure?")
    tenant.taps("Yes, delete everything", expect="We have deleted")
    assert stored_answers(bot, tenant.user_id) == {}
    tenant.says("/start", expect="Is it OK to go ahead?")
    tenant.taps("I agree", expect="Question 1 of 5")
    assert "Your answer so far" not in tenant.last_text()
    tenant.says("/mydata", expect="Your data")
    assert "Something personal" not in tenant.last_text()
