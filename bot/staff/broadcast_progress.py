"""What the staff member sees while a broadcast goes out: one message edited as it goes, then a report.

Nobody asked for these just now, so they are paced within the staff member's chat budget, like a flood's replies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.delivery.rate_limit import PACED, limit_args
from bot.runtime import Runtime
from storage import broadcasts
from storage.broadcasts import Job, Tally

log = logging.getLogger(__name__)
PROGRESS_EVERY = 3.0  # seconds between edits: well inside Telegram's limits for one chat


class Progress:
    """"Sent 1,200 of 4,310 …" in one message, edited at most every few seconds; nothing for reminders."""

    def __init__(self, runtime: Runtime, bot: ExtBot[Any], job: Job,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.bot = bot
        self.job = job
        self.clock = clock
        self.message_id = job.progress_message_id
        self.last_edit = 0.0
        self.last_text = ""

    @property
    def audience(self) -> str:
        """The audience as staff read it."""
        return self.runtime.say(f"audience_{self.job.audience}")

    async def begin(self) -> None:
        """Send the progress message (once: a resumed job edits the one it already has)."""
        job = self.job
        if job.staff_id is None:
            return
        if self.message_id is not None:
            await self.update(force=True)
            return
        tally = await broadcasts.tally(self.runtime.db, job.id)
        text = self._text("broadcast_progress", tally)
        try:
            message = await self.bot.send_message(job.staff_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as error:
            log.warning("could not show broadcast progress to staff: %s", error)
            return
        self.message_id, self.last_text, self.last_edit = message.message_id, text, self.clock()
        await broadcasts.set_progress_message(self.runtime.db, job.id, job.staff_id, message.message_id)

    async def update(self, force: bool = False, key: str = "broadcast_progress", tally: Tally | None = None) -> None:
        """Edit the numbers in, if a few seconds have passed since the last edit (or when forced)."""
        if self.job.staff_id is None or self.message_id is None:
            return
        if not force and self.clock() - self.last_edit < PROGRESS_EVERY:
            return
        tally = tally or await broadcasts.tally(self.runtime.db, self.job.id)
        text = self._text(key, tally)
        self.last_edit = self.clock()
        if text == self.last_text:
            return
        try:
            await self.bot.edit_message_text(text, chat_id=self.job.staff_id, message_id=self.message_id,
                                             parse_mode=ParseMode.HTML, rate_limit_args=limit_args(self.bot, PACED))
            self.last_text = text
        except BadRequest as error:  # deleted by the staff member, or unchanged: the report still comes
            log.info("could not edit broadcast progress: %s", error)
        except TelegramError as error:
            log.warning("could not edit broadcast progress: %s", error)

    async def finish(self, tally: Tally) -> None:
        """Final numbers in the progress message, and the report as a new message (so it notifies)."""
        if self.job.staff_id is None:
            return
        await self.update(force=True, key="broadcast_progress_done", tally=tally)
        say = self.runtime.say
        text = say("broadcast_report", audience=self.audience, sent=tally.sent, blocked=tally.blocked,
                   failed=tally.failed, skipped=tally.skipped_all, total=tally.total)
        if tally.unknown:
            text += "\n\n" + say("broadcast_report_unknown", unknown=tally.unknown)
        try:
            await self.bot.send_message(self.job.staff_id, text, parse_mode=ParseMode.HTML,
                                        rate_limit_args=limit_args(self.bot, PACED))
        except TelegramError as error:
            log.warning("could not send the broadcast report to staff: %s", error)

    def _text(self, key: str, tally: Tally) -> str:
        """One of the progress wordings, filled in."""
        return self.runtime.say(key, audience=self.audience, sent=tally.sent, total=tally.total)
