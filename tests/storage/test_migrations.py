"""The schema comes from numbered migrations: applied once, never half, and never to a newer file."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import Database, SchemaTooNewError, sqlite_path
from storage.connection import Writer, connect
from storage.migrate import migrate, statements
from storage.migrations import MIGRATIONS, Migration

CURRENT = [m.version for m in MIGRATIONS]
NEXT = len(MIGRATIONS) + 1
EXTRA = Migration(NEXT, "add_notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
                  "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT);\n")


pytestmark = pytest.mark.sqlite_only  # the file itself; PostgreSQL's own are in test_postgres_storage.py


def versions(path: Path) -> list[int]:
    """What schema_migrations says, read without the code under test."""
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def tables(path: Path) -> set[str]:
    """Table names in the file."""
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_an_empty_file_gets_every_migration_and_its_parent_folder(url: str) -> None:
    path = sqlite_path(url)
    assert not path.parent.exists()
    async with await Database.open(url) as db:
        assert await db.integrity_check() == "ok"
    assert versions(path) == [m.version for m in MIGRATIONS]
    expected = {"respondents", "conversations", "answers", "transcript", "processed_updates", "audit_log"}
    assert expected <= tables(path)


async def test_opening_an_up_to_date_file_again_applies_nothing(url: str) -> None:
    path = sqlite_path(url)
    for _ in range(2):
        async with await Database.open(url):
            pass
    writer = Writer(await connect(path))
    try:
        assert await migrate(writer, path) == []
    finally:
        await writer.close()
    assert versions(path) == CURRENT


async def test_a_later_migration_is_applied_once_to_an_existing_file(url: str) -> None:
    path = sqlite_path(url)
    async with await Database.open(url):
        pass
    writer = Writer(await connect(path))
    try:
        assert await migrate(writer, path, (*MIGRATIONS, EXTRA)) == [NEXT]
        assert await migrate(writer, path, (*MIGRATIONS, EXTRA)) == []
    finally:
        await writer.close()
    assert versions(path) == [*CURRENT, NEXT]
    assert "notes" in tables(path)


async def test_a_failing_migration_leaves_the_schema_as_it_was(url: str) -> None:
    path = sqlite_path(url)
    async with await Database.open(url):
        pass
    broken = Migration(NEXT, "broken", "CREATE TABLE half (a);\nINSERT INTO no_such_table VALUES (1);\n", "")
    writer = Writer(await connect(path))
    try:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            await migrate(writer, path, (*MIGRATIONS, broken))
    finally:
        await writer.close()
    assert versions(path) == CURRENT
    assert "half" not in tables(path)


async def test_a_file_from_a_newer_bot_is_refused_with_both_versions_named(url: str) -> None:
    path = sqlite_path(url)
    async with await Database.open(url):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', '2030-01-01T00:00:00+00:00')",
                     (len(MIGRATIONS) + 1,))
    with pytest.raises(SchemaTooNewError, match="newer version of the bot") as refused:
        await Database.open(url)
    message = str(refused.value)
    assert f"version {len(MIGRATIONS) + 1}" in message and f"up to version {len(MIGRATIONS)}" in message
    assert versions(path) == [*CURRENT, len(MIGRATIONS) + 1]


async def test_two_bots_opening_one_new_file_at_once_migrate_it_once(url: str) -> None:
    first, second = await asyncio.gather(Database.open(url), Database.open(url))
    await first.close()
    await second.close()
    assert versions(sqlite_path(url)) == CURRENT


async def test_every_connection_has_the_durability_pragmas(url: str) -> None:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True)
    conn = await connect(path)
    try:
        found = {}
        for name in ("journal_mode", "synchronous", "foreign_keys", "secure_delete", "busy_timeout"):
            rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
            found[name] = rows[0][0]
    finally:
        await conn.close()
    assert found == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1,
                     "busy_timeout": 5000}


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


async def test_migrations_with_a_gap_are_refused(url: str) -> None:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True)
    writer = Writer(await connect(path))
    try:
        with pytest.raises(ValueError, match="without gaps"):
            await migrate(writer, path, (MIGRATIONS[0], Migration(3, "skipped_two", "SELECT 1;", "SELECT 1;")))
    finally:
        await writer.close()


def test_a_migration_splits_into_whole_statements_triggers_included() -> None:
    script = """
    -- a comment
    CREATE TABLE t (a);
    CREATE TRIGGER t_guard BEFORE DELETE ON t
    BEGIN
        SELECT RAISE(ABORT, 'no; really');
    END;
    -- trailing comment
    """
    found = statements(script)
    assert len(found) == 2
    assert found[1].startswith("CREATE TRIGGER") and found[1].endswith("END;")
    with pytest.raises(ValueError, match="unfinished"):
        statements("CREATE TABLE t (a)")


FIXTURES = Path(__file__).parent / "fixtures"
OLD_COLUMNS = ("user_id, consultation_id, question_id, choice, text, skipped, answered_at, consultation_version, "
               "is_current")


async def test_a_database_from_the_release_before_question_kinds_upgrades_in_place_with_answers_unchanged(
    tmp_path: Path,
) -> None:
    """Written by the real bot as released (tests/storage/fixtures/README.md): schema 2 becomes 3 in place."""
    from conversations.events import Review
    from conversations.file.loader import load_consultation
    from conversations.flow.engine import step

    path = tmp_path / "consultation.db"
    shutil.copy(FIXTURES / "before-question-kinds.db", path)
    with sqlite3.connect(path) as conn:
        before = conn.execute(f"SELECT {OLD_COLUMNS} FROM answers ORDER BY id").fetchall()
    assert versions(path) == [1, 2] and len(before) == 9

    async with await Database.open(f"sqlite:///{path}") as db:
        assert await db.integrity_check() == "ok"
        current = {a.question_id: a.answer for a in await db.current_answers(5550001, "connexus-procurement-2020")}
        loaded = await db.load_state(5550001, "connexus-procurement-2020")
    assert versions(path) == [m.version for m in MIGRATIONS]
    with sqlite3.connect(path) as conn:
        after = conn.execute(f"SELECT {OLD_COLUMNS} FROM answers ORDER BY id").fetchall()
        new_columns = conn.execute("SELECT DISTINCT choices, number, shown FROM answers").fetchall()
    assert after == before, "an answer changed in the upgrade"
    assert new_columns == [(None, None, 1)]
    changed = current["q2_local_suppliers"]
    assert changed.choice == "disagree" and changed.text == "Changed my mind"
    assert current["q3_cost_quality"].skipped and current["q3_cost_quality"].counts
    assert current["q5_other"].text == 'Thanks & well done, "truly" =1+1'
    # the saved conversation (state format 1) carries on with today's engine: its review shows every answer
    shown = step(load_consultation(), loaded.state, Review(), datetime(2020, 11, 20, 12, tzinfo=UTC))
    text = "\n".join(r.text for r in shown.replies)
    assert "Changed my mind" in text and "Repairs take too long" in text and "(skipped)" in text
