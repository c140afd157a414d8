"""Tenants as respondents: a random reference instead of a name, where they came from, their flags, erasure."""

from __future__ import annotations

import re
import secrets
import sqlite3
from datetime import datetime

import aiosqlite

from storage import inbox
from storage.records import Respondent
from storage.timestamps import from_db, from_db_or_none, to_db

# No 0/O, 1/I/L or U: a reference is read out over the phone and typed into a spreadsheet.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6
SOURCE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
REFERENCE_ATTEMPTS = 20


def new_reference() -> str:
    """A random pseudonymous reference like R-7KQ2M9 (30^6, about 729 million possibilities)."""
    return "R-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def clean_source(source: str | None) -> str | None:
    """A /start payload kept only when short and plain (it arrives from any link anyone can craft)."""
    return source if source is not None and SOURCE.match(source) else None


async def ensure(conn: aiosqlite.Connection, user_id: int, source: str | None, at: datetime) -> None:
    """Create the respondent on first contact; fill in the source if it was not known yet."""
    source = clean_source(source)
    known = await conn.execute_fetchall("SELECT 1 FROM respondents WHERE user_id = ?", (user_id,))
    for _ in range(0 if known else REFERENCE_ATTEMPTS):
        # A reference already drawn inserts nothing (no error: a failed statement would end a PostgreSQL
        # transaction), and another is drawn.
        cursor = await conn.execute(
            "INSERT INTO respondents (user_id, reference, first_seen, source) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (reference) DO NOTHING",
            (user_id, new_reference(), to_db(at), source),
        )
        if cursor.rowcount == 1:
            break
    else:
        if not known:
            raise RuntimeError("could not draw an unused respondent reference")
    if source is not None:
        await conn.execute("UPDATE respondents SET source = ? WHERE user_id = ? AND source IS NULL", (source, user_id))


async def record_consent(
    conn: aiosqlite.Connection, user_id: int, given_at: datetime | None, withdrawn_at: datetime | None,
    privacy_version: str,
) -> None:
    """Consent given (with the notice's version) or withdrawn, on the respondent's row."""
    if given_at is not None:
        await conn.execute(
            "UPDATE respondents SET consent_privacy_version = ?, consent_given_at = ?, consent_withdrawn_at = NULL "
            "WHERE user_id = ?",
            (privacy_version, to_db(given_at), user_id),
        )
    elif withdrawn_at is not None:
        await conn.execute(
            "UPDATE respondents SET consent_withdrawn_at = ? WHERE user_id = ? AND consent_withdrawn_at IS NULL",
            (to_db(withdrawn_at), user_id),
        )


def _respondent(row: sqlite3.Row) -> Respondent:
    """A row as plain data."""
    return Respondent(
        user_id=row["user_id"],
        reference=row["reference"],
        first_seen=from_db(row["first_seen"]),
        source=row["source"],
        consent_privacy_version=row["consent_privacy_version"],
        consent_given_at=from_db_or_none(row["consent_given_at"]),
        consent_withdrawn_at=from_db_or_none(row["consent_withdrawn_at"]),
        reminders_opted_out=bool(row["reminders_opted_out"]),
        blocked=bool(row["blocked"]),
    )


async def get(conn: aiosqlite.Connection, user_id: int) -> Respondent | None:
    """The respondent, or None when this Telegram user never wrote (or was erased)."""
    rows = list(await conn.execute_fetchall("SELECT * FROM respondents WHERE user_id = ?", (user_id,)))
    return _respondent(rows[0]) if rows else None


async def set_flag(conn: aiosqlite.Connection, user_id: int, column: str, value: bool) -> bool:
    """Set reminders_opted_out or blocked; False when there is no such respondent."""
    if column not in ("reminders_opted_out", "blocked"):
        raise ValueError(f"not a respondent flag: {column}")
    async with conn.execute(f"UPDATE respondents SET {column} = ? WHERE user_id = ?", (int(value), user_id)) as cur:
        return cur.rowcount > 0


async def erase(conn: aiosqlite.Connection, user_id: int) -> str | None:
    """Delete everything about one tenant (not a flag); returns their old reference for the audit line."""
    rows = list(await conn.execute_fetchall("SELECT reference FROM respondents WHERE user_id = ?", (user_id,)))
    # Children first and explicitly, so erasure does not depend on a connection having foreign_keys on.
    await conn.execute("DELETE FROM alert_flags WHERE answer_id IN (SELECT id FROM answers WHERE user_id = ?)",
                       (user_id,))
    for table in ("transcript", "answers", "conversations"):
        await conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
    await conn.execute("DELETE FROM respondents WHERE user_id = ?", (user_id,))
    await inbox.erase_tenant(conn, user_id)  # webhook mode: their updates not yet applied, words and all
    return str(rows[0]["reference"]) if rows else None
