"""Dates as a tenant reads them, in the consultation's own time zone (GMT or BST as the day falls)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """'Monday 30 November 2020 at 5pm' in the consultation's zone."""
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    clock = f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"
    if local.hour == 12 and local.minute == 0:
        clock = "midday"
    return f"{local:%A} {local.day} {local:%B %Y} at {clock}"
