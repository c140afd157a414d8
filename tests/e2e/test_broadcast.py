"""/broadcast end to end: exact counts in the preview, refusals audited, a restart mid-flow, staff as tenants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import ADMIN_ID, STAFF_ID, BotProcess, Tenant, query, read_database
from tests.staff.e2e_support import Staff, deliveries, populated
from tests.staff.population import Population, populate_db

pytestmark = pytest.mark.e2e
# both_modes: all but the forwarded keyboard, which tests/faults/test_authorisation.py presses in both modes
MIX = {"new": 150, "declined": 100, "agreed_not_started": 400, "part_way": 700, "finished": 650}
LABELS = {"started_not_finished": "Started but not finished", "finished": "Finished",
          "agreed": "Everyone who agreed to take part", "took_part": "Everyone who took part"}
NOT_ALLOWED = "only for housing association staff"


def populated_in_mode(bot: BotProcess, api: BotApiServer, counts: dict[str, int], **options: Any) -> Population:
    """tests.staff's population written into the bot's database before it starts: its SQLite file as
    tests.staff.e2e_support does it, or its PostgreSQL database through the storage layer."""
    if bot.on_sqlite:
        return populated(bot, api, counts, **options)
    population = read_database(bot, lambda db: populate_db(db, counts, **options))
    for user_id in population.everyone:
        api.add_chat(user_id)
    return population


@pytest.mark.both_modes
def test_the_preview_shows_the_exact_number_each_audience_will_reach(
    api: BotApiServer, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = bot_factory()
    population = populated_in_mode(bot, api, MIX, opted_out_every=9, blocked_every=13)
    bot.start()
    staff = Staff(api)
    buttons = staff.open_broadcast()
    expected = {LABELS[a]: len(population.expected(a)) for a in ("started_not_finished", "finished", "agreed")}
    assert buttons == expected  # "took part" is for after the close
    for audience in ("started_not_finished", "finished", "agreed"):
        if audience != "started_not_finished":
            staff.open_broadcast()
        assert staff.prepare(LABELS[audience], f"Hello, {audience}") == len(population.expected(audience))
        staff.taps_and_sees("Cancel", "Nothing was sent")
    assert sum(deliveries(api, set(population.everyone)).values()) == 0
    assert bot.stop() == 0

    closed = bot_factory(CONSULTATION_CLOSES_AT=(datetime.now(UTC) - timedelta(hours=1)).isoformat()).start()
    buttons = staff.open_broadcast()
    assert buttons[LABELS["took_part"]] == len(population.expected("took_part"))
    assert staff.prepare(LABELS["took_part"], "You said, we did") == len(population.expected("took_part"))
    assert closed.stop() == 0


@pytest.mark.both_modes
def test_a_tenant_and_a_stranger_are_refused_broadcast_and_stats_and_the_attempts_audited(
    api: BotApiServer, bot: BotProcess
) -> None:
    tenant, stranger = Tenant(api, 5550101), Tenant(api, 5550102)
    tenant.says("/start", expect="Is it OK")
    for person in (tenant, stranger):
        person.says("/broadcast", expect=NOT_ALLOWED)
    refused = query(bot, "SELECT actor_id, action FROM audit_log WHERE outcome = 'refused'")
    assert {(tenant.user_id, "broadcast"), (stranger.user_id, "broadcast")} <= set(refused)
    # /stats belongs to the statistics work (issue 6); when it is registered it must refuse them too.
    for person in (tenant, stranger):
        reply = person.says("/stats")
        if not any(NOT_ALLOWED in (m.text or "") for m in reply):
            pytest.skip("/stats is not registered yet: only the /broadcast refusals were checked")
    refused = query(bot, "SELECT actor_id, action FROM audit_log WHERE outcome = 'refused'")
    assert {tenant.user_id, stranger.user_id} <= {actor for actor, action in refused if action == "stats"}


def test_a_broadcast_keyboard_works_only_for_the_staff_member_who_opened_it(
    api: BotApiServer, bot: BotProcess
) -> None:
    staff = Staff(api)
    staff.open_broadcast()
    _menu, data = staff.find_exact_button("Finished")
    # The keyboard is forwarded: a stranger, a group and another staff member each press a copy in their own chat.
    stranger, colleague, group = Tenant(api, 5550103), Tenant(api, ADMIN_ID), -100777
    stranger.says("/start", expect="Is it OK")
    colleague.says("/start", expect="Is it OK")
    api.send_text(5550104, "hello everyone", chat_type="group", chat_id=group)
    in_group = api.wait_for_messages(group, 1)[-1]
    api.press_button(stranger.user_id, stranger.messages()[-1].message_id, data)
    api.press_button(5550104, in_group.message_id, data, chat_id=group)
    api.press_button(colleague.user_id, colleague.messages()[-1].message_id, data)
    answers = {a.user_id: a.text or "" for a in api.wait_for_callback_answers(3)}
    assert NOT_ALLOWED in answers[stranger.user_id] and NOT_ALLOWED in answers[5550104]
    assert "another staff member" in answers[colleague.user_id]
    refused = {row[0] for row in query(bot, "SELECT actor_id FROM audit_log WHERE outcome = 'refused'")}
    assert {stranger.user_id, 5550104, colleague.user_id} <= refused
    staff.taps_and_sees("Finished", "Now type your message")  # still the owner's to use


@pytest.mark.both_modes
def test_a_staff_member_can_take_part_as_a_tenant_and_their_broadcast_text_is_not_an_answer(
    api: BotApiServer, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = bot_factory().start()
    staff = Staff(api)
    staff.says("/start", expect="Is it OK")
    staff.taps("I agree", expect="Question 1 of 5")
    staff.open_broadcast()
    staff.taps_and_sees("Everyone who agreed to take part", "Now type your message")
    bot.kill()  # a restart part-way through the flow: the draft is in the database
    bot = bot_factory().start()
    staff.says("Please finish by Friday", expect="Recipients: 1")  # the staff member is a tenant who agreed
    staff.taps_and_sees("Cancel", "Nothing was sent")
    staff.says("Repairs should be quicker", expect="send more")  # back to being a tenant
    answers = query(bot, "SELECT text FROM answers WHERE user_id = ? AND is_current = 1", STAFF_ID)
    assert answers == [("Repairs should be quicker",)]
    assert bot.stop() == 0
