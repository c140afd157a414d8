"""The PostgreSQL spelling of every migration builds the same schema as the SQLite one: tables, columns in order,
nullability, defaults, keys, indexes and checks; ids BIGINT and times timestamptz; the audit log append-only."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from storage.migrations import MIGRATIONS

pytestmark = pytest.mark.postgres

# INTEGER columns that are counts, ranks and 0/1 flags: INTEGER on PostgreSQL too. Every other INTEGER is an id
# (Telegram's or a row's) or a tenant's number, and BIGINT. A new INTEGER column must be put in one or the other.
SMALL_INTEGERS = {
    "revision",
    "attempts",
    "total",
    "ask_rank",
    "reminders_opted_out",
    "blocked",
    "skipped",
    "is_current",
    "shown",
    "resume_button",
    "campaign",
}
TIMES = {"first_seen", "at", "since", "not_before"}  # and every *_at


def is_time(column: str) -> bool:
    return column in TIMES or column.endswith("_at")


def expected_postgres_type(column: str, sqlite_type: str) -> str:
    if sqlite_type == "INTEGER":
        return "integer" if column in SMALL_INTEGERS else "bigint"
    if sqlite_type == "REAL":
        return "double precision"
    assert sqlite_type == "TEXT", f"{column}: no rule for SQLite type {sqlite_type}"
    return "timestamp with time zone" if is_time(column) else "text"


@dataclass
class Schemas:
    sqlite: sqlite3.Connection
    postgres: psycopg.Connection

    def sqlite_tables(self) -> list[str]:
        rows = self.sqlite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [name for (name,) in rows]

    def postgres_tables(self) -> list[str]:
        rows = self.postgres.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename COLLATE \"C\""
        )
        return [name for (name,) in rows]


@pytest.fixture
def schemas(postgres_url: str) -> Iterator[Schemas]:
    """Both backends after every migration, each migration in its own transaction (as the runner does)."""
    lite = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        lite.executescript(migration.sql)
    pg = psycopg.connect(postgres_url)
    for migration in MIGRATIONS:
        with pg.transaction():
            pg.execute(migration.postgres)  # the whole script in one go: no parameters, so several statements
    pg.autocommit = True
    try:
        yield Schemas(lite, pg)
    finally:
        pg.close()
        lite.close()


def test_the_same_tables_with_the_same_columns_in_the_same_order(schemas: Schemas) -> None:
    tables = schemas.sqlite_tables()
    assert len(tables) == 16  # 14 through migration 5, the webhook inbox (6) and the shared send pace (7)
    assert schemas.postgres_tables() == tables
    for table in tables:
        lite = [row[1] for row in schemas.sqlite.execute(f"PRAGMA table_info({table})")]
        pg = [
            name
            for (name,) in schemas.postgres.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s ORDER BY ordinal_position",
                (table,),
            )
        ]
        assert pg == lite, table


def test_ids_are_bigint_times_are_timestamptz_and_nullability_and_defaults_match(schemas: Schemas) -> None:
    checked = 0
    for table in schemas.sqlite_tables():
        pg_columns = {
            name: (data_type, nullable == "YES", default, identity == "YES")
            for name, data_type, nullable, default, identity in schemas.postgres.execute(
                "SELECT column_name, data_type, is_nullable, column_default, is_identity "
                "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
                (table,),
            )
        }
        for _, name, sqlite_type, notnull, sqlite_default, pk in schemas.sqlite.execute(f"PRAGMA table_info({table})"):
            data_type, nullable, pg_default, identity = pg_columns[name]
            where = f"{table}.{name}"
            assert data_type == expected_postgres_type(name, sqlite_type), where
            assert nullable == (not notnull and not pk), where  # a key column is never NULL in either
            # SQLite's `id INTEGER PRIMARY KEY` numbers rows itself; PostgreSQL's id is an identity column.
            rowid_alias = pk == 1 and sqlite_type == "INTEGER" and name == "id"
            assert identity == rowid_alias, where
            if where == "broadcast_recipients.not_before":
                assert (sqlite_default, pg_default) == ("''", "'-infinity'::timestamp with time zone")
            elif sqlite_default is None:
                assert pg_default is None, where
            else:
                assert re.sub(r"::[a-z ]+$", "", pg_default) == sqlite_default, where
            checked += 1
    assert checked == 117  # 109 through migration 5, update_inbox's four, send_pace's three, claimed_by (8)


def index_columns(conn: sqlite3.Connection, index: str) -> list[str]:
    return [row[2] for row in conn.execute(f"PRAGMA index_info({index})")]


def test_every_index_keeps_its_name_columns_uniqueness_and_condition_and_primary_keys_match(schemas: Schemas) -> None:
    pg = {
        name: (table, list(columns), unique, partial)
        for name, table, columns, unique, partial in schemas.postgres.execute(
            """
            SELECT i.relname::text, t.relname::text,
                   array(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n),
                   x.indisunique, x.indpred IS NOT NULL
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace s ON s.oid = t.relnamespace
            WHERE s.nspname = 'public'
            """
        )
    }
    names = {
        name for (name,) in schemas.postgres.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
    }
    assert names == set(pg)
    named = 0
    for table in schemas.sqlite_tables():
        for _, name, unique, origin, partial in schemas.sqlite.execute(f"PRAGMA index_list({table})"):
            columns = index_columns(schemas.sqlite, name)
            if origin == "c":  # CREATE INDEX: the same name in PostgreSQL
                assert pg[name] == (table, columns, bool(unique), bool(partial)), name
                named += 1
            else:  # a PRIMARY KEY or UNIQUE's own index (sqlite_autoindex_...): PostgreSQL names its own
                assert (table, columns, True, False) in pg.values(), (table, columns)
    assert named == 14  # 13 through migration 5, and update_inbox_by_tenant
    pg_keys: dict[str, list[str]] = dict(
        schemas.postgres.execute(
            "SELECT c.conrelid::regclass::text, array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY "
            "AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) "
            "FROM pg_constraint c WHERE c.contype = 'p'"
        ).fetchall()
    )
    for table in schemas.sqlite_tables():
        key = sorted((row[5], row[1]) for row in schemas.sqlite.execute(f"PRAGMA table_info({table})") if row[5])
        assert pg_keys[table] == [name for _, name in key], table


def test_foreign_keys_cascade_alike(schemas: Schemas) -> None:
    lite = set()
    for table in schemas.sqlite_tables():
        grouped: dict[int, list[tuple[str, str, str, str]]] = {}
        for key_id, _, parent, column, parent_column, _, on_delete, _ in schemas.sqlite.execute(
            f"PRAGMA foreign_key_list({table})"
        ):
            grouped.setdefault(key_id, []).append((parent, column, parent_column, on_delete))
        for parts in grouped.values():
            lite.add((table, parts[0][0], tuple(p[1] for p in parts), tuple(p[2] for p in parts), parts[0][3].lower()))
    pg = {
        (table, parent, tuple(columns), tuple(parent_columns), "cascade" if action == "c" else action)
        for table, parent, columns, parent_columns, action in schemas.postgres.execute(
            """
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text,
                   array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n),
                   array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n),
                   c.confdeltype::text
            FROM pg_constraint c WHERE c.contype = 'f'
            """
        )
    }
    assert len(lite) == 8
    assert pg == lite


def test_each_table_has_as_many_checks(schemas: Schemas) -> None:
    pg: dict[str, int] = dict(
        schemas.postgres.execute(
            "SELECT conrelid::regclass::text, count(*) FROM pg_constraint WHERE contype = 'c' GROUP BY 1"
        ).fetchall()
    )
    total = 0
    for table, create in schemas.sqlite.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"):
        checks = len(re.findall(r"\bCHECK\b", re.sub(r"--[^\n]*", "", create)))  # ALTER TABLE ADD rewrites it
        assert pg.get(table, 0) == checks, table
        total += checks
    assert total == 19


def test_the_checks_and_keys_refuse_what_sqlite_refuses(schemas: Schemas) -> None:
    pg = schemas.postgres
    pg.execute("INSERT INTO respondents (user_id, reference, first_seen) VALUES (%s, 'R-1', now())", (2**40,))
    pg.execute(
        "INSERT INTO conversations (user_id, consultation_id, revision, state, stage, consultation_version, "
        "updated_at) VALUES (%s, 'c', 1, '{}', 'intro', 'v1', now())",
        (2**40,),
    )
    insert_answer = (
        "INSERT INTO answers (user_id, consultation_id, question_id, skipped, answered_at, consultation_version, "
        "is_current) VALUES (%s, 'c', 'q1', 0, '2020-11-04T09:00:00+00:00', 'v1', 1) RETURNING id"
    )
    row = pg.execute(insert_answer, (2**40,)).fetchone()
    assert row is not None
    with pytest.raises(psycopg.errors.UniqueViolation, match="answers_one_current"):
        pg.execute(insert_answer, (2**40,))
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("UPDATE respondents SET blocked = 2")
    with pytest.raises(psycopg.errors.CheckViolation):  # a reminder needs its reminder id
        pg.execute(
            "INSERT INTO broadcasts (consultation_id, kind, audience, text, created_at) "
            "VALUES ('c', 'reminder', 'all', 'hi', now())"
        )
    broadcast = pg.execute(
        "INSERT INTO broadcasts (consultation_id, kind, audience, text, created_at) "
        "VALUES ('c', 'staff', 'all', 'hi', now()) RETURNING id"
    ).fetchone()
    assert broadcast is not None
    pg.execute("INSERT INTO broadcast_recipients (broadcast_id, user_id) VALUES (%s, %s)", (broadcast[0], 2**40))
    # -infinity: at once, before every real time. (psycopg cannot load it as a datetime: compare it in SQL.)
    due = pg.execute("SELECT not_before = '-infinity', not_before <= now() FROM broadcast_recipients").fetchone()
    assert due == (True, True)
    pg.execute(
        "INSERT INTO theme_reviews (answer_id, consultation_id, question_id, verdict, machine_at) "
        "VALUES (%s, 'c', 'q1', 'themed', now())",
        (row[0],),
    )
    pg.execute("DELETE FROM respondents")  # erasure cascades to every table that hangs off the tenant
    for table in ("conversations", "answers", "broadcast_recipients", "theme_reviews"):
        assert pg.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_the_audit_log_refuses_update_delete_and_truncate(schemas: Schemas) -> None:
    pg = schemas.postgres
    pg.execute("INSERT INTO audit_log (at, actor_id, action) VALUES (now(), %s, 'export')", (2**40,))
    for statement in ("UPDATE audit_log SET outcome = 'failed'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        # an IntegrityError, as SQLite's RAISE(ABORT) gives sqlite3.IntegrityError
        with pytest.raises(psycopg.IntegrityError, match="the audit log is append-only"):
            pg.execute(statement)
    assert pg.execute("SELECT id, actor_id, outcome FROM audit_log").fetchall() == [(1, 2**40, "ok")]
    with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
        schemas.sqlite.execute("INSERT INTO audit_log (at, action) VALUES ('2020-11-04T09:00:00Z', 'export')")
        schemas.sqlite.execute("DELETE FROM audit_log")
