"""The SQL that differs between SQLite and PostgreSQL, all of it here: every other statement is written once,
in the SQL both understand (ON CONFLICT, RETURNING, '?' placeholders that storage/postgres/sql.py respells)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Advisory lock namespaces (PostgreSQL's two-int form): the first number says what the second one is.
TENANT_LOCK = 1
MIGRATION_LOCK = 2
REMINDER_LOCK = 3


@dataclass(frozen=True)
class Dialect:
    """Fragments of SQL spelled per backend."""

    name: str
    postgres: bool
    at_once: str  # broadcast_recipients.not_before meaning "no wait": '' in SQLite, -infinity in PostgreSQL

    @property
    def ordered_join(self) -> str:
        """An inner join whose left table SQLite must walk first (its CROSS JOIN hint); a plain JOIN elsewhere."""
        return "JOIN" if self.postgres else "CROSS JOIN"

    @property
    def epoch_now(self) -> str:
        """The database clock now, in seconds since 1970 (with fractions): what shared send slots are kept in."""
        if self.postgres:
            return "extract(epoch FROM clock_timestamp())::double precision"
        return "((julianday('now') - 2440587.5) * 86400.0)"

    def greatest(self, *values: str) -> str:
        """The largest of several values (SQLite's max() of several arguments)."""
        return f"{'greatest' if self.postgres else 'max'}({', '.join(values)})"

    def string_agg(self, expression: str, separator: str = "','") -> str:
        """Values joined into one text (order unspecified, as group_concat)."""
        if self.postgres:
            return f"string_agg(({expression})::text, {separator})"
        return f"group_concat({expression}, {separator})"

    def contains(self, haystack: str, needle: str) -> str:
        """A true/false test that needle occurs in haystack."""
        return f"strpos({haystack}, {needle}) > 0" if self.postgres else f"instr({haystack}, {needle}) > 0"

    def char(self, code: int) -> str:
        """The character with this code point, as SQL."""
        return f"chr({code})" if self.postgres else f"char({code})"

    def utc_hour(self, column: str) -> str:
        """'2020-11-10T12' for a stored time: SQLite keeps the text, PostgreSQL a timestamptz."""
        if self.postgres:
            return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')"
        return f"substr({column}, 1, 13)"

    def local_time_text(self, column: str, zone: str) -> str:
        """A stored time as naive local text in the zone named by SQL `zone` ('2020-11-10 12:00:00', whole seconds,
        as storage/export/cells.local_text writes it; '' for none). PostgreSQL only: SQLite knows no time zones,
        so there Python converts (cells.local_text)."""
        if not self.postgres:
            raise NotImplementedError("SQLite has no time zones: convert with storage.export.cells.local_text")
        return (f"CASE WHEN isfinite({column}) THEN to_char({column} AT TIME ZONE {zone}, 'YYYY-MM-DD HH24:MI:SS') "
                "ELSE '' END")

    def claim(self, alias: str) -> str:
        """Appended to a SELECT of rows to hand out: on PostgreSQL each goes to one worker, the others skip past
        it rather than wait (SQLite's single writer already hands each out once)."""
        return f" FOR UPDATE OF {alias} SKIP LOCKED" if self.postgres else ""

    def table_exists(self) -> str:
        """One row when a table named ? exists."""
        if self.postgres:
            return "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?"
        return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"


SQLITE = Dialect("sqlite", postgres=False, at_once="")
POSTGRES = Dialect("postgresql", postgres=True, at_once="-infinity")


def of(conn: Any) -> Dialect:
    """The dialect of a connection (storage/postgres's connections say so; aiosqlite's are SQLite)."""
    return POSTGRES if getattr(conn, "dialect", None) == "postgresql" else SQLITE


async def lock_tenant(conn: Any, user_id: int) -> None:
    """Serialise one tenant's steps across worker processes until this transaction ends. SQLite needs nothing:
    BEGIN IMMEDIATE already lets one writer in at a time."""
    if of(conn).postgres:
        await conn.execute("SELECT pg_advisory_xact_lock(?, hashtext(?::text))", (TENANT_LOCK, str(user_id)))


async def lock_migrations(conn: Any) -> None:
    """One process migrates at a time; the others wait, then find the schema current."""
    if of(conn).postgres:
        await conn.execute("SELECT pg_advisory_xact_lock(?, 0)", (MIGRATION_LOCK,))


async def lock_reminders(conn: Any) -> None:
    """One worker at a time decides whether a reminder is due and writes it: it goes out once, not once a worker."""
    if of(conn).postgres:
        await conn.execute("SELECT pg_advisory_xact_lock(?, 0)", (REMINDER_LOCK,))
