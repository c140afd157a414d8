"""The consultation file's reminders on PTB's job queue, rebuilt from the database at every start-up.

The job queue keeps nothing across restarts, so the database is the record: a reminder is "sent" once its
broadcast row exists (unique per consultation and reminder), and a sent reminder is never scheduled again.
When each one goes out is decided by the pure plan in bot.staff.reminder_times.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext

from bot.runtime import Runtime
from bot.staff.reminder_times import ReminderTime, plan, plan_one
from storage import broadcasts

if TYPE_CHECKING:
    from bot.delivery.broadcaster import Broadcaster

log = logging.getLogger(__name__)
EARLY_TOLERANCE = timedelta(seconds=5)
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def _describe(runtime: Runtime, planned: ReminderTime) -> str:
    """A log line in local time, so whoever reads it need not convert from UTC."""
    zone = runtime.consultation.timezone
    when = planned.send_at.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z") if planned.send_at else "not sent"
    due = planned.due.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")
    return f"reminder {planned.reminder.id}: due {due}; {when} ({planned.why})"


async def schedule_reminders(application: AnyApplication, broadcaster: Broadcaster) -> int:
    """Schedule every reminder not yet sent; returns how many were scheduled."""
    runtime: Runtime = application.bot_data["runtime"]
    if application.job_queue is None:
        log.error("the job queue is not available (install python-telegram-bot[job-queue]); no reminders")
        return 0
    sent = await broadcasts.sent_reminder_ids(runtime.db, runtime.consultation.id)
    scheduled = 0
    for planned in plan(runtime.consultation, runtime.clock(), sent):
        log.info(_describe(runtime, planned))
        if planned.send_at is not None:
            _schedule(application, broadcaster, planned)
            scheduled += 1
    return scheduled


def _schedule(application: AnyApplication, broadcaster: Broadcaster, planned: ReminderTime) -> None:
    """One run_once job at the planned instant."""
    assert application.job_queue is not None and planned.send_at is not None
    reminder_id = planned.reminder.id

    async def fire(context: CallbackContext[Any, Any, Any, Any]) -> None:
        await send_reminder(application, broadcaster, reminder_id)

    application.job_queue.run_once(fire, when=planned.send_at, name=f"reminder:{reminder_id}")


async def send_reminder(application: AnyApplication, broadcaster: Broadcaster, reminder_id: str) -> bool:
    """At the planned time: check the plan again (clock, close, already sent), then write the job once."""
    runtime: Runtime = application.bot_data["runtime"]
    consultation, now = runtime.consultation, runtime.clock()
    reminder = next(r for r in consultation.reminders if r.id == reminder_id)
    sent = reminder_id in await broadcasts.sent_reminder_ids(runtime.db, consultation.id)
    planned = plan_one(consultation, reminder, now, sent)
    if planned.send_at is None:
        log.info("%s", _describe(runtime, planned))
        return False
    if planned.send_at - now > EARLY_TOLERANCE:
        _schedule(application, broadcaster, planned)
        return False
    job = await broadcasts.create_reminder(runtime.db, consultation.id, reminder.id, reminder.audience,
                                           reminder.text, now)
    if job is None:
        return False
    log.info("reminder %s written as broadcast %s for %d tenants", reminder.id, job.id, job.total)
    broadcaster.wake()
    return True
