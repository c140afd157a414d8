"""The background work behind staff features: the broadcaster task and the reminder schedule, started and
stopped with the Application (the job queue and the task keep nothing across restarts; the database does)."""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import Application

from bot.delivery.broadcaster import Broadcaster
from bot.runtime import Runtime
from bot.staff.reminders import schedule_reminders
from storage import StorageUnavailableError

log = logging.getLogger(__name__)
KEY = "broadcaster"
RETRY_SECONDS = 60
STOP_SECONDS = 3.0  # sends in flight finish; SIGTERM to exit stays well under 10 s


def broadcaster_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Broadcaster:
    """The running broadcaster (started in post_init)."""
    broadcaster = application.bot_data[KEY]
    assert isinstance(broadcaster, Broadcaster)
    return broadcaster


async def start_staff_services(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_init, after the database is open: resume unfinished broadcasts, then schedule the reminders."""
    runtime: Runtime = application.bot_data["runtime"]
    broadcaster = Broadcaster(runtime, application.bot)
    application.bot_data[KEY] = broadcaster
    await broadcaster.start()
    await schedule_reminders_or_retry(application, broadcaster)


async def schedule_reminders_or_retry(application: Application[Any, Any, Any, Any, Any, Any],
                                      broadcaster: Broadcaster) -> None:
    """A database that cannot be read just now must not stop start-up: try the schedule again shortly."""
    try:
        await schedule_reminders(application, broadcaster)
    except StorageUnavailableError as error:
        log.error("could not read which reminders were sent (%s); trying again in %ss", error, RETRY_SECONDS)
        if application.job_queue is not None:
            async def retry(_context: object) -> None:
                await schedule_reminders_or_retry(application, broadcaster)

            application.job_queue.run_once(retry, RETRY_SECONDS, name="reminders:schedule")


async def stop_staff_services(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_stop (before the bot's HTTP client closes): let sends in flight finish, hand back the rest."""
    broadcaster = application.bot_data.pop(KEY, None)
    if isinstance(broadcaster, Broadcaster):
        await broadcaster.stop(STOP_SECONDS)
