"""Start-up, ordering, shutdown and the closing time, against the real bot process."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from storage import Database
from tests.botapi import BotApiServer
from tests.e2e.harness import ADMIN_ID, STAFF_ID, BotProcess, Tenant, eventually, read_database

pytestmark = pytest.mark.e2e


def respondent_flags(bot: BotProcess, user_id: int) -> tuple[bool, bool]:
    """(reminders opted out, blocked) as stored."""

    async def read(db: Database) -> tuple[bool, bool]:
        found = await db.respondent(user_id)
        assert found is not None
        return found.reminders_opted_out, found.blocked

    return read_database(bot, read)


def test_the_command_menu_is_set_for_tenants_and_for_each_staff_chat(api: BotApiServer, bot: BotProcess) -> None:
    tenant_menu = [c["command"] for c in api.commands() or []]
    assert tenant_menu[:3] == ["start", "help", "review"] and "delete" in tenant_menu
    scoped = api.all_commands()
    staff_scopes = [scope for scope in scoped if str(STAFF_ID) in str(scope) or str(ADMIN_ID) in str(scope)]
    assert len(staff_scopes) == 2


def test_a_tenants_messages_sent_together_are_applied_in_order(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    for word in ["one", "two", "three", "four", "five", "six"]:
        api.send_text(tenant.user_id, word)
    tenant.wait("added")
    tenant.says("/review", expect="one\ntwo\nthree\nfour\nfive\nsix")


def test_sigterm_finishes_the_step_in_hand_and_exits_cleanly(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    api.set_delay("sendMessage", 1.5)  # the reply is in flight when the signal lands
    api.send_text(tenant.user_id, "Said just before shutdown")
    bot.wait_for_log("update", after=0)
    time.sleep(0.5)
    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 10
    api.set_delay("sendMessage", 0)
    assert any("I've got that" in (m.text or "") for m in tenant.messages())


def test_a_tenant_part_way_through_is_told_when_the_consultation_closes(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], tenant: Tenant
) -> None:
    closes = datetime.now(UTC) + timedelta(seconds=6)
    bot_factory(CONSULTATION_CLOSES_AT=closes.isoformat()).start()
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("Before the close", expect="send more")
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 0.2)
    tenant.says("After the close", expect="can't take any more answers")
    tenant.says("/review", expect="Before the close")
    assert "After the close" not in tenant.last_text()


def test_stop_and_reminders_switch_reminders_off_and_on(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.says("/stop", expect="won't send you any more reminders")
    assert respondent_flags(bot, tenant.user_id) == (True, False)
    tenant.says("/reminders", expect="reminders are on again")
    assert respondent_flags(bot, tenant.user_id) == (False, False)


def test_blocking_the_bot_marks_the_tenant_unreachable(api: BotApiServer, bot: BotProcess, tenant: Tenant) -> None:
    tenant.says("/start", expect="Is it OK")
    api.user_blocks_bot(tenant.user_id)
    eventually(lambda: respondent_flags(bot, tenant.user_id)[1], what="the blocked flag")
    api.user_unblocks_bot(tenant.user_id)
    eventually(lambda: not respondent_flags(bot, tenant.user_id)[1], what="the flag cleared")


def test_mydata_sends_the_tenant_a_copy_of_their_answers(api: BotApiServer, bot: BotProcess, tenant: Tenant) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("A copy of this, please", expect="send more")
    tenant.says("/mydata", expect="Your reference: R-")
    assert "A copy of this, please" in tenant.last_text()
