"""Delivers broadcast and reminder jobs from the database: paced, resumable after a crash, never twice to anyone.

The message in flight at a crash is delivered AT MOST ONCE. Before each send its recipient is marked 'sending'
in a committed write (a twentieth of a second's worth at a time, two chunks at most), with this process's claimer
name (storage/claimers.py). A process killed with rows at 'sending' leaves them there; they become 'unknown' and
are NOT sent again, as soon as another process sees that their claimer is dead: at its start-up, or, while a job
goes out, within SWEEP_SECONDS (on PostgreSQL a claimer is alive while its advisory lock is held; on SQLite only
this process's own claimer is). A tenant may miss that one message (staff see them counted as skipped), but nobody
ever gets a broadcast or a reminder twice. The same goes for a send whose answer was lost on the wire (a read
timeout): Telegram may have delivered it, so it is not repeated.
Rows another LIVE worker has at 'sending' are its own: nobody else gives them up or records them. Workers sharing a
job each send what they claim; one that finds nothing left to claim waits for the others' sends in flight (their
retries may come back to it), and the job is finished, audited and reported once, by whichever worker finds nothing
pending and nothing in flight.
A graceful stop (SIGTERM) hands claimed-but-unsent rows back, so nothing is lost then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.delivery.pacing import Pacer, retry_seconds
from bot.delivery.rate_limit import BULK, limit_args
from bot.delivery.transport import answer_may_be_lost
from bot.runtime import Runtime
from bot.staff.broadcast_progress import Progress
from conversations.screens.buttons import RESUME
from storage import Database, StorageUnavailableError, broadcasts, claimers, recipients, send_pace
from storage.broadcasts import Job
from storage.claimers import ClaimerLost, LocalClaimer, PostgresClaimer
from storage.recipients import Claimed, Outcome

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # tries per recipient for 5xx, network faults and 403s other than "blocked"
BACKOFF = (1.0, 3.0)  # seconds before the 2nd and 3rd tries (also keeps any chat under one message a second)
CHUNK_SECONDS = 0.05  # claimed this many seconds' worth at a time; two chunks (0.1 s) are the most a kill -9 costs
MAX_IN_FLIGHT = 16  # sends awaiting Telegram's answer at once; tenants' replies keep the rest of the pool
IDLE_SECONDS = 30.0
# On PostgreSQL another worker may have written the job: look this often, so every worker shares the sending.
SHARED_IDLE_SECONDS = 2.0
SWEEP_SECONDS = 2.0  # while a job goes out, a dead worker's rows at 'sending' become 'unknown' this soon
OTHERS_SECONDS = 0.5  # nothing left to claim but another worker's sends in flight: look again this often
BLOCKED = "bot was blocked by the user"


class DatabaseSlots:
    """The bulk rate kept by the database (storage/send_pace.py), for every worker together."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve(self, interval: float, catch_up: float) -> float:
        return await send_pace.reserve(self.db, interval, catch_up)

    async def pause(self, seconds: float) -> None:
        try:
            await send_pace.pause(self.db, seconds)
        except StorageUnavailableError as error:  # this worker still pauses; the others learn from their own 429
            log.warning("could not share a 429 pause with the other workers: %s", error)


def classify(error: TelegramError, attempts: int, now: datetime) -> tuple[str, datetime | None]:
    """(new status, next try) for a failed send; `attempts` includes this one."""
    if isinstance(error, Forbidden) and BLOCKED in str(error).lower():
        return "blocked", None
    if isinstance(error, BadRequest):  # chat not found, bad markup: trying again cannot help
        return "failed", None
    if answer_may_be_lost(error):  # it reached Telegram but the answer did not reach us: never repeat it
        return "unknown", None
    if isinstance(error, Forbidden | NetworkError) and attempts < MAX_ATTEMPTS:
        return "pending", now + timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])
    return "failed", None


class Broadcaster:
    """One background task: jobs in order, sends paced by one Pacer for all of them."""

    def __init__(self, runtime: Runtime, bot: ExtBot[Any], clock: Callable[[], datetime] | None = None) -> None:
        self.runtime = runtime
        self.bot = bot
        self.clock = clock or runtime.clock
        rate = runtime.settings.broadcast_rate
        # Several workers on one PostgreSQL share the rate through the database; SQLite has one worker per file.
        self.pacer = Pacer(rate, shared=DatabaseSlots(runtime.db) if runtime.db.postgres else None)
        self.chunk = max(1, round(rate * CHUNK_SECONDS))
        self.slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        # Bulk traffic in the shared rate limiter: under TELEGRAM_SEND_RATE, each chat's budget, and any 429's pause.
        self.rate_limit_args: Any = limit_args(bot, BULK)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._claimer: LocalClaimer | PostgresClaimer | None = None

    async def start(self) -> None:
        """Run in the background; nothing here touches the database, so a read-only file cannot stop start-up."""
        settings = self.runtime.settings
        if settings.broadcast_rate >= settings.send_rate:
            log.warning("BROADCAST_RATE (%s/s) leaves no room under TELEGRAM_SEND_RATE (%s/s) for tenants' replies; "
                        "replies still go first, but broadcasts will be slower than asked", settings.broadcast_rate,
                        settings.send_rate)
        self._task = asyncio.create_task(self._run(), name="broadcaster")

    async def _claimer_now(self) -> LocalClaimer | PostgresClaimer:
        """This process's claimer, opened (again, under a new name) when there is none or its lock was lost."""
        if self._claimer is not None and self._claimer.lost:
            await self._claimer.close()
            self._claimer = None
        if self._claimer is None:
            self._claimer = await claimers.open_claimer(self.runtime.db, self.runtime.settings.worker_name)
            log.info("broadcast claimer %s", self._claimer.name)
        return self._claimer

    async def _retire_claimer(self) -> None:
        """After a failed delivery the answers to this claimer's last sends may not have been stored, and every one
        of its sends has ended: its rows still at 'sending' are given up as unknown (never resent) under a new name,
        rather than waited for as a live worker's."""
        if self._claimer is not None:
            await self._claimer.close()
            self._claimer = None

    async def _recover(self, claimer: LocalClaimer | PostgresClaimer, job_id: int | None = None) -> None:
        """Settle what a dead process left in flight: those are never sent again (at-most-once). Another live
        worker's sends in flight are left to it."""
        given_up = await recipients.give_up_in_flight(self.runtime.db, claimer, job_id)
        if given_up:
            log.warning("%d broadcast messages were in flight in a bot process that has stopped; not sending them "
                        "again (at-most-once)", given_up)

    def wake(self) -> None:
        """A new job was written."""
        self._wake.set()

    async def stop(self, timeout: float = 5.0) -> None:
        """Finish the sends in flight, hand back the rest, and stop."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        if self._claimer is not None:  # after the last record: rows still at 'sending' now count as a dead one's
            await self._claimer.close()
            self._claimer = None

    async def _run(self) -> None:
        """Recover, then jobs oldest first, until stopped; a storage fault is logged and tried again shortly."""
        recovered = False
        while not self._stopping.is_set():
            try:
                claimer = await self._claimer_now()
                if not recovered:
                    await self._recover(claimer)
                    recovered = True
                self._wake.clear()
                jobs = await broadcasts.unfinished(self.runtime.db)
                if jobs:
                    await self._deliver(jobs[0], claimer)
                else:
                    idle = SHARED_IDLE_SECONDS if self.runtime.db.postgres else IDLE_SECONDS
                    await self._sleep(idle, self._wake)
            except ClaimerLost as error:  # the others may count this process's sends dead: a new name first
                log.warning("%s; carrying on under a new claimer name in 5 s", error)
                await self._sleep(5.0)
            except Exception:
                log.exception("broadcast delivery failed; trying again in 5 s")
                await self._retire_claimer()
                await self._sleep(5.0)

    async def _sleep(self, seconds: float, also: asyncio.Event | None = None) -> None:
        """Sleep, cut short by stop (or by `also`)."""
        waits = [asyncio.create_task(self._stopping.wait())]
        if also is not None:
            waits.append(asyncio.create_task(also.wait()))
        _done, pending = await asyncio.wait(waits, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def _deliver(self, job: Job, claimer: LocalClaimer | PostgresClaimer) -> None:
        """Claim, send and record a chunk at a time until nobody is left waiting; then report.

        The next chunk is claimed while this one is paced out, so sending never stalls between chunks; at most two
        chunks are 'sending' at once (CHUNK_SECONDS each), which is what a kill -9 can cost. Every SWEEP_SECONDS,
        and whenever nothing is left to claim, rows a dead worker left at 'sending' are given up. When nothing is
        pending but another live worker still has sends in flight, this one waits for them rather than finish.
        """
        db = self.runtime.db
        progress = Progress(self.runtime, self.bot, job)
        await progress.begin()
        log.info("broadcast %s (%s, %s): sending to %d", job.id, job.kind, job.audience, job.total)
        in_flight: list[asyncio.Task[Outcome]] = []
        unsaved: list[Outcome] = []  # answered or handed back, not yet stored
        batch: list[Claimed] = []
        next_sweep = time.monotonic() + SWEEP_SECONDS
        try:
            batch = await self._claim(job, claimer, in_flight, unsaved)
            while not self._stopping.is_set():
                if time.monotonic() >= next_sweep:
                    await self._recover(claimer, job.id)
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                if not batch:
                    if in_flight:  # the last answers may bring retries
                        await asyncio.wait(in_flight)
                    else:
                        due = await recipients.next_try(db, job.id)
                        if due is None:  # nobody waiting: done, unless another worker's sends are still in flight
                            await self._recover(claimer, job.id)
                            if not await recipients.in_flight(db, job.id):
                                break
                            await progress.update()
                            await self._sleep(OTHERS_SECONDS)
                        else:
                            await self._sleep((due - self.clock()).total_seconds())
                    batch = await self._claim(job, claimer, in_flight, unsaved)
                    continue
                claiming = asyncio.create_task(self._claim(job, claimer, in_flight, unsaved))
                current, batch = batch, []
                try:
                    in_flight.extend(await self._start_sends(job, current, unsaved))
                finally:
                    batch = await claiming  # claimed, not started: handed back below if we stop now
                await progress.update()
        finally:  # also on a storage fault: what Telegram already answered is kept if the database allows
            unsaved += [Outcome(c.user_id, "pending", c.attempts) for c in batch]
            await recipients.record(db, job.id, claimer, unsaved + list(await asyncio.gather(*in_flight)))
        if self._stopping.is_set():
            return
        tally = await broadcasts.finish(db, job.id, self.clock())
        if tally is None:  # another worker sharing the job closed it first (and reports it), or a retry came back
            log.info("broadcast %s: not closed here (closed by another worker, or a recipient is waiting again)",
                     job.id)
            return
        log.info("broadcast %s finished: sent %d, blocked %d, failed %d, skipped %d (unknown %d)", job.id,
                 tally.sent, tally.blocked, tally.failed, tally.skipped_all, tally.unknown)
        await progress.finish(tally)

    async def _claim(self, job: Job, claimer: LocalClaimer | PostgresClaimer, in_flight: list[asyncio.Task[Outcome]],
                     unsaved: list[Outcome]) -> list[Claimed]:
        """Store the answers in hand and claim the next chunk, in one write; on a fault the answers stay unsaved."""
        answered = [task for task in in_flight if task.done()]
        in_flight[:] = [task for task in in_flight if not task.done()]
        settle = unsaved + [task.result() for task in answered]
        unsaved.clear()
        try:
            return await recipients.claim(self.runtime.db, job, self.chunk, self.clock(), claimer, settle=settle)
        except BaseException:
            unsaved.extend(settle)
            raise

    async def _start_sends(self, job: Job, batch: list[Claimed], unsaved: list[Outcome]
                           ) -> list[asyncio.Task[Outcome]]:
        """Start each send at its paced moment; once stopping, hand the unstarted ones back untouched."""
        started: list[asyncio.Task[Outcome]] = []
        for claimed in batch:
            # A free slot first, then the paced moment: waiting for a slot after the pacer would let sends bunch up
            # behind a slow answer and leave together, more than BROADCAST_RATE in a second.
            await self.slots.acquire()
            if self._stopping.is_set() or not await self.pacer.wait(claimed.user_id, self._stopping):
                self.slots.release()
                unsaved.append(Outcome(claimed.user_id, "pending", claimed.attempts))
                continue
            started.append(asyncio.create_task(self._send(job, claimed)))
        return started

    async def _send(self, job: Job, claimed: Claimed) -> Outcome:
        """One message; never raises, so one bad chat cannot stop the job."""
        user_id, tries = claimed.user_id, claimed.attempts + 1
        try:
            await self.bot.send_message(chat_id=user_id, text=job.text, parse_mode=ParseMode.HTML,
                                        reply_markup=self._markup(job), rate_limit_args=self.rate_limit_args)
            return Outcome(user_id, "sent", tries)
        except RetryAfter as error:  # not delivered, and not the tenant's fault: pause everything, no attempt used
            seconds = retry_seconds(error)
            log.warning("Telegram asked for a %.1fs pause (429); broadcast %s waits", seconds, job.id)
            self.pacer.pause(seconds)
            return Outcome(user_id, "pending", claimed.attempts, self.clock() + timedelta(seconds=seconds))
        except TelegramError as error:
            status, next_try = classify(error, tries, self.clock())
            log.info("broadcast %s: a send failed (%s): %s", job.id, status, type(error).__name__)
            return Outcome(user_id, status, tries, next_try)
        except Exception:  # a bug or a closed client: we cannot know whether it went, so it is not repeated
            log.exception("broadcast %s: unexpected failure while sending", job.id)
            return Outcome(user_id, "unknown", tries)
        finally:
            self.slots.release()

    def _markup(self, job: Job) -> InlineKeyboardMarkup | None:
        """The resume button (reminders, and staff messages to those part-way through)."""
        if not job.resume_button:
            return None
        label = self.runtime.say("reminder_button")
        return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=RESUME)]])
