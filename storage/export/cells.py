"""Cell values made safe for spreadsheets and times made readable, shared by every export format."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from storage.dialect import SQLITE, Dialect
from storage.timestamps import from_db

# A spreadsheet treats a cell starting with one of these as a formula (or strips it and then does).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
# Characters the XLSX (XML 1.0) format cannot hold at all; openpyxl refuses them.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: str) -> str:
    """A leading quote keeps the text but stops Excel or LibreOffice running it as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def neutralised_sql(column: str, spelled: Dialect = SQLITE) -> str:
    """neutralise() as an SQL expression, so the database can make a column safe while it reads it (NULL stays
    NULL). PostgreSQL's text holds no NUL, and its ascii() gives the first character's code point.

    SQLite's unicode() stops at a NUL and says NULL, as it does for '': a text it says NULL for that is not ''
    starts with a NUL (only then is the second test made, so the common case costs one call).
    """
    codes = ", ".join(str(ord(trigger)) for trigger in FORMULA_TRIGGERS if trigger != "\0")
    if spelled.postgres:
        return f"CASE WHEN ascii({column}) IN ({codes}) THEN '''' || {column} ELSE {column} END"
    return (f"CASE WHEN unicode({column}) IN ({codes}) OR (unicode({column}) IS NULL AND {column} != '') "
            f"THEN '''' || {column} ELSE {column} END")


def csv_field_sql(column: str, spelled: Dialect = SQLITE) -> str:
    """A text column as one CSV field, neutralised, exactly as csv.writer's excel dialect writes it: NULL as
    nothing, and in double quotes (inner quotes doubled) when it holds a comma, a quote or a line break.

    Neutralising adds a leading quote, which never changes whether a field needs quoting, so that is decided on
    the column itself and the neutralising expression appears only twice.
    """
    safe = neutralised_sql(column, spelled)
    special = " OR ".join(spelled.contains(column, char)
                          for char in ("','", "'\"'", spelled.char(10), spelled.char(13)))
    return (f"CASE WHEN {column} IS NULL THEN '' WHEN {special} "
            f"THEN '\"' || replace({safe}, '\"', '\"\"') || '\"' ELSE {safe} END")


def csv_field(value: str) -> str:
    """One field as csv.writer's excel dialect writes it (for the few written outside it: option labels)."""
    if any(char in value for char in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


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
def _offset_all_hour(hour: str, zone: ZoneInfo) -> timedelta | None:
    """The zone's UTC offset throughout this UTC hour ('2020-11-10T12'), or None if it changes within it."""
    start = datetime.fromisoformat(f"{hour}:00:00+00:00")
    first, last = start.astimezone(zone).utcoffset(), (start + timedelta(seconds=3599)).astimezone(zone).utcoffset()
    return first if first == last else None


@lru_cache(maxsize=4096)  # a step's transcript lines share one time: convert it once
def local_text(stored: str | None, zone: ZoneInfo) -> str:
    """'2020-11-10 12:00:00' in the consultation's zone, or '' when there is no such time.

    A CSV of 100,000 respondents has 300,000 distinct times: converting each through the zone was a fifth of the
    export's time, so the offset is worked out once per hour and added (the exact way when it changes that hour).
    """
    if stored is None:
        return ""
    offset = _offset_all_hour(stored[:13], zone) if len(stored) == 32 and stored.endswith("+00:00") else None
    if offset is None:
        moment = local(stored, zone)
        return "" if moment is None else moment.isoformat(sep=" ")
    return (datetime.fromisoformat(stored[:19]) + offset).isoformat(sep=" ")
