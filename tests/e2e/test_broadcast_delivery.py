"""Broadcasts to thousands against the local Bot API: 429s, blocked tenants, kill -9, the rate, tenants first."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.delivery.broadcaster import CHUNK_SECONDS, MAX_IN_FLIGHT
from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, eventually
from tests.staff.e2e_support import (
    Staff,
    deliveries,
    populated,
    query,
    recipient_statuses,
    sent_so_far,
    timed_reply,
    wait_until_done,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
# Broadcast-speed tests only (the one place the issue allows it): at the default 20 a second, two thousand recipients
# would take minutes. What they check (nobody twice, nobody lost, 429s obeyed) does not depend on the rate.
FAST = {"BROADCAST_RATE": "400", "TELEGRAM_SEND_RATE": "1000"}
KILLABLE = {"BROADCAST_RATE": "300", "TELEGRAM_SEND_RATE": "1000"}  # as FAST: 40% of 2,000 sent in seconds
AUDIENCE = "Started but not finished"


def start_broadcast(api: BotApiServer, text: str) -> tuple[Staff, int]:
    """Staff send `text` to everyone started but not finished; returns them and the previewed count."""
    staff = Staff(api)
    staff.open_broadcast()
    count = staff.prepare(AUDIENCE, text)
    staff.confirm()
    return staff, count


def test_a_broadcast_reaches_every_recipient_once_despite_429s_and_blocked_tenants(
    api: BotApiServer, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = bot_factory(**FAST)
    population = populated(bot, api, {"part_way": 2000, "finished": 100})
    recipients = population.expected("started_not_finished")
    blocked = set(sorted(recipients)[::20])  # 5% blocked the bot since they last wrote
    for chat in blocked:
        api.block_user(chat)
    flaky, broken = sorted(recipients - blocked)[:2]
    api.fail_next("sendMessage", error_code=502, chat_id=flaky)        # once: retried and delivered
    api.fail_next("sendMessage", error_code=500, chat_id=broken, times=10)  # every try: reported failed
    bot.start()
    staff, count = start_broadcast(api, "Please finish your answers by Friday")
    assert count == len(recipients)
    eventually(lambda: sent_so_far(bot) > 400, 30, "the broadcast under way")
    api.fail_next("sendMessage", error_code=429, retry_after=1, times=3)
    report = staff.wait_for_report(timeout=60)

    delivered = deliveries(api, recipients)
    assert max(delivered.values()) == 1, "somebody got the message twice"
    assert report["Sent"] == len(delivered) == len(recipients) - len(blocked) - 1
    assert report["Blocked the bot"] == len(blocked)
    assert report["Could not be reached"] == 1 and broken not in delivered and flaky in delivered
    assert report["Sent"] + report["Blocked the bot"] + report["Could not be reached"] == report["total"] == count
    marked = {row[0] for row in query(bot, "SELECT user_id FROM respondents WHERE blocked = 1")}
    assert marked == blocked
    # every 429 paused everything for its retry_after (sends already on the wire may land just after)
    sends = api.requests("sendMessage")
    for flood in (r for r in sends if r.status == 429):
        during = [r for r in sends if flood.time + 0.25 < r.time < flood.time + 0.95]
        assert during == [], f"{len(during)} sends during a 429 pause"
    assert bot.stop() == 0


def test_a_broadcast_killed_at_forty_percent_resumes_and_nobody_gets_it_twice(
    api: BotApiServer, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = bot_factory(**KILLABLE)
    population = populated(bot, api, {"part_way": 2000})
    recipients = population.expected("started_not_finished")
    bot.start()
    tenant = Tenant(api, 5550201)
    tenant.says("/start", expect="Is it OK")
    staff, _count = start_broadcast(api, "Reminder: the consultation closes soon")
    eventually(lambda: sent_so_far(bot) > 300, 20, "the broadcast under way")
    # a tenant's conversation during the broadcast still gets its replies promptly: replies go first
    waits = [timed_reply(tenant, "yes", "Question 1 of 5"), timed_reply(tenant, "More apprentices", "send more"),
             timed_reply(tenant, "and local firms", "added")]
    assert max(waits) < 2.0, f"tenant replies took {waits}"
    eventually(lambda: sent_so_far(bot) >= 0.4 * len(recipients), 20, "40% sent")
    bot.kill()
    at_kill = sum(deliveries(api, recipients).values())
    assert at_kill < len(recipients)

    restarted = bot_factory(**KILLABLE).start()
    report = staff.wait_for_report(timeout=60)
    delivered = deliveries(api, recipients)
    assert max(delivered.values()) == 1, "somebody got the message twice"
    statuses = recipient_statuses(restarted)
    assert statuses["sent"] + statuses["unknown"] == len(recipients)
    most = 2 * round(300 * CHUNK_SECONDS) + MAX_IN_FLIGHT
    assert statuses["unknown"] <= most, "at most two claimed chunks (0.1 s at 300/s) and the sends awaiting answers"
    assert statuses["sent"] <= len(delivered) <= statuses["sent"] + statuses["unknown"]
    assert report["Sent"] == statuses["sent"] and report["Skipped"] == statuses["unknown"]
    progress = [m for m in staff.messages() if "Sent to" in (m.text or "") or "Sending to" in (m.text or "")]
    assert len(progress) == 1, "progress is one message, edited"
    assert restarted.stop() == 0


def test_a_broadcast_never_exceeds_the_broadcast_rate_in_any_second(
    api: BotApiServer, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = bot_factory()  # BROADCAST_RATE at its default, 20
    population = populated(bot, api, {"part_way": 200})
    bot.start()
    staff, count = start_broadcast(api, "Twenty a second at most")
    report = staff.wait_for_report(timeout=30)
    assert report["Sent"] == count == 200
    recipients = set(population.expected("started_not_finished"))
    to_recipients = sorted(r.time for r in api.requests("sendMessage") if r.params.get("chat_id") in recipients)
    assert len(to_recipients) == 200
    # the staff member's own messages (the preview, the Send question, progress) are replies, not the broadcast
    assert max(sum(1 for t in to_recipients if start <= t < start + 1.0) for start in to_recipients) <= 20
    assert max(api.max_sends_in_any_second(chat_id=chat) for chat in population.everyone[:50]) <= 1
    wait_until_done(bot)
    assert bot.stop() == 0
