"""Instants as sortable UTC text, so SQL can compare them and exports need no time-zone guessing."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(at: datetime) -> str:
    """A fixed-width UTC ISO 8601 string; a naive datetime is refused because its zone would be a guess."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a stored time needs a time zone, got naive {at!r}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def to_db_or_none(at: datetime | None) -> str | None:
    """to_db for optional instants."""
    return None if at is None else to_db(at)


def from_db(text: str) -> datetime:
    """The aware UTC datetime that to_db wrote."""
    return datetime.fromisoformat(text)


def from_db_or_none(text: str | None) -> datetime | None:
    """from_db for optional columns."""
    return None if text is None else from_db(text)


def utc_now() -> datetime:
    """The current instant, for rows whose time the caller did not supply (audit lines, migrations)."""
    return datetime.now(UTC)
