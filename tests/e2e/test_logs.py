"""Logs never contain the token, and never contain a tenant's answer text at INFO."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant

pytestmark = pytest.mark.e2e
SECRET_ANSWER = "my neighbour at number 12 waited nine weeks"


def run_conversation(api: BotApiServer, bot: BotProcess) -> str:
    tenant = Tenant(api, 5550200)
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says(SECRET_ANSWER, expect="send more")
    tenant.taps("Next", expect="Question 2 of 5")
    assert bot.stop() == 0
    return bot.log()


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_the_token_and_answer_text_stay_out_of_info_logs(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], level: str
) -> None:
    log = run_conversation(api, bot_factory(LOG_LEVEL=level).start())
    assert log.strip(), "the bot wrote no log at all"
    assert api.token not in log
    assert api.token.split(":")[1] not in log
    info_and_above = [line for line in log.splitlines() if " DEBUG " not in line]
    assert not [line for line in info_and_above if SECRET_ANSWER in line]
    if level == "DEBUG":
        assert any(" DEBUG " in line for line in log.splitlines())
