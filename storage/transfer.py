"""Copying a whole consultation's data into another database (`consultation-bot migrate-db`), then proving the copy.

Any direction works (SQLite to PostgreSQL is the usual one; PostgreSQL to SQLite goes back; SQLite to SQLite copies),
because both sides are opened with Database.open, which migrates each to this version's schema first.

- The source is read inside one read transaction: a snapshot, so a bot still writing to it cannot tear the copy.
  Rows it writes after the snapshot are not copied (the bot should be stopped before it is switched over).
- The target is written in one transaction, after checking (under that transaction's locks) that it holds no rows:
  anything that goes wrong leaves it as it was. Rows keep their ids; PostgreSQL's identity sequences are then moved
  past the highest id, or the next answer the bot stores would collide with a copied one.
- Rows are streamed a batch at a time (a server-side cursor on PostgreSQL), so memory stays flat however big.
- Verification reads the committed target back on a connection of its own: per table the row count and a checksum
  of every column, compared with the same figures taken from the source's snapshot as it was copied.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiosqlite

from storage import dialect
from storage.database import Database
from storage.export.rows import snapshot
from storage.records import StorageUnavailableError
from storage.urls import POSTGRES_PREFIXES, PREFIX, is_postgres_url, postgres_url, sqlite_path, without_password

# Every table, parents before children (foreign keys are checked row by row). A migration that adds a table must add
# it here too: the copy refuses a database with a table it does not know, and tests/cli/test_migrate_db.py fails.
TABLES: tuple[str, ...] = (
    "respondents",
    "conversations",
    "answers",
    "transcript",
    "processed_updates",
    "update_inbox",  # updates acknowledged to Telegram (webhook mode) but not yet applied: the new bot applies them
    "audit_log",
    "broadcast_drafts",
    "broadcasts",
    "broadcast_recipients",
    "alert_flags",
    "alert_subscribers",
    "themes",
    "theme_codes",
    "theme_reviews",
)
# Each database's own, which Database.open wrote into the target as it migrated it: the schema's history, and the
# shared send pace (its one row is seeded by the migration and holds times on that server's own clock).
NOT_COPIED = ("schema_migrations", "send_pace")
AT_ONCE_COLUMNS = {("broadcast_recipients", "not_before")}  # '' as read on both backends; stored per dialect.at_once
BATCH = 1000


class TransferRefused(Exception):
    """The copy was refused or stopped. `key` names the wording (conversations/wording/admin.toml), which says what
    became of the target (nothing written, except after the commit: migrate_db_unchecked); `values` fill it in, and
    none holds a password."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(f"{key}: {values}")
        self.key = key
        self.values = values


@dataclass(frozen=True)
class TableCheck:
    """One table: rows and checksum in the source's snapshot, and in the committed copy."""

    name: str
    rows: int
    digest: str
    copied_rows: int
    copied_digest: str

    @property
    def same(self) -> bool:
        return self.rows == self.copied_rows and self.digest == self.copied_digest


@dataclass(frozen=True)
class TransferReport:
    """What was copied from where to where, and whether the copy matched."""

    source: str  # as it may be shown: a file, or a server URL without its password
    target: str
    tables: tuple[TableCheck, ...]
    seconds: float

    @property
    def verified(self) -> bool:
        return all(table.same for table in self.tables)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)

    def table(self, name: str) -> TableCheck:
        return next(table for table in self.tables if table.name == name)


class TransferMismatch(Exception):
    """The committed copy differs from the source: the report says where. The copy is left for inspection."""

    def __init__(self, report: TransferReport) -> None:
        differ = [table.name for table in report.tables if not table.same]
        super().__init__(f"the copy differs in {', '.join(differ)}")
        self.report = report


# ---------------------------------------------------------------- checksums


def _canonical(value: Any) -> Any:
    """A value as both backends read it back. PostgreSQL text cannot hold NUL, so storage/postgres stores a tenant's
    stray NUL as U+FFFD; the checksum reads both spellings as the one PostgreSQL keeps."""
    if isinstance(value, str):
        return value.replace("\0", "\ufffd")
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _encoded(row: Sequence[Any]) -> bytes:
    return json.dumps([_canonical(v) for v in row], ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class Digest:
    """sha256 of a table's rows. A table with an `id` is read in id order and hashed as one stream; the others come
    in no agreed order (SQLite and PostgreSQL sort text differently), so their rows' hashes are summed (mod 2^256):
    the same figure whatever the order, with no sort and no rows held."""

    def __init__(self, ordered: bool) -> None:
        self.ordered = ordered
        self._stream = hashlib.sha256()
        self._sum = 0

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        if self.ordered:
            for row in rows:
                self._stream.update(_encoded(row))
        else:
            for row in rows:
                self._sum += int.from_bytes(hashlib.sha256(_encoded(row)).digest(), "big")

    def hexdigest(self) -> str:
        if self.ordered:
            return self._stream.hexdigest()
        return (self._sum % (1 << 256)).to_bytes(32, "big").hex()


# ---------------------------------------------------------------- the catalogue, per backend


async def _tables(conn: aiosqlite.Connection) -> set[str]:
    if dialect.of(conn).postgres:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    return {str(row[0]) for row in await conn.execute_fetchall(sql)}


async def _columns(conn: aiosqlite.Connection, table: str) -> tuple[str, ...]:
    """The table's columns in their order (copied by name, so the two sides' order need not agree)."""
    if dialect.of(conn).postgres:
        rows = await conn.execute_fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", (table,))
        return tuple(str(row[0]) for row in rows)
    return tuple(str(row[1]) for row in await conn.execute_fetchall(f"PRAGMA table_info({table})"))


async def _hold_still(conn: aiosqlite.Connection, tables: Sequence[str]) -> None:
    """Nobody else writes these tables until the copy commits (SQLite's BEGIN IMMEDIATE already took the file's
    write lock), so the emptiness check and the copy are one act."""
    if dialect.of(conn).postgres:
        await conn.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")


async def _reset_identities(conn: aiosqlite.Connection) -> None:
    """PostgreSQL: each identity column's sequence moved to its table's highest copied id (an empty table is left
    alone), so the next row the bot writes gets a new id. SQLite takes max(id) + 1 by itself."""
    if not dialect.of(conn).postgres:
        return
    identities = await conn.execute_fetchall(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND is_identity = 'YES' ORDER BY table_name")
    for table, column in identities:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), max({column})) FROM {table} HAVING count(*) > 0",
            (table, column))


async def _chunks(conn: aiosqlite.Connection, sql: str, size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
    """A query's rows as tuples, `size` at a time, inside the caller's read transaction: flat memory on both."""
    if dialect.of(conn).postgres:
        async for chunk in conn.stream(sql, (), size, plain=True):  # type: ignore[attr-defined]
            yield chunk
        return
    async with conn.execute(sql) as cursor:
        cursor.row_factory = None  # bare tuples
        while chunk := list(await cursor.fetchmany(size)):
            yield chunk  # type: ignore[misc]


# ---------------------------------------------------------------- the copy


def _select(table: str, columns: Sequence[str]) -> str:
    order = " ORDER BY id" if "id" in columns else ""
    return f"SELECT {', '.join(columns)} FROM {table}{order}"


async def _refuse_unless_empty(conn: aiosqlite.Connection, where: str) -> None:
    """Inside the target's transaction: the first table holding rows (NOT_COPIED's aside) stops the copy."""
    for table in (*TABLES, *sorted(await _tables(conn) - set(TABLES) - set(NOT_COPIED))):
        if await conn.execute_fetchall(f"SELECT 1 FROM {table} LIMIT 1"):
            (count,) = await conn.execute_fetchall(f"SELECT count(*) FROM {table}")
            raise TransferRefused("migrate_db_not_empty", where=where, table=table, rows=int(count[0]))


async def _copy_table(source: aiosqlite.Connection, target: aiosqlite.Connection, table: str,
                      columns: tuple[str, ...], batch: int) -> tuple[int, str]:
    """Stream one table across; returns its row count and checksum as read from the source."""
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    at_once = [i for i, name in enumerate(columns) if (table, name) in AT_ONCE_COLUMNS]
    target_at_once = dialect.of(target).at_once
    digest, count = Digest(ordered="id" in columns), 0
    async for chunk in _chunks(source, _select(table, columns), batch):
        digest.add(chunk)
        count += len(chunk)
        if at_once:
            chunk = [tuple(target_at_once if i in at_once and v == "" else v for i, v in enumerate(row))
                     for row in chunk]
        await target.executemany(insert, chunk)
    return count, digest.hexdigest()


async def _check_schema(conn: aiosqlite.Connection, where: str) -> None:
    """Both sides must hold exactly the tables this version copies (both were just migrated to it)."""
    found = await _tables(conn) - set(NOT_COPIED)
    unknown, missing = sorted(found - set(TABLES)), sorted(set(TABLES) - found)
    if unknown or missing:
        raise TransferRefused("migrate_db_unknown_tables", where=where, tables=", ".join(unknown + missing))


async def _copy(source: Database, target: Database, batch: int) -> dict[str, tuple[tuple[str, ...], int, str]]:
    """Everything, in one read snapshot and one write transaction; per table its columns, rows and checksum."""
    copied: dict[str, tuple[tuple[str, ...], int, str]] = {}
    reading = await source.open_reader()
    try:
        async with snapshot(reading):
            await _check_schema(reading, source.where)
            columns = {table: await _columns(reading, table) for table in TABLES}
            async with target.transaction() as writing:
                await _check_schema(writing, target.where)
                await _hold_still(writing, TABLES)
                await _refuse_unless_empty(writing, target.where)
                for table in TABLES:
                    rows, digest = await _copy_table(reading, writing, table, columns[table], batch)
                    copied[table] = (columns[table], rows, digest)
                await _reset_identities(writing)
    finally:
        await reading.close()
    return copied


async def _read_back(target: Database, copied: dict[str, tuple[tuple[str, ...], int, str]], batch: int
                     ) -> list[TableCheck]:
    """The committed copy read on a connection of its own, in one snapshot: each table's count and checksum,
    computed as the source's were, beside the source's."""
    checks: list[TableCheck] = []
    reading = await target.open_reader()
    try:
        async with snapshot(reading):
            for table, (columns, rows, digest) in copied.items():
                back, count = Digest(ordered="id" in columns), 0
                async for chunk in _chunks(reading, _select(table, columns), batch):
                    back.add(chunk)
                    count += len(chunk)
                checks.append(TableCheck(table, rows, digest, count, back.hexdigest()))
    finally:
        await reading.close()
    return checks


# ---------------------------------------------------------------- the whole act


def _checked_url(option: str, url: str) -> str:
    """A --from or --to URL, refused in a sentence that names the option and never the password."""
    shown = without_password(url)
    if not url.startswith((PREFIX, *POSTGRES_PREFIXES)):
        raise TransferRefused("migrate_db_bad_url", option=option, url=shown)
    try:
        if is_postgres_url(url):
            postgres_url(url)
        else:
            sqlite_path(url)
    except ValueError as error:
        reason = str(error).replace(url, shown).replace("DATABASE_URL", option)
        raise TransferRefused("migrate_db_bad_url_reason", option=option, url=shown, reason=reason) from None
    return url


def _identity(url: str) -> tuple[object, ...]:
    """What makes two URLs the same database: the file, or the server and database name."""
    if is_postgres_url(url):
        parts = urlsplit(url)
        return ("postgresql", (parts.hostname or "localhost").lower(), parts.port or 5432, parts.path.strip("/"))
    return ("sqlite", sqlite_path(url).resolve())


def _database_errors() -> tuple[type[BaseException], ...]:
    """Errors of the databases themselves (unreachable, locked, not a database, a refused statement)."""
    errors: list[type[BaseException]] = [sqlite3.Error, StorageUnavailableError, OSError]
    try:
        import psycopg

        errors.append(psycopg.Error)
    except ImportError:  # pragma: no cover - psycopg is a dependency, but only PostgreSQL users load it
        pass
    return tuple(errors)


def _reason(error: BaseException, *urls: str) -> str:
    """An error's first line with every password taken out."""
    text = str(error).strip() or type(error).__name__
    for url in urls:
        text = text.replace(url, without_password(url))
        password = urlsplit(url).password if is_postgres_url(url) else None
        if password:
            text = text.replace(password, "***")
    return text.splitlines()[0]


async def _open(url: str, where: str, *urls: str) -> Database:
    """Database.open, with a PostgreSQL server asked once directly first: its own error (a wrong password, no such
    database) comes back at once, rather than the pool's timeout ten seconds later."""
    try:
        if is_postgres_url(url):
            from storage.postgres import connection as pg

            await (await pg.connect(url)).close()
        return await Database.open(url)
    except _database_errors() as error:
        raise TransferRefused("migrate_db_cannot_open", where=where, reason=_reason(error, *urls)) from None


async def transfer(from_url: str, to_url: str, batch: int = BATCH,
                   started: Callable[[str, str], None] | None = None) -> TransferReport:
    """Copy every row of `from_url` into the empty database `to_url` and verify it; see the module's docstring.
    `started(source, target)` is told once both are open, before the copy begins (the command says so then).

    Raises TransferRefused (see its wording for what became of the target) or TransferMismatch (written, but not
    as the source: not to be used)."""
    _checked_url("--from", from_url)
    _checked_url("--to", to_url)
    shown_from, shown_to = without_password(from_url), without_password(to_url)
    if _identity(from_url) == _identity(to_url):
        raise TransferRefused("migrate_db_same", where=shown_to)
    if not is_postgres_url(from_url) and not Path(sqlite_path(from_url)).is_file():
        raise TransferRefused("migrate_db_no_source", where=str(sqlite_path(from_url)))
    began = time.monotonic()
    source = await _open(from_url, shown_from, from_url, to_url)
    try:
        target = await _open(to_url, shown_to, from_url, to_url)
        try:
            await _refuse_unless_empty(target.reader, target.where)  # said now; checked again under the locks
            if started is not None:
                started(source.where, target.where)
            try:
                copied = await _copy(source, target, batch)
            except _database_errors() as error:
                raise TransferRefused("migrate_db_failed", where=target.where,
                                      reason=_reason(error, from_url, to_url)) from None
            try:
                checks = await _read_back(target, copied, batch)
            except _database_errors() as error:
                raise TransferRefused("migrate_db_unchecked", where=target.where,
                                      reason=_reason(error, from_url, to_url)) from None
            report = TransferReport(source.where, target.where, tuple(checks), time.monotonic() - began)
            if not report.verified:
                raise TransferMismatch(report)
            await target.audit(None, "migrate-db", f"copied from {source.where}: {report.rows} rows in "
                                                   f"{len(report.tables)} tables, counts and checksums verified")
            return report
        finally:
            await target.close()
    finally:
        await source.close()


__all__ = ["TABLES", "TableCheck", "TransferMismatch", "TransferRefused", "TransferReport", "transfer"]
