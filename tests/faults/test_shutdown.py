"""SIGTERM during 20 active conversations: the steps in hand finish, the bot exits within 10 s, nothing is lost."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from conversations.state import Answer
from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, current_answers, eventually
from tests.faults.conftest import assert_logs_clean
from tests.faults.figures import record

pytestmark = [pytest.mark.faults, pytest.mark.e2e]


def stored_q1(bot: BotProcess, user_ids: list[int]) -> dict[int, str]:
    """Each tenant's stored answer to question 1."""
    return {uid: (current_answers(bot, uid).get("q1_general") or Answer()).text or "" for uid in user_ids}


@pytest.mark.both_modes
def test_sigterm_during_twenty_conversations_loses_nothing(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], bot_mode: str
) -> None:
    bot = bot_factory().start()
    tenants = [Tenant(api, 6100000 + n) for n in range(20)]
    for tenant in tenants:
        tenant.says("/start", expect="Is it OK")
        tenant.taps("I agree", expect="Question 1 of 5")
    api.set_delay("sendMessage", 0.5)  # replies in flight when the signal lands
    for tenant in tenants:
        api.send_text(tenant.user_id, f"answer given just before shutdown by {tenant.user_id}")
    time.sleep(0.3)
    started = time.monotonic()
    exit_code = bot.stop()
    took = time.monotonic() - started
    api.set_delay("sendMessage", 0)
    stored_before_restart = stored_q1(bot, [t.user_id for t in tenants])
    in_hand = sum(1 for text in stored_before_restart.values() if text)
    bot_factory().start()  # anything not yet fetched is still waiting at Telegram
    for tenant in tenants:
        tenant.wait("got that", timeout=20)
    stored = stored_q1(bot, [t.user_id for t in tenants])
    lost = [uid for uid, text in stored.items() if f"by {uid}" not in text]
    record("shutdown", "SIGTERM during 20 conversations", mode=bot_mode, conversations=20, exit_code=exit_code,
           seconds_to_exit=round(took, 1), steps_finished_before_exit=in_hand, answers_lost=len(lost))
    assert exit_code == 0
    assert took < 10
    assert lost == []
    assert_logs_clean(bot, [f"answer given just before shutdown by {t.user_id}" for t in tenants])


def test_sigterm_after_a_long_api_outage_still_exits_within_ten_seconds(
    api: BotApiServer, bot_factory: Callable[..., BotProcess]
) -> None:
    """python-telegram-bot waits longer after each failed poll (up to 30 s) and does not cut the wait short on
    a stop; the bot's own retry must, or a restart during an outage takes half a minute."""
    bot = bot_factory().start()
    tenant = Tenant(api, 6200001)
    tenant.says("/start", expect="Is it OK")
    api.set_down(True)
    eventually(lambda: "could not be reached" in bot.log(), 20, "the first failed poll")
    time.sleep(36)  # python-telegram-bot's own back-off would now be in a 17 s wait
    started = time.monotonic()
    exit_code = bot.stop()
    took = time.monotonic() - started
    api.set_down(False)
    record("shutdown_outage", "SIGTERM after 36 s of Bot API outage", seconds_to_exit=round(took, 1),
           exit_code=exit_code)
    assert exit_code == 0
    assert took < 10, f"took {took:.1f} s to exit"
