"""`consultation-bot migrate-db`: a live consultation moved to another database whole, proved by counts and
checksums, and never written into a database that already holds data.

The source is filled the way the bot fills it (engine steps through Database.apply_step, broadcasts, alerts, theme
analysis and staff review), and the copy is judged by what a person would see: each tenant's answers, history and
transcript, the audit trail, /stats, the alerts, the broadcasts, and the exported files byte for byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import subprocess
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conversations.file.loader import load_consultation
from conversations.model import Consultation
from storage import Database, broadcasts, claimers, inbox, recipients
from storage import broadcast_drafts as drafts
from storage import transfer as transfer_module
from storage.broadcast_drafts import Draft
from storage.export import run_export
from storage.recipients import Outcome
from storage.stats import gather_stats
from storage.themes import store
from storage.transfer import NOT_COPIED, TABLES, TransferMismatch, TransferRefused, transfer
from tests.cli import test_cli
from tests.export import builders, every_kind, themed
from tests.export.bulk import build_big_database
from tests.storage.builders import answer, run_sql

STAFF = 900001
AT = builders.DAY1 + timedelta(days=10)
LATE_TENANT = 8888


def cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """consultation-bot ARGS as a process, run in a folder of the test's own."""
    return test_cli.cli(*args, cwd=folder)


def bundled() -> Consultation:
    return load_consultation()


async def fill(db: Database) -> None:
    """Every kind of row the bot writes: tenants by every route (finished, partial, changed under newer wording,
    erased, declined, still reading), every kind of answer, alert flags, a theme run with staff's review, a staff
    broadcast with recipients in every state, a reminder, a draft in progress, alert subscribers and updates."""
    consultation = bundled()
    await builders.build(db, consultation)
    await every_kind.build(db, every_kind.every_kind())
    await themed.build(db, consultation)
    await drafts.save(db, Draft(STAFF, "tok1", "preview", AT, audience="agreed", text="Hello <b>all</b>"))
    job = await broadcasts.create_staff_broadcast(db, consultation.id, STAFF, "tok1", True, AT, progress_message_id=77)
    assert job is not None and job.total > 4
    claimer = await claimers.open_claimer(db, "filler")
    first = await recipients.claim(db, job, 4, AT, claimer)
    await recipients.record(db, job.id, claimer, [
        Outcome(first[0].user_id, "sent", 1), Outcome(first[1].user_id, "pending", 1, AT + timedelta(minutes=5)),
        Outcome(first[2].user_id, "blocked", 1)])  # first[3] is left 'sending'; the rest wait at once ('')
    reminder = await broadcasts.create_reminder(db, consultation.id, "one_day", "started_not_finished", "Please", AT)
    assert reminder is not None
    reached = await recipients.claim(db, reminder, 10_000, AT, claimer)
    await recipients.record(db, reminder.id, claimer, [Outcome(c.user_id, "sent", 1) for c in reached])
    assert await broadcasts.finish(db, reminder.id, AT) is not None
    await claimer.close()  # first[3]'s claimer is gone: the new database's bot gives it up as unknown
    await drafts.save(db, Draft(STAFF + 1, "tok2", "compose", AT, audience="finished"))
    assert await db.set_alert_messages(STAFF, consultation.id, True, AT)
    assert await db.set_reminders(1002, opted_out=True)
    assert await answer(db, 7001, "q1", "Sent as a Telegram update", update_id=555_001)
    # webhook mode: updates acknowledged to Telegram and not yet applied, which the new database must still apply
    assert await inbox.store(db, 555_002, 1002, '{"update_id": 555002, "message": {"text": "Hello"}}', AT)
    assert await inbox.store(db, 555_003, None, '{"update_id": 555003, "channel_post": {}}', AT)


async def source_database(path: Path) -> str:
    """A filled SQLite database at `path`; its URL."""
    url = f"sqlite:///{path}"
    db = await Database.open(url)
    try:
        await fill(db)
    finally:
        await db.close()
    return url


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One filled source, built once; each test copies the file so none sees another's changes."""
    path = tmp_path_factory.mktemp("source") / "consultation.db"
    asyncio.run(source_database(path))
    return path


@pytest.fixture
def source_url(filled: Path, tmp_path: Path) -> str:
    copy = tmp_path / "source" / "consultation.db"
    copy.parent.mkdir()
    with closing(sqlite3.connect(filled)) as original, closing(sqlite3.connect(copy)) as duplicate:
        original.backup(duplicate)
    return f"sqlite:///{copy}"


async def tables(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table as the storage layer reads it (times as text on both backends), in a fixed order."""
    found = {}
    for table in TABLES:
        rows = [dict(zip(row.keys(), tuple(row), strict=True)) for row in
                await db.reader.execute_fetchall(f"SELECT * FROM {table}")]
        found[table] = sorted(rows, key=lambda row: repr(sorted(row.items())))
    return found


async def seen(db: Database) -> dict[str, object]:
    """What staff, admins and tenants see, through the same calls the bot makes."""
    consultations = (bundled(), every_kind.every_kind())
    users = [int(str(row[0])) for row in await db.reader.execute_fetchall("SELECT user_id FROM respondents")]
    view: dict[str, object] = {}
    for consultation in consultations:
        cid = consultation.id
        view[f"{cid} stats"] = await gather_stats(db, consultation)
        view[f"{cid} flagged"] = await db.flagged_answers(cid)
        view[f"{cid} alerts"] = await db.alert_counts(cid, tuple(a.id for a in consultation.alerts))
        view[f"{cid} subscribers"] = await db.alert_subscribers(cid)
        view[f"{cid} reminders"] = await broadcasts.sent_reminder_ids(db, cid)
        for user in sorted(users):
            view[f"{cid} {user}"] = (await db.respondent(user), await db.load_state(user, cid),
                                     await db.current_answers(user, cid), await db.answer_history(user, cid),
                                     await db.transcript(user, cid))
    view["coding"] = await store.load(db.reader, bundled().id, builders.Q1)
    jobs = [int(str(row[0])) for row in await db.reader.execute_fetchall("SELECT id FROM broadcasts")]
    view["jobs"] = [(await broadcasts.job(db, job), await broadcasts.tally(db, job),
                     await recipients.next_try(db, job)) for job in sorted(jobs)]
    view["unfinished"] = await broadcasts.unfinished(db)
    view["drafts"] = (await drafts.get(db, STAFF), await drafts.get(db, STAFF + 1))
    view["processed"] = await db.is_processed(555_001)
    view["inbox"] = (await inbox.pending_tenants(db, 10), await inbox.next_for(db, 1002),
                     await inbox.next_for(db, None))
    return view


async def exported(db: Database, folder: Path) -> dict[str, bytes]:
    """The admin's files for the bundled consultation, identities included, made at a fixed moment."""
    result = await run_export(db, bundled(), folder, ("csv", "jsonl", "html"), identities=True, actor_id=None,
                              via="test", now=builders.NOW)
    return {file.path.name: file.path.read_bytes() for file in result.files}


async def assert_same_for_everyone(source_url: str, target_url: str, tmp_path: Path) -> None:
    """The copy holds every row the source does and shows everyone the same; its audit log has one line more."""
    source, target = await Database.open(source_url), await Database.open(target_url)
    try:
        assert await tables(target) == {**await tables(source), "audit_log": (await tables(target))["audit_log"]}
        assert await seen(target) == await seen(source)
        copied, *moved = await target.audit_entries(limit=10_000)
        assert moved == await source.audit_entries(limit=10_000)
        assert copied.action == "migrate-db" and copied.detail.startswith(f"copied from {source.where}: ")
        assert await exported(target, tmp_path / "target") == await exported(source, tmp_path / "source")
    finally:
        await source.close()
        await target.close()


async def empty_database(url: str) -> None:
    """The schema and nothing else, as Database.open makes it."""
    await (await Database.open(url)).close()


async def table_counts(db: Database) -> dict[str, int]:
    return {t: int(str(run_sql(db, f"SELECT count(*) FROM {t}")[0][0])) for t in TABLES}


# ---------------------------------------------------------------- every table is known, in an order that works


async def test_the_copy_knows_every_table_a_migration_makes(tmp_path: Path) -> None:
    async with await Database.open(f"sqlite:///{tmp_path / 'fresh.db'}") as db:
        found = {str(row[0]) for row in run_sql(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert found - set(NOT_COPIED) == set(TABLES), (
        "a migration added or dropped a table: add it to storage.transfer.TABLES (parents before children), "
        "or to NOT_COPIED if it is each database's own state")
    assert len(TABLES) == len(set(TABLES)) and not set(TABLES) & set(NOT_COPIED)


async def test_tables_are_copied_parents_first(tmp_path: Path) -> None:
    async with await Database.open(f"sqlite:///{tmp_path / 'fresh.db'}") as db:
        for table in TABLES:
            parents = {str(row[2]) for row in run_sql(db, f"PRAGMA foreign_key_list({table})")}
            assert all(TABLES.index(parent) < TABLES.index(table) for parent in parents), (table, parents)


async def test_postgres_has_the_same_tables_as_sqlite(postgres_url: str) -> None:
    async with await Database.open(postgres_url) as db:
        found = {str(row[0]) for row in run_sql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert found - set(NOT_COPIED) == set(TABLES)


# ---------------------------------------------------------------- round trips


async def test_sqlite_to_postgres_moves_everything_and_everyone_sees_the_same(
        source_url: str, postgres_url: str, tmp_path: Path) -> None:
    report = await transfer(source_url, postgres_url, batch=7)  # small batches: many batch boundaries per table
    assert report.verified
    async with await Database.open(source_url) as source:
        expected = await table_counts(source)
    assert {t.name: t.rows for t in report.tables} == expected
    assert [t.name for t in report.tables] == list(TABLES)
    for kind in ("answers", "transcript", "audit_log", "broadcasts", "broadcast_recipients", "alert_flags",
                 "alert_subscribers", "themes", "theme_codes", "theme_reviews", "broadcast_drafts",
                 "processed_updates", "update_inbox"):
        assert expected[kind] > 0, f"the source should hold some {kind}"
    await assert_same_for_everyone(source_url, postgres_url, tmp_path)


async def test_postgres_back_to_sqlite_gives_the_same_again(source_url: str, postgres_url: str,
                                                             tmp_path: Path) -> None:
    assert (await transfer(source_url, postgres_url)).verified
    back = f"sqlite:///{tmp_path / 'back' / 'consultation.db'}"
    report = await transfer(postgres_url, back)
    assert report.verified
    async with await Database.open(source_url) as source, await Database.open(back) as again:
        assert (await tables(again))["answers"] == (await tables(source))["answers"]
        assert await seen(again) == await seen(source)
        entries = await again.audit_entries(limit=10_000)
        assert [e.action for e in entries[:2]] == ["migrate-db", "migrate-db"]
        assert entries[2:] == await source.audit_entries(limit=10_000)


async def test_sqlite_to_sqlite_copies_too(source_url: str, tmp_path: Path) -> None:
    copy = f"sqlite:///{tmp_path / 'copy' / 'consultation.db'}"
    assert (await transfer(source_url, copy, batch=5)).verified
    await assert_same_for_everyone(source_url, copy, tmp_path)


async def test_the_answers_checksum_is_sha256_over_every_answer_in_id_order(source_url: str, tmp_path: Path
                                                                            ) -> None:
    report = await transfer(source_url, f"sqlite:///{tmp_path / 'copy.db'}")
    columns = ("id, user_id, consultation_id, question_id, choice, text, skipped, answered_at, consultation_version, "
               "is_current, choices, number, shown")
    async with await Database.open(source_url) as source:
        rows = run_sql(source, f"SELECT {columns} FROM answers ORDER BY id")
    expected = hashlib.sha256(b"".join(
        json.dumps(list(row), ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for row in rows))
    answers = report.table("answers")
    assert answers.digest == answers.copied_digest == expected.hexdigest()


# ---------------------------------------------------------------- ids and sequences


async def test_rows_written_after_the_move_get_new_ids(source_url: str, postgres_url: str) -> None:
    async with await Database.open(source_url) as source:
        highest = {t: int(str(run_sql(source, f"SELECT max(id) FROM {t}")[0][0]))
                   for t in ("answers", "transcript", "audit_log", "broadcasts")}
    assert (await transfer(source_url, postgres_url)).verified
    async with await Database.open(postgres_url) as target:
        # the migrate-db audit line itself was the first new row: it took the next id, not a copied one
        assert (await target.audit_entries(limit=1))[0].action == "migrate-db"
        assert await answer(target, 7002, "q1", "Written on the new database")
        await target.audit(None, "test", "after the move")
        job = await broadcasts.create_reminder(target, bundled().id, "second", "agreed_not_started", "Hi", AT)
        assert job is not None and job.id == highest["broadcasts"] + 1
        new = {t: [int(str(r[0])) for r in run_sql(target, f"SELECT id FROM {t} WHERE id > {highest[t]} ORDER BY id")]
               for t in highest}
    assert new["answers"] == [highest["answers"] + 1]
    assert new["transcript"] == [highest["transcript"] + 1, highest["transcript"] + 2]
    assert new["audit_log"][:2] == [highest["audit_log"] + 1, highest["audit_log"] + 2]


# ---------------------------------------------------------------- refusals


async def test_a_target_that_holds_data_is_refused_and_left_unchanged(source_url: str, postgres_url: str) -> None:
    async with await Database.open(postgres_url) as target:
        assert await answer(target, 4242, "q1", "Someone already uses this database")
        before = await tables(target)
    with pytest.raises(TransferRefused) as refused:
        await transfer(source_url, postgres_url)
    assert refused.value.key == "migrate_db_not_empty"
    assert refused.value.values["table"] == "respondents" and refused.value.values["rows"] == 1
    async with await Database.open(postgres_url) as target:
        assert await tables(target) == before
        assert await answer(target, 4242, "q1", "and goes on using it")
        assert max(int(str(r[0])) for r in run_sql(target, "SELECT id FROM answers")) == 2, "its sequence unmoved"


async def test_a_target_with_only_an_audit_line_is_refused_too(source_url: str, tmp_path: Path) -> None:
    target_url = f"sqlite:///{tmp_path / 'target.db'}"
    async with await Database.open(target_url) as target:
        await target.audit(None, "backup", "somewhere")
    with pytest.raises(TransferRefused) as refused:
        await transfer(source_url, target_url)
    assert (refused.value.key, refused.value.values["table"]) == ("migrate_db_not_empty", "audit_log")


async def test_the_same_database_twice_is_refused(source_url: str, tmp_path: Path) -> None:
    path = source_url.removeprefix("sqlite:///")
    relative = Path(path).relative_to(tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        with pytest.raises(TransferRefused) as refused:
            await transfer(source_url, f"sqlite:///{relative}")
    assert refused.value.key == "migrate_db_same"


async def test_a_missing_source_is_refused_and_no_file_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.db"
    with pytest.raises(TransferRefused) as refused:
        await transfer(f"sqlite:///{missing}", f"sqlite:///{tmp_path / 'target.db'}")
    assert refused.value.key == "migrate_db_no_source"
    assert not missing.exists() and not (tmp_path / "target.db").exists()


async def test_a_table_the_copy_does_not_know_is_refused(source_url: str, tmp_path: Path) -> None:
    with closing(sqlite3.connect(source_url.removeprefix("sqlite:///"))) as conn:
        conn.execute("CREATE TABLE added_by_hand (x)")
    with pytest.raises(TransferRefused) as refused:
        await transfer(source_url, f"sqlite:///{tmp_path / 'target.db'}")
    assert refused.value.key == "migrate_db_unknown_tables" and refused.value.values["tables"] == "added_by_hand"


async def test_a_copy_that_does_not_match_is_caught(source_url: str, tmp_path: Path) -> None:
    target_url = f"sqlite:///{tmp_path / 'target.db'}"
    await empty_database(target_url)
    with closing(sqlite3.connect(tmp_path / "target.db")) as conn:  # a target that does not keep what it is given
        conn.execute("CREATE TRIGGER garble AFTER INSERT ON answers WHEN NEW.id = 3 "
                     "BEGIN UPDATE answers SET text = 'garbled' WHERE id = NEW.id; END")
    with pytest.raises(TransferMismatch) as mismatch:
        await transfer(source_url, target_url)
    report = mismatch.value.report
    assert [t.name for t in report.tables if not t.same] == ["answers"]
    answers = report.table("answers")
    assert answers.rows == answers.copied_rows and answers.digest != answers.copied_digest


async def test_a_live_source_is_copied_as_of_one_moment(source_url: str, postgres_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot goes on writing while the copy runs: a tenant arrives between the tables. Without the snapshot their
    answer would be read without their conversation, and the target's foreign key would refuse it."""
    copy_table = transfer_module._copy_table
    live = await Database.open(source_url)

    async def with_a_tenant_arriving(source: Any, target: Any, table: str, *args: Any) -> tuple[int, str]:
        copied = await copy_table(source, target, table, *args)
        if table == "conversations":
            assert await answer(live, LATE_TENANT, "q1", "I came in during the copy")
        return copied

    monkeypatch.setattr(transfer_module, "_copy_table", with_a_tenant_arriving)
    try:
        report = await transfer(source_url, postgres_url)
    finally:
        await live.close()
    assert report.verified
    async with await Database.open(postgres_url) as target, await Database.open(source_url) as source:
        assert await target.respondent(LATE_TENANT) is None, "written after the snapshot: not copied"
        assert await source.respondent(LATE_TENANT) is not None
        assert report.table("answers").rows == (await table_counts(source))["answers"] - 1


# ---------------------------------------------------------------- the command line


def test_the_command_prints_each_table_and_verified(source_url: str, postgres_url: str, tmp_path: Path
                                                     ) -> None:
    result = cli(tmp_path, "migrate-db", "--from", source_url, "--to", postgres_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Copying ") and postgres_url.split("@")[-1] in lines[0]
    table_lines = {line.split()[0]: line for line in lines[1:1 + len(TABLES)]}
    assert list(table_lines) == list(TABLES)
    assert all(" rows  checksum " in line for line in table_lines.values())
    assert lines[1 + len(TABLES)].startswith("Every answer (sha256 in id order): ")
    assert lines[2 + len(TABLES)].startswith(f"Verified: {len(TABLES)} tables, ")
    assert "DATABASE_URL=" in lines[-1] and "bot stopped" in lines[-1]
    assert result.stderr == ""


def test_a_second_run_into_the_same_database_is_one_line_and_exit_1(source_url: str, postgres_url: str,
                                                                     tmp_path: Path) -> None:
    assert cli(tmp_path, "migrate-db", "--from", source_url, "--to", postgres_url).returncode == 0
    again = cli(tmp_path, "migrate-db", "--from", source_url, "--to", postgres_url)
    assert again.returncode == 1 and again.stdout == ""
    assert len(again.stderr.strip().splitlines()) == 1
    assert "already holds data" in again.stderr and "Nothing was written" in again.stderr


def test_a_wrong_to_url_is_one_line_without_the_password(source_url: str, postgres_url: str, tmp_path: Path
                                                        ) -> None:
    server = postgres_url.split("@", 1)[1].rsplit("/", 1)[0]
    for wrong in (f"postgresql://postgres:Secret-Pa55@{server}/no_such_database",
                  "postgresql://postgres:Secret-Pa55@127.0.0.1:1/consultation",
                  "mysql://bot:Secret-Pa55@db.example.org/consultation",
                  "postgresql://bot:Secret-Pa55@db.example.org"):
        result = cli(tmp_path, "migrate-db", "--from", source_url, "--to", wrong)
        assert result.returncode == 1, (wrong, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Secret-Pa55" not in result.stderr + result.stdout
        assert "--to" in result.stderr or "Cannot open" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_a_copy_that_does_not_match_exits_1_and_names_the_table(source_url: str, tmp_path: Path) -> None:
    target = tmp_path / "target.db"
    asyncio.run(empty_database(f"sqlite:///{target}"))
    with closing(sqlite3.connect(target)) as conn:  # a target that changes a transcript line as it is written
        conn.execute("CREATE TRIGGER garble AFTER INSERT ON transcript WHEN NEW.id = 2 "
                     "BEGIN UPDATE transcript SET text = 'garbled' WHERE id = NEW.id; END")
    result = cli(tmp_path, "migrate-db", "--from", source_url, "--to", f"sqlite:///{target}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines() if "DIFFERENT" in line] == ["transcript"]
    assert len(result.stderr.strip().splitlines()) == 1 and "does not match" in result.stderr


def test_help_says_to_stop_the_bot(tmp_path: Path) -> None:
    result = cli(tmp_path, "migrate-db", "--help")
    assert result.returncode == 0 and "Stop the bot" in result.stdout


# ---------------------------------------------------------------- size


@pytest.mark.slow
def test_ten_thousand_respondents_move_in_reasonable_time(tmp_path: Path, postgres_url: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.db"
    build_big_database(path, 10_000)
    began = time.monotonic()
    report = asyncio.run(transfer(f"sqlite:///{path}", postgres_url))
    seconds = time.monotonic() - began
    assert report.verified and report.table("respondents").rows == 10_000
    with capsys.disabled():
        print(f"\nmigrate-db: {report.rows:,} rows of 10,000 respondents copied and verified in {seconds:.1f} s")
    assert seconds < 120

