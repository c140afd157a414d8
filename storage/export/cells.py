"""Cell values made safe for spreadsheets and times made readable, shared by every export format."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from storage.timestamps import from_db

# A spreadsheet treats a cell starting with one of these as a formula (or strips it and then does).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
# Characters the XLSX (XML 1.0) format cannot hold at all; openpyxl refuses them.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: str) -> str:
    """A leading quote keeps the text but stops Excel or LibreOffice running it as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def xlsx_text(value: str) -> str:
    """Neutralised, and with characters XML cannot carry replaced by U+FFFD so the cell is still written."""
    return XML_ILLEGAL.sub("\ufffd", neutralise(value))


@lru_cache(maxsize=4096)  # a step's transcript lines share one time: convert it once
def local(stored: str | None, zone: ZoneInfo) -> datetime | None:
    """A stored UTC instant as naive local time (spreadsheets have no zones; the header names it)."""
    if stored is None:
        return None
    return from_db(stored).astimezone(zone).replace(tzinfo=None, microsecond=0)


@lru_cache(maxsize=4096)
def local_text(stored: str | None, zone: ZoneInfo) -> str:
    """'2020-11-10 12:00:00' in the consultation's zone, or '' when there is no such time."""
    moment = local(stored, zone)
    return "" if moment is None else moment.isoformat(sep=" ")
