"""Loads the consultation the settings name, with any rehearsal dates applied in its own time zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.settings import Settings, SettingsError
from conversations.file.loader import load_consultation
from conversations.model import Consultation


def _in_zone(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A local override is read in the consultation's zone; one with an offset is kept as given."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def consultation_for(settings: Settings, file: Path | None = None) -> Consultation:
    """The consultation file (or the bundled one) with CONSULTATION_OPENS_AT / _CLOSES_AT applied."""
    consultation = load_consultation(file or settings.consultation_file)
    zone = consultation.timezone
    adjusted = consultation.with_window(_in_zone(settings.opens_at, zone), _in_zone(settings.closes_at, zone))
    if adjusted.closes_at <= adjusted.opens_at:
        raise SettingsError("CONSULTATION_CLOSES_AT is not after the opening time: the window would be empty")
    return adjusted
