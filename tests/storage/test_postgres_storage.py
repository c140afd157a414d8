"""PostgreSQL's side of the promises SQLite keeps with its file: several workers migrate once, one tenant's steps
wait for each other across workers while other tenants' do not, erasure leaves the words in no row, and a refusal
(wrong password, newer schema, a backup asked of the bot) is one line that never shows the password."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.runtime import Runtime
from bot.settings import StartupError, read_settings
from bot.startup import open_database
from conversations.file.loader import load_consultation
from conversations.state import Answer
from storage import Database, SchemaTooNewError, StorageUnavailableError, dialect
from storage.migrations import MIGRATIONS
from tests.storage.builders import CONSULTATION, answer, record, run_sql

pytestmark = pytest.mark.postgres
SECRET_WORDS = "SECRET-PG-ANSWER-4471"


def with_password(url: str, user: str, password: str) -> str:
    """The same server and database, as another user."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}"))


async def test_two_workers_opening_one_empty_database_at_once_migrate_it_once(postgres_url: str) -> None:
    first, second, third = await asyncio.gather(*(Database.open(postgres_url) for _ in range(3)))
    try:
        rows = run_sql(first, "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
        assert rows == [(m.version, 1) for m in MIGRATIONS]
        await answer(second, 7, "q1", "written by the second worker")
        assert [a.answer.text for a in await third.current_answers(7, CONSULTATION)] == ["written by the second worker"]
    finally:
        for db in (first, second, third):
            await db.close()


async def test_a_database_from_a_newer_bot_is_refused_with_both_versions_named(postgres_url: str) -> None:
    async with await Database.open(postgres_url) as db:
        run_sql(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', now())")
    with pytest.raises(SchemaTooNewError) as refused:
        await Database.open(postgres_url)
    assert refused.value.found == 99 and refused.value.known == len(MIGRATIONS)
    assert "newer version of the bot" in str(refused.value)


async def test_one_tenants_steps_wait_for_each_other_across_workers_and_other_tenants_do_not(
    postgres_url: str,
) -> None:
    worker_a, worker_b = await Database.open(postgres_url), await Database.open(postgres_url)
    try:
        await answer(worker_a, 1, "q1", "tenant one, first")
        await answer(worker_a, 2, "q1", "tenant two, first")
        holding = asyncio.Event()
        release = asyncio.Event()

        async def hold_tenant_one() -> None:
            async with worker_a.transaction() as conn:  # what a slow step of tenant 1 on worker A looks like
                await dialect.lock_tenant(conn, 1)
                holding.set()
                await release.wait()

        held = asyncio.create_task(hold_tenant_one())
        await holding.wait()
        started = time.monotonic()
        other = asyncio.create_task(answer(worker_b, 2, "q2", "tenant two, second"))
        same = asyncio.create_task(answer(worker_b, 1, "q2", "tenant one, second"))
        await asyncio.wait_for(other, timeout=5)
        assert time.monotonic() - started < 2, "another tenant's step did not wait for tenant one"
        await asyncio.sleep(0.5)
        assert not same.done(), "tenant one's second step ran while its first was still in hand on another worker"
        release.set()
        await held
        assert await asyncio.wait_for(same, timeout=5)
        stored = {a.question_id: a.answer.text for a in await worker_b.current_answers(1, CONSULTATION)}
        assert stored == {"q1": "tenant one, first", "q2": "tenant one, second"}
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_two_workers_with_the_same_loaded_state_save_one_step_and_refuse_the_other(postgres_url: str) -> None:
    worker_a, worker_b = await Database.open(postgres_url), await Database.open(postgres_url)
    try:
        await answer(worker_a, 5, "q1", "first")
        loaded = await worker_a.load_state(5, CONSULTATION)
        steps = [record(5, loaded, loaded.state.with_answer("q2", Answer(text=text)), {"q2": Answer(text=text)},
                        update_id=100 + n) for n, text in enumerate(("from A", "from B"))]
        outcomes = await asyncio.gather(worker_a.apply_step(steps[0]), worker_b.apply_step(steps[1]),
                                        return_exceptions=True)
        assert sorted(type(o).__name__ for o in outcomes) == ["StaleStateError", "bool"]
        assert len([a for a in await worker_a.answer_history(5, CONSULTATION) if a.question_id == "q2"]) == 1
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_an_erased_tenants_words_are_in_no_row_of_any_table(postgres_url: str) -> None:
    async with await Database.open(postgres_url) as db:
        await _erase_and_look(db)


async def _erase_and_look(db: Database) -> None:
    for neighbour in (1, 2):
        await answer(db, neighbour, "q1", f"NEIGHBOUR-{neighbour}")
    await answer(db, 77, "q1", SECRET_WORDS, update_id=7001)
    await answer(db, 77, "q1", SECRET_WORDS + " changed", update_id=7002)
    assert await db.erase_respondent(77)
    tables = [str(row[0]) for row in run_sql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    holding = [table for table in tables
               if run_sql(db, f"SELECT 1 FROM {table} t WHERE t::text LIKE '%{SECRET_WORDS}%' LIMIT 1")]
    assert holding == [], f"erased words still in {holding}"
    assert [a.answer.text for a in await db.current_answers(1, CONSULTATION)] == ["NEIGHBOUR-1"]
    # The dead rows were vacuumed away at once, not left for autovacuum to find some time later.
    dead = run_sql(db, "SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables WHERE relname = 'answers'")
    assert int(str(dead[0][0])) == 0


async def test_a_backup_asked_of_the_bot_on_postgresql_says_to_use_the_servers_own_tools(
    postgres_url: str, tmp_path: Path
) -> None:
    async with await Database.open(postgres_url) as db:
        with pytest.raises(ValueError, match="pg_dump"):
            await db.backup(tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


async def test_a_server_that_cannot_be_reached_stops_the_bot_in_one_line_without_the_password(
    postgres_url: str,
) -> None:
    parts = urlsplit(postgres_url)
    url = urlunsplit(parts._replace(netloc=f"bot:Staple-Horse-9931@127.0.0.1:{_free_port()}"))
    runtime = Runtime(settings=read_settings({"BOT_TOKEN": "123456:" + "A" * 35, "DATABASE_URL": url}),
                      consultation=load_consultation())
    with pytest.raises(StartupError) as refused:
        await open_database(runtime)
    message = str(refused.value)
    assert "Staple-Horse-9931" not in message and "\n" not in message
    assert "bot:***@127.0.0.1" in message and "DATABASE_URL" in message


async def test_an_unreachable_server_is_storage_unavailable_not_a_hang(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    nowhere = urlunsplit(parts._replace(netloc=f"postgres@127.0.0.1:{_free_port()}"))
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError):
        await Database.open(nowhere)
    assert time.monotonic() - started < 15


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
