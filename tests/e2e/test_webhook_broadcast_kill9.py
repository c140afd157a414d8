"""kill -9 of one of two webhook workers while they share a broadcast: the killed worker's sends in flight are
counted unknown and never sent again, the survivor's are recorded as sent, and the job is reported to staff once.

Telegram is made slow (every sendMessage waits a few seconds) once the broadcast is going, so both workers have sends
in flight; the test waits until the database shows the first worker's rows at 'sending', by its claimer name
(storage/claimers.py), and kills it there."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psycopg
import pytest

from storage import Database
from tests.botapi import BotApiServer
from tests.e2e.harness import eventually
from tests.e2e.webhook_workers import workers
from tests.staff.e2e_support import Staff, deliveries
from tests.staff.population import populate_db

pytestmark = [pytest.mark.webhook, pytest.mark.postgres, pytest.mark.slow]
COUNT = 120
TEXT = "Please finish by Friday"
SLOW = 4.0  # seconds every sendMessage hangs while the worker is killed


def populate(url: str) -> set[int]:
    """Tenants part-way through (the audience "Started but not finished"), written before the workers start."""

    async def run() -> set[int]:
        db = await Database.open(url)
        try:
            return set((await populate_db(db, {"part_way": COUNT}, start_id=6_700_000)).everyone)
        finally:
            await db.close()

    return asyncio.run(run())


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def test_a_worker_killed_mid_broadcast_leaves_its_sends_in_flight_unknown_and_the_other_finishes_the_job(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    recipients = populate(postgres_url)
    for user_id in recipients:
        api.add_chat(user_id)
    first, second = workers(api, tmp_path, postgres_url)  # WORKER_NAME w1 and w2
    staff = Staff(api)
    staff.open_broadcast()
    assert staff.prepare("Started but not finished", TEXT) == COUNT
    staff.confirm()
    eventually(lambda: len(deliveries(api, recipients, TEXT)) >= 20, 30, "the broadcast under way")
    eventually(lambda: all("sending to" in p.log() for p in (first, second)), 10, "both workers sending")
    api.set_delay("sendMessage", SLOW)
    in_flight_sql = ("SELECT user_id FROM broadcast_recipients WHERE status = 'sending' "
                     "AND claimed_by LIKE 'w1/%'")
    eventually(lambda: bool(rows(postgres_url, in_flight_sql)), 10, "the first worker's sends in flight")
    first.kill()
    killed_at = time.monotonic()  # the server's request log keeps monotonic arrival times
    left = {int(str(row[0])) for row in rows(postgres_url, in_flight_sql)}  # w1 can claim no more now
    assert left
    api.set_delay("sendMessage", 0)
    report = staff.wait_for_report(90)
    time.sleep(1.0)  # a send repeated, or a second report, would arrive now

    status = dict(rows(postgres_url, "SELECT user_id, status FROM broadcast_recipients"))
    assert {user for user in left if status[user] != "unknown"} == set(), "a killed worker's send was settled"
    assert set(status.values()) <= {"sent", "unknown"}
    delivered = deliveries(api, recipients, TEXT)
    assert max(delivered.values()) == 1, "somebody got the broadcast twice"
    sent = {user for user, s in status.items() if s == "sent"}
    assert sent <= set(delivered) and set(delivered) <= sent | {u for u, s in status.items() if s == "unknown"}
    again = [r for r in api.requests("sendMessage") if r.time > killed_at and r.params.get("chat_id") in left]
    assert again == [], "a killed worker's send was tried again"
    assert report["Sent"] == len(sent) and report["total"] == COUNT and report["Skipped"] == COUNT - len(sent)
    reports = [m for m in staff.messages() if "Broadcast finished" in (m.text or "")]
    assert len(reports) == 1 and "being sent when the bot stopped" in (reports[0].text or "")
    assert "in flight in a bot process that has stopped" in second.log()
    assert second.stop() == 0
