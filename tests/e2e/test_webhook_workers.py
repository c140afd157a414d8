"""Two webhook worker processes on one PostgreSQL, as deploy/docker-compose.yml runs them: the local Bot API server
posts each update to either worker at random, some twice and some twice at once, and a tenant's messages and button
presses travel in separate queues. Nothing is lost or applied twice, each tenant's updates are applied in order and
never two at once, and a worker killed with -9 loses nothing."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from storage.dialect import TENANT_LOCK
from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, eventually
from tests.e2e.journey import WHOLE_CONSULTATION
from tests.e2e.webhook_workers import holding, stored, take_part, waiting_on, workers
from tests.staff.e2e_support import Staff, deliveries

pytestmark = [pytest.mark.webhook, pytest.mark.postgres, pytest.mark.slow]
TENANTS = 100
# The answer rows six steps write, history included: the choice is stored, then replaced by choice and reason.
EVERY_ROW = ["q1_general=Repairs take too long and nobody rings back", "q2_local_suppliers=None",
             "q2_local_suppliers=It keeps jobs local"]
LINE = re.compile(r"^(\S+ \S+) INFO bot\.webhook\.processor: (applying|applied) update (\d+) ", re.M)


def run_tenants(api: BotApiServer, first: int, count: int, steps: int) -> list[BaseException]:
    """Tenants side by side, each in a thread of its own; the errors they met."""
    errors: list[BaseException] = []

    def one(user_id: int) -> None:
        try:
            take_part(Tenant(api, user_id), steps)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=one, args=(first + n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    return errors


def applied_spans(processes: list[BotProcess]) -> dict[int, list[tuple[datetime, datetime, str]]]:
    """Each update's (start, end, worker) from both workers' logs, by update id."""
    spans: dict[int, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for process in processes:
        started: dict[int, datetime] = {}
        for at, what, update in LINE.findall(process.log()):
            moment = datetime.strptime(at, "%Y-%m-%d %H:%M:%S,%f")
            if what == "applying":
                started[int(update)] = moment
            elif int(update) in started:
                spans[int(update)].append((started.pop(int(update)), moment, process.workdir.name))
    return spans


def test_two_workers_apply_every_update_once_in_each_tenants_order_with_no_overlap(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    api.duplicate_rate, api.concurrent_duplicate_rate = 0.1, 0.1  # Telegram sends some twice, some at once
    processes = workers(api, tmp_path, postgres_url)
    errors = run_tenants(api, 6_100_000, TENANTS, steps=6)  # start, agree, Q1, next, Q2 choice, Q2 reason
    api.wait_delivered(60)
    assert errors == [], f"{len(errors)} tenants were not answered: {errors[:3]}"
    deliveries = api.webhook_deliveries()
    assert {d.url.split("/telegram")[0] for d in deliveries} == set(api.webhook_targets or []), "both took updates"
    assert any(d.concurrent for d in deliveries) and any(d.redelivery for d in deliveries)
    answers, lines = stored(postgres_url)
    for n in range(TENANTS):
        user_id = 6_100_000 + n
        assert answers[user_id] == EVERY_ROW, f"tenant {user_id}: {answers[user_id]}"  # each step once, in order
        said = [line for line in lines[user_id] if line.startswith("in:")]
        assert len(said) == len(set(said)) or said.count("in:/start") == 1, f"an update applied twice: {said}"
    spans = applied_spans(processes)
    owner = {d.update_id: d.user_id for d in deliveries}
    by_tenant: dict[int, list[tuple[int, datetime, datetime]]] = defaultdict(list)
    for update_id, runs in spans.items():
        for begin, end, _worker in runs:
            by_tenant[owner[update_id]].append((update_id, begin, end))
    assert len(by_tenant) == TENANTS
    for user_id, runs in by_tenant.items():
        runs.sort(key=lambda run: run[1])
        assert [run[0] for run in runs] == sorted(run[0] for run in runs), f"tenant {user_id} out of order"
        for (_, _, end), (_, begin, _) in itertools.pairwise(runs):
            assert begin >= end, f"two of tenant {user_id}'s updates were applied at once"
    for process in processes:
        assert process.stop() == 0


def test_a_worker_killed_with_minus_9_loses_no_update_and_applies_none_twice(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    processes = workers(api, tmp_path, postgres_url)
    errors = run_tenants(api, 6_200_000, 20, steps=2)  # start and agree, spread over both
    assert errors == []
    survivor, victim = processes
    # kill one worker while tenants are part-way: what it acknowledged is in the inbox, what it did not is sent again
    results: list[BaseException] = []

    def rest() -> None:
        for n in range(20):
            tenant = Tenant(api, 6_200_000 + n)
            tenant.seen = len(tenant.messages())
            try:
                for action, what, expect in WHOLE_CONSULTATION[2:6]:
                    if action == "say":
                        tenant.says(what, expect=expect, timeout=60)
                    else:
                        tenant.taps(what, expect=expect, timeout=60)
            except BaseException as error:
                results.append(error)

    runner = threading.Thread(target=rest)
    runner.start()
    victim.wait_for_log("applied update", timeout=30)
    victim.kill()
    api.webhook_targets = [api.webhook_targets[0]]  # the proxy notices the dead worker
    runner.join(timeout=240)
    api.wait_delivered(60)
    assert results == [], f"{len(results)} tenants were left without a reply: {results[:3]}"
    answers, _ = stored(postgres_url)
    for n in range(20):
        assert answers[6_200_000 + n] == EVERY_ROW, answers[6_200_000 + n]
    assert survivor.stop() == 0


def test_a_broadcast_split_across_two_workers_reaches_each_recipient_once_within_the_rate(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    processes = workers(api, tmp_path, postgres_url)  # BROADCAST_RATE at its default, 20 a second
    first, count = 6_300_000, 80
    assert run_tenants(api, first, count, steps=3) == []  # agreed and part-way: "Started but not finished"
    recipients = set(range(first, first + count))
    staff = Staff(api)
    staff.open_broadcast()
    assert staff.prepare("Started but not finished", "Please finish by Friday") == count
    staff.confirm()
    eventually(lambda: len(deliveries(api, recipients, "Please finish")) == count, 60, "every recipient")
    report = staff.wait_for_report()  # once, by whichever worker found nothing waiting and nothing in flight
    assert (report["Sent"], report["Skipped"], report["total"]) == (count, 0, count), report
    time.sleep(1.0)  # anything sent twice, or a second report, would arrive now
    reports = [m for m in staff.messages() if "Broadcast finished" in (m.text or "")]
    assert len(reports) == 1, "the job was closed and reported by both workers"
    delivered = deliveries(api, recipients, "Please finish")
    assert set(delivered) == recipients and max(delivered.values()) == 1, "somebody got it twice, or not at all"
    both = [p for p in processes if re.search(r"broadcast \d+ .*sending to", p.log())]
    assert len(both) == 2, "the broadcast was not shared: one worker sent it all"
    times = sorted(r.time for r in api.requests("sendMessage")
                   if r.params.get("chat_id") in recipients and "Please finish" in str(r.params.get("text", "")))
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 20, \
        "the two workers together went over BROADCAST_RATE in some second"
    for process in processes:
        assert process.stop() == 0


def test_one_slow_tenant_does_not_delay_the_others_on_either_worker(
    api: BotApiServer, tmp_path: Path, postgres_url: str
) -> None:
    processes = workers(api, tmp_path, postgres_url)
    slow = Tenant(api, 6_500_000)
    take_part(slow, 2)  # at question 1
    # The slow tenant's next step cannot finish while the test holds its step lock: a step that takes minutes.
    with holding(postgres_url, TENANT_LOCK, slow.user_id):
        api.send_text(slow.user_id, "My answer takes a long time to store")
        eventually(lambda: waiting_on(postgres_url, "advisory"), 10, "the slow tenant's step to be under way")
        started = time.monotonic()
        errors = run_tenants(api, 6_500_001, 30, steps=4)  # 30 others, over both workers, meanwhile
        others_took = time.monotonic() - started
        assert errors == [], f"{len(errors)} tenants waited behind the slow one: {errors[:3]}"
        assert not any("send more" in (m.text or "") for m in slow.messages()), "the slow step finished early"
    slow.wait("send more", timeout=30)
    assert others_took < 30, f"30 tenants' four steps took {others_took:.1f} s with one tenant stuck"
    for process in processes:
        assert process.stop() == 0
