"""Numbered migrations applied at start-up, one transaction each, and a refusal to touch a newer schema."""

from __future__ import annotations

import sqlite3
from typing import Any

from storage import dialect
from storage.migrations import MIGRATIONS, Migration
from storage.timestamps import to_db, utc_now

BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""
BOOTSTRAP_POSTGRES = BOOTSTRAP.replace("TEXT NOT NULL\n)", "timestamptz NOT NULL\n)")


class SchemaTooNewError(Exception):
    """The database was written by a newer bot; an older one must not guess at its tables."""

    def __init__(self, where: object, found: int, known: int) -> None:
        super().__init__(
            f"{where} was made by a newer version of the bot (database schema version {found}; "
            f"this version of the bot understands up to version {known}). "
            "Upgrade the bot, or point DATABASE_URL at another file."
        )
        self.found = found
        self.known = known


def statements(script: str) -> list[str]:
    """Split a migration into single statements (triggers included) using SQLite's own completeness test."""
    found: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    leftover = [ln for ln in pending.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if leftover:
        raise ValueError(f"migration ends with an unfinished statement: {leftover[0]!r}")
    return found


async def schema_version(conn: Any) -> int:
    """The highest migration applied, 0 for an empty database."""
    rows = list(await conn.execute_fetchall("SELECT coalesce(max(version), 0) FROM schema_migrations"))
    return int(rows[0][0])


async def current_without_writing(conn: Any, known: int) -> bool:
    """True when the schema is already at this code's version (checked with reads only)."""
    rows = list(await conn.execute_fetchall(dialect.of(conn).table_exists(), ("schema_migrations",)))
    return bool(rows) and await schema_version(conn) == known


async def _apply(conn: Any, migration: Migration) -> None:
    """One migration's statements: SQLite's one by one, PostgreSQL's script in one go."""
    if dialect.of(conn).postgres:
        await conn.execute_script(migration.postgres)
        return
    for statement in statements(migration.sql):
        await conn.execute(statement)


async def migrate(writer: Any, where: object, migrations: tuple[Migration, ...] = MIGRATIONS,
                  reader: Any = None) -> list[int]:
    """Bring the schema up to date; returns the versions applied now (empty when already current).

    `writer` gives transactions (storage/connection.py's Writer, or storage/postgres's Pool); `reader` reads
    outside them (the writer's own connection for SQLite). `where` names the database in messages."""
    reader = reader if reader is not None else writer.conn
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3, ... without gaps; got {versions}")
    known = len(migrations)
    if await current_without_writing(reader, known):
        return []  # nothing to do: a read-only file can still be opened and read
    async with writer.transaction() as conn:  # IMMEDIATE: a deferred write here can fail at once when racing
        await dialect.lock_migrations(conn)
        await conn.execute(BOOTSTRAP_POSTGRES if dialect.of(conn).postgres else BOOTSTRAP)
    found = await schema_version(reader)
    if found > known:
        raise SchemaTooNewError(where, found, known)
    applied: list[int] = []
    for migration in migrations[found:]:
        async with writer.transaction() as conn:
            # Checked again under the write lock: another process may have migrated in between.
            await dialect.lock_migrations(conn)
            if await schema_version(conn) >= migration.version:
                continue
            await _apply(conn, migration)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_db(utc_now())),
            )
        applied.append(migration.version)
    found = await schema_version(reader)
    if found > known:  # a newer bot migrated the file while we were starting
        raise SchemaTooNewError(where, found, known)
    return applied
