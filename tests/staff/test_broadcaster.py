"""The broadcaster against a scripted fake bot: each outcome Telegram can give, once per tenant, and stop/resume;
on both backends (tests/staff/conftest.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery import broadcaster as broadcaster_module
from bot.delivery.broadcaster import Broadcaster
from bot.runtime import Runtime
from bot.settings import Settings
from conversations.model import Consultation
from storage import Database, StorageUnavailableError, broadcasts, claimers, recipients
from storage import broadcast_drafts as drafts
from storage.broadcast_drafts import Draft
from storage.broadcasts import Job
from storage.recipients import Outcome
from tests.staff.population import AT, CONSULTATION, Population, populate_db

STAFF = 900002


@dataclass
class Sent:
    message_id: int


class FakeBot:
    """Records sends; `script[chat]` lists errors to raise (in order) before that chat's sends succeed."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[tuple[int, str, Any]] = []
        self.edits: list[str] = []
        self.script: dict[int, list[Exception]] = {}
        self.delay = delay

    async def send_message(self, chat_id: int, text: str, parse_mode: Any = None, reply_markup: Any = None,
                           rate_limit_args: Any = None) -> Sent:
        if self.delay:
            await asyncio.sleep(self.delay)
        errors = self.script.get(chat_id)
        if errors:
            raise errors.pop(0)
        self.sent.append((chat_id, text, reply_markup))
        return Sent(len(self.sent))

    async def edit_message_text(self, text: str, **kwargs: Any) -> None:
        self.edits.append(text)

    def to(self, chat_id: int) -> int:
        return sum(1 for chat, _, _ in self.sent if chat == chat_id)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broadcaster_module, "BACKOFF", (0.05, 0.05))
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def population(db: Database) -> Population:
    return await populate_db(db, {"part_way": 30, "finished": 10})


def make_runtime(db: Database, consultation: Consultation, rate: float = 500) -> Runtime:
    runtime = Runtime(settings=Settings(bot_token="1:x", broadcast_rate=rate), consultation=consultation)
    runtime.database = db
    return runtime


async def staff_job(db: Database, audience: str = "started_not_finished") -> Job:
    await drafts.save(db, Draft(STAFF, "tok", "preview", AT, audience=audience, text="Hello <b>there</b>"))
    job = await broadcasts.create_staff_broadcast(db, CONSULTATION, STAFF, "tok", True, AT)
    assert job is not None
    return job


async def run_until_done(broadcaster: Broadcaster, db: Database, timeout: float = 10) -> None:
    await broadcaster.start()
    broadcaster.wake()
    async with asyncio.timeout(timeout):
        while await broadcasts.unfinished(db):
            await asyncio.sleep(0.02)
    await broadcaster.stop()


async def test_every_recipient_gets_the_message_once_with_a_resume_button_and_staff_get_a_report(
    db: Database, consultation: Consultation, population: Population
) -> None:
    job = await staff_job(db)
    bot = FakeBot()
    await run_until_done(Broadcaster(make_runtime(db, consultation), bot), db)  # type: ignore[arg-type]
    recipients = population.expected("started_not_finished")
    assert Counter(chat for chat, _, _ in bot.sent if chat in recipients) == dict.fromkeys(recipients, 1)
    markup = next(m for chat, _, m in bot.sent if chat in recipients)
    assert markup.inline_keyboard[0][0].callback_data == "resume"
    report = bot.sent[-1]
    assert report[0] == STAFF and "Sent: 30" in report[1] and f"Of {job.total}" in report[1]


async def test_each_kind_of_failure_ends_as_telegram_meant_it(
    db: Database, consultation: Consultation, population: Population
) -> None:
    await staff_job(db)
    a, b, c, d, e, f = sorted(population.expected("started_not_finished"))[:6]
    timed_out = TimedOut()
    timed_out.__cause__ = aiohttp.SocketTimeoutError("no answer")
    bot = FakeBot()
    bot.script = {
        a: [Forbidden("Forbidden: bot was blocked by the user")],
        b: [Forbidden("Forbidden: user is deactivated")],           # once, then delivered
        c: [NetworkError("Bad Gateway")] * 5,                         # every try: failed after MAX_ATTEMPTS
        d: [BadRequest("Bad Request: chat not found")],               # no point trying again
        e: [timed_out],                                               # may have arrived: never repeated
        f: [RetryAfter(1)] * 2,                                       # paused, then delivered; no attempt used
    }
    await run_until_done(Broadcaster(make_runtime(db, consultation), bot), db)  # type: ignore[arg-type]
    rows = await db.reader.execute_fetchall("SELECT user_id, status, attempts FROM broadcast_recipients")
    status = {row[0]: row[1] for row in rows}
    attempts = {row[0]: row[2] for row in rows}
    blocked = {row[0] for row in await db.reader.execute_fetchall("SELECT user_id FROM respondents WHERE blocked = 1")}
    assert [status[x] for x in (a, b, c, d, e, f)] == ["blocked", "sent", "failed", "failed", "unknown", "sent"]
    assert attempts[c] == broadcaster_module.MAX_ATTEMPTS and attempts[f] == 1
    assert blocked == {a}
    assert bot.to(e) == 0 and bot.to(b) == 1 and bot.to(f) == 1
    report = bot.sent[-1][1]
    assert "Blocked the bot: 1" in report and "Could not be reached: 2" in report and "Skipped: 1" in report


async def test_recipients_left_in_flight_by_a_crash_are_reported_not_resent(
    db: Database, consultation: Consultation, population: Population
) -> None:
    job = await staff_job(db, "agreed")
    crashed = await claimers.open_claimer(db, "crashed")
    in_flight = await recipients.claim(db, job, 3, AT, crashed)  # the process died right after this write
    await crashed.close()
    bot = FakeBot()
    await run_until_done(Broadcaster(make_runtime(db, consultation), bot), db)  # type: ignore[arg-type]
    assert all(bot.to(c.user_id) == 0 for c in in_flight)
    assert len([chat for chat, _, _ in bot.sent if chat != STAFF]) == job.total - 3
    assert "3 of the skipped were being sent when the bot stopped" in bot.sent[-1][1]


async def test_sends_whose_answers_the_database_failed_to_store_are_given_up_not_waited_for_for_ever(
    db: Database, consultation: Consultation, population: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await staff_job(db, "agreed")
    real_claim, real_record = recipients.claim, recipients.record
    failures: list[list[Outcome]] = []  # the answers each failed write held

    async def claim(db: Database, job: Job, limit: int, now: Any, claimer: Any, settle: Any = None) -> Any:
        if not failures and any(o.status == "sent" for o in settle or []):  # the database goes away here...
            failures.append(list(settle))
            raise StorageUnavailableError("disk I/O error")
        return await real_claim(db, job, limit, now, claimer, settle=settle)

    async def record(db: Database, job_id: int, claimer: Any, outcomes: list[Outcome]) -> None:
        if len(failures) == 1:  # ...and is still away when the broadcaster stores what it holds on the way out
            failures.append(list(outcomes))
            raise StorageUnavailableError("disk I/O error")
        await real_record(db, job_id, claimer, outcomes)

    monkeypatch.setattr(recipients, "claim", claim)
    monkeypatch.setattr(recipients, "record", record)
    bot = FakeBot()
    await run_until_done(Broadcaster(make_runtime(db, consultation), bot), db, timeout=20)  # type: ignore[arg-type]
    lost = [o.user_id for o in failures[1] if o.status == "sent"]
    assert lost, "the failed write held answers"
    rows = dict(await db.reader.execute_fetchall("SELECT user_id, status FROM broadcast_recipients"))
    assert {rows[user_id] for user_id in lost} == {"unknown"}, "a send whose answer was lost is counted unknown"
    assert all(bot.to(user_id) == 1 for user_id in lost), "and never sent again"
    assert Counter(chat for chat, _, _ in bot.sent if chat != STAFF) == dict.fromkeys(rows, 1)
    assert f"Of {job.total}" in bot.sent[-1][1]


async def test_a_graceful_stop_hands_back_what_it_had_not_sent_and_a_restart_finishes_the_job(
    db: Database, consultation: Consultation, population: Population
) -> None:
    job = await staff_job(db, "agreed")
    bot = FakeBot()
    first = Broadcaster(make_runtime(db, consultation, rate=20), bot)  # type: ignore[arg-type]
    await first.start()
    first.wake()
    await asyncio.sleep(0.5)
    await first.stop()
    sent_before = len(bot.sent)
    assert 0 < sent_before < job.total
    await run_until_done(Broadcaster(make_runtime(db, consultation), bot), db)  # type: ignore[arg-type]
    recipients = [chat for chat, _, _ in bot.sent if chat != STAFF]
    assert len(recipients) == len(set(recipients)) == job.total
    tally = await broadcasts.tally(db, job.id)
    assert tally.unknown == 0 and tally.sent == job.total
