"""When each reminder goes out: a pure function of the consultation and an injected clock (no Telegram, no I/O).

Rules, in the consultation's own time zone (Europe/London: GMT or BST as the date falls):
- "7d" before close means the same wall-clock time 7 calendar days earlier (17:00 stays 17:00 across BST/GMT);
  hours and minutes are counted in real elapsed time ("3h" before a 17:00 close is 14:00).
- Never in quiet hours (21:00-08:00 local): a reminder due then is deferred to 08:00, unless that is at or after
  the close, and then it is not sent at all.
- A reminder that fell due while the bot was not running is sent at start-up if it is at most LATE_GRACE late;
  older ones are dropped (a "one week left" message two days late would mislead).
- Reminders already sent (recorded in the database) are never planned again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conversations.model import Consultation, Reminder

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
LATE_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class ReminderTime:
    """One reminder's plan: when it is due by the file, and when (if ever) it will actually be sent."""

    reminder: Reminder
    due: datetime
    send_at: datetime | None
    why: str


def due_time(closes_at: datetime, before_close: timedelta, zone: ZoneInfo) -> datetime:
    """Close minus the offset: whole days on the local calendar, the rest in elapsed time; returned in UTC."""
    days = timedelta(days=before_close.days)
    rest = before_close - days
    local_close = closes_at.astimezone(zone)
    wall = (local_close.replace(tzinfo=None) - days).replace(tzinfo=zone)  # wall-clock, so 17:00 stays 17:00
    return wall.astimezone(UTC) - rest


def in_quiet_hours(moment: datetime, zone: ZoneInfo, start: time = QUIET_START, end: time = QUIET_END) -> bool:
    """True between `start` and `end` local time (the span crosses midnight)."""
    local = moment.astimezone(zone).time()
    return local >= start or local < end


def out_of_quiet_hours(moment: datetime, zone: ZoneInfo, start: time = QUIET_START,
                       end: time = QUIET_END) -> datetime:
    """The moment itself, or the next `end` (08:00 local) if it falls in quiet hours; in UTC."""
    if not in_quiet_hours(moment, zone, start, end):
        return moment.astimezone(UTC)
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1) if local.time() >= start else local.date()
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def plan_one(consultation: Consultation, reminder: Reminder, now: datetime, already_sent: bool = False
             ) -> ReminderTime:
    """The plan for one reminder at `now`."""
    zone, closes = consultation.timezone, consultation.closes_at
    due = due_time(closes, reminder.before_close, zone)
    if already_sent:
        return ReminderTime(reminder, due, None, "already sent")
    send_at, why = out_of_quiet_hours(due, zone), "on time"
    if send_at != due:
        why = "deferred out of quiet hours"
    if send_at < now:
        if now - send_at > LATE_GRACE:
            return ReminderTime(reminder, due, None, "missed while the bot was not running")
        send_at, why = out_of_quiet_hours(now, zone), "late: the bot was not running when it fell due"
    if send_at >= closes:
        return ReminderTime(reminder, due, None, "would fall after the close")
    if send_at < consultation.opens_at:
        return ReminderTime(reminder, due, None, "would fall before the consultation opens")
    return ReminderTime(reminder, due, send_at, why)


def plan(consultation: Consultation, now: datetime, sent: Collection[str] = ()) -> list[ReminderTime]:
    """Every reminder in the file, planned at `now`; the ones with send_at set are to be scheduled."""
    return [plan_one(consultation, r, now, r.id in sent) for r in consultation.reminders]
