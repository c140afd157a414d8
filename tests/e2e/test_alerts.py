"""Alerts through the real bot process: staff opt in, a tenant's answer matches, and the staff member is told the
reference and the question, never the tenant's Telegram id nor their words; a tenant cannot opt in."""

from __future__ import annotations

import pytest

from storage import Database
from tests.botapi import BotApiServer
from tests.e2e.harness import CONSULTATION_ID, STAFF_ID, BotProcess, Tenant, read_database

pytestmark = pytest.mark.e2e
NOT_ALLOWED = "only for housing association staff"


def reference_of(bot: BotProcess, user_id: int) -> str:
    async def read(db: Database) -> str:
        respondent = await db.respondent(user_id)
        assert respondent is not None
        return respondent.reference

    return read_database(bot, read)


def audited(bot: BotProcess) -> list[tuple[int | None, str, str]]:
    async def read(db: Database) -> list[tuple[int | None, str, str]]:
        return [(e.actor_id, e.detail, e.outcome) for e in await db.audit_entries() if e.action == "alerts"]

    return read_database(bot, read)


def test_an_opted_in_staff_member_is_told_of_a_flagged_answer_by_reference_and_question(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    staff = Tenant(api, STAFF_ID)
    staff.says("/alerts", expect="You do not get alert messages")
    assert "No answer has been flagged yet" in staff.last_text()
    staff.says("/alerts on", expect="Alerts on")

    tenant.says("/start", expect="Is it OK to go ahead?")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("The black mould in my son's bedroom is back again", expect="send more")  # the reply is not held
    told = staff.wait("Alert: Damp and mould")
    reference = reference_of(bot, tenant.user_id)
    message = "\n".join(m.text or "" for m in told)
    assert reference in message and "question 1 (General procurement)" in message
    assert str(tenant.user_id) not in message and "mould in my son" not in message

    tenant.says("and it makes him cough", expect="added that")  # the same answer again: no second alert
    tenant.taps("Next", expect="Question 2 of 5")
    staff.says("/alerts", expect="Flagged answers")
    listing = staff.last_text()
    assert f"{reference} · Q1 General procurement · Damp and mould" in listing
    assert "You get a message here" in listing and str(tenant.user_id) not in listing
    assert sum("Alert: Damp and mould" in (m.text or "") for m in staff.messages()) == 1

    staff.says("/alerts off", expect="Alerts off")
    tenant.taps("Agree", expect="Why do you think that?")
    tenant.says("Local firms fixed the damp fast", expect="send more")
    tenant.taps("Next", expect="Question 3 of 5")
    staff.says("/alerts", expect="You do not get alert messages")  # and nothing came in between
    assert sum("Alert:" in (m.text or "") for m in staff.messages()) == 1
    assert [(a, d) for a, d, _ in audited(bot)] == [
        (STAFF_ID, f"{CONSULTATION_ID}: alert messages off"), (STAFF_ID, f"{CONSULTATION_ID}: alert messages on")]


def test_a_tenant_cannot_turn_alerts_on_and_the_attempt_is_audited(api: BotApiServer, bot: BotProcess,
                                                                   tenant: Tenant) -> None:
    tenant.says("/alerts on", expect=NOT_ALLOWED)
    tenant.says("/alerts", expect=NOT_ALLOWED)
    assert audited(bot) == [(tenant.user_id, "needs staff: not on the list", "refused")] * 2

    async def subscribers(db: Database) -> list[int]:
        return await db.alert_subscribers(CONSULTATION_ID)

    assert read_database(bot, subscribers) == []
