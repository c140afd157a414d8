"""kill -9 of a webhook worker at each moment that matters for one update, made to happen at exactly that moment.

The test holds, on a PostgreSQL connection of its own, the lock the worker is about to need, so the worker stops
at a known point; then it is killed, the lock let go, and the other worker (behind the same proxy) carries on.
The four moments: while storing the update (nothing committed, nothing acknowledged); stored but its 200 lost on
the way back (Telegram sends it again); acknowledged but not yet applied; and part-way through applying it (the
step's transaction open). Each time the update is applied exactly once: one answer row, one reply, one
"applied" line in the logs, and nothing left in the inbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from storage.dialect import TENANT_LOCK
from storage.tenant_locks import INBOX_TENANT_LOCK
from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, eventually
from tests.e2e.webhook_workers import holding, stored, take_part, waiting_on, workers

pytestmark = [pytest.mark.webhook, pytest.mark.postgres, pytest.mark.slow]
TENANT = 6_400_001
ANSWER = "Repairs take too long and nobody rings back"
REPLY = "send more"  # the bot's answer to a written reply: "...or send more"


@contextmanager
def connection(url: str, autocommit: bool = True) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url, autocommit=autocommit) as conn:
        yield conn


def inbox_rows(url: str) -> int:
    with connection(url) as conn:
        row = conn.execute("SELECT count(*) FROM update_inbox").fetchone()
    return int(row[0]) if row else 0


def ready_tenant(api: BotApiServer, tmp_path: Path, url: str) -> tuple[Tenant, BotProcess, BotProcess, str]:
    """Two workers; a tenant who agreed and is at question 1; from now on the proxy sends only to the victim."""
    victim, survivor = workers(api, tmp_path, url)
    targets = list(api.webhook_targets or [])
    api.webhook_targets = targets[:1]
    tenant = Tenant(api, TENANT)
    take_part(tenant, 2)  # /start, I agree: question 1, a written answer, is on the screen
    api.wait_delivered(10)
    return tenant, victim, survivor, targets[1]


def send_answer(api: BotApiServer, lose_ack: bool = False) -> int:
    """The tenant types their answer; its update id (known before the proxy posts it)."""
    api.pause_webhook()
    update_id = int(api.send_text(TENANT, ANSWER)["update_id"])
    if lose_ack:
        api.lose_acknowledgement(update_id)
    api.resume_webhook()
    return update_id


def applied_lines(process: BotProcess, update_id: int) -> int:
    return len(re.findall(rf"applied update {update_id} ", process.log()))


def assert_applied_once(api: BotApiServer, tenant: Tenant, url: str, update_id: int,
                        victim: BotProcess, survivor: BotProcess) -> None:
    """One answer row, one reply to it, one 'applied' line (the survivor's), nothing left waiting."""
    tenant.wait(REPLY, timeout=30)
    api.wait_delivered(30)
    eventually(lambda: inbox_rows(url) == 0, 10, "the inbox to empty")
    answers, lines = stored(url)
    assert answers[TENANT] == [f"q1_general={ANSWER}"], answers[TENANT]
    assert lines[TENANT].count(f"in:{ANSWER}") == 1, lines[TENANT]
    replies = [m for m in tenant.messages() if REPLY in (m.text or "")]
    assert len(replies) == 1, [m.text for m in replies]
    assert applied_lines(victim, update_id) == 0 and applied_lines(survivor, update_id) == 1
    assert survivor.stop() == 0


def test_a_worker_killed_while_storing_an_update_has_not_acknowledged_it_and_the_other_applies_it_once(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    tenant, victim, survivor, other = ready_tenant(api, tmp_path, postgres_url)
    with connection(postgres_url, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE update_inbox IN SHARE ROW EXCLUSIVE MODE")  # the worker's INSERT waits
        update_id = send_answer(api)
        eventually(lambda: waiting_on(postgres_url, "relation"), 10, "the victim to be storing the update")
        api.webhook_targets = [other]  # the proxy's next choice, once the victim is gone
        victim.kill()
        blocker.rollback()
    assert_applied_once(api, tenant, postgres_url, update_id, victim, survivor)
    first, *_rest, last = api.webhook_deliveries(update_id)
    assert f":{victim.env['WEBHOOK_PORT']}/" in first.url
    assert not first.acknowledged and first.status is None, "the victim answered although it was storing"
    assert last.acknowledged and last.url.startswith(other)


def test_a_worker_killed_after_storing_but_before_its_200_got_out_is_sent_again_and_the_update_applied_once(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    tenant, victim, survivor, other = ready_tenant(api, tmp_path, postgres_url)
    with holding(postgres_url, INBOX_TENANT_LOCK, TENANT):  # no one applies
        update_id = send_answer(api, lose_ack=True)
        eventually(lambda: api.webhook_deliveries(update_id), 10, "the proxy to post the update")
        api.webhook_targets = [other]  # where Telegram's second try goes
        eventually(lambda: api.webhook_deliveries(update_id)[0].finished_at, 10, "the victim's answer")
        assert inbox_rows(postgres_url) == 1, "the victim answered 200 before the update was stored"
        victim.kill()
        eventually(lambda: any(a.acknowledged for a in api.webhook_deliveries(update_id)), 20, "the second try")
    assert_applied_once(api, tenant, postgres_url, update_id, victim, survivor)
    attempts = api.webhook_deliveries(update_id)
    assert [(a.status, a.lost) for a in attempts] == [(200, True), (200, False)], attempts
    assert f"applying update {update_id} " not in victim.log()


def test_a_worker_killed_after_acknowledging_but_before_applying_loses_nothing(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    tenant, victim, survivor, other = ready_tenant(api, tmp_path, postgres_url)
    with holding(postgres_url, INBOX_TENANT_LOCK, TENANT):
        update_id = send_answer(api)
        eventually(lambda: any(a.acknowledged for a in api.webhook_deliveries(update_id)), 10, "the 200")
        api.webhook_targets = [other]
        victim.kill()
    assert_applied_once(api, tenant, postgres_url, update_id, victim, survivor)
    attempts = api.webhook_deliveries(update_id)
    assert len(attempts) == 1 and attempts[0].acknowledged, "an acknowledged update was sent again"
    assert f"applying update {update_id} " not in victim.log()


def test_a_worker_killed_part_way_through_applying_an_update_leaves_it_to_be_applied_once_by_the_other(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    tenant, victim, survivor, other = ready_tenant(api, tmp_path, postgres_url)
    with holding(postgres_url, TENANT_LOCK, TENANT):  # the step waits
        update_id = send_answer(api)
        victim.wait_for_log(f"applying update {update_id} ", timeout=10)
        eventually(lambda: waiting_on(postgres_url, "advisory"), 10, "the victim's step to wait inside its transaction")
        api.webhook_targets = [other]
        victim.kill()
    assert_applied_once(api, tenant, postgres_url, update_id, victim, survivor)
    assert len(api.webhook_deliveries(update_id)) == 1
