"""Backups while the bot writes, retention purges, the audit log and the integrity check."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from storage import Database, PurgeReport, respondents
from tests.storage.builders import AT, CONSULTATION, INTEGRITY_ERRORS, answer, run_sql


@pytest.mark.sqlite_only
async def test_a_backup_taken_while_another_task_writes_is_consistent_and_complete(
    db: Database, tmp_path: Path
) -> None:
    for user_id in range(1, 51):
        await answer(db, user_id, "q1", f"before the backup {user_id}", update_id=user_id)
    stop = asyncio.Event()
    written = 0

    async def keep_writing() -> None:
        nonlocal written
        while not stop.is_set():  # `written` counts committed steps only
            step = written + 1
            await answer(db, 10_000 + step, "q1", f"during the backup {step}", update_id=10_000 + step)
            written = step

    writer = asyncio.create_task(keep_writing())
    while written < 20:
        await asyncio.sleep(0.01)
    dest = tmp_path / "backups" / "copy.db"
    committed_before = written
    await db.backup(dest)
    during = written
    while written < during + 20:  # the bot carried on writing after the copy
        await asyncio.sleep(0.01)
    stop.set()
    await writer

    assert not Path(f"{dest}-wal").exists()
    async with await Database.open(f"sqlite:///{dest}") as copy:
        assert await copy.integrity_check() == "ok"
        for user_id in range(1, 51):
            [stored] = await copy.current_answers(user_id, CONSULTATION)
            assert stored.answer.text == f"before the backup {user_id}"
        assert await copy.is_processed(10_000 + committed_before)
        assert not await copy.is_processed(10_000 + written)  # written after the copy was taken


@pytest.mark.sqlite_only
async def test_a_backup_refuses_to_overwrite_the_live_database_however_it_is_named(db: Database) -> None:
    await answer(db, 1, "q1", "still here")
    spellings = [db.path, db.path.parent / ".." / db.path.parent.name / db.path.name, Path(f"{db.path}-wal")]
    for dest in spellings:
        with pytest.raises(ValueError, match="onto itself"):
            await db.backup(dest, overwrite=True)
    assert await db.integrity_check() == "ok"
    assert (await db.load_state(1, CONSULTATION)).revision == 1


@pytest.mark.sqlite_only
async def test_a_backup_does_not_replace_an_existing_file_unless_asked(db: Database, tmp_path: Path) -> None:
    dest = tmp_path / "existing.db"
    dest.write_bytes(b"an older backup")
    with pytest.raises(FileExistsError):
        await db.backup(dest)
    assert dest.read_bytes() == b"an older backup"
    await db.backup(dest, overwrite=True)
    with sqlite3.connect(dest) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_purge_deletes_only_the_consultation_past_retention_and_reports_counts(db: Database) -> None:
    closes = AT
    for user_id in (1, 2, 3):
        await answer(db, user_id, "q1", "old consultation", consultation_id="old")
        await answer(db, user_id, "q1", "changed", consultation_id="old")
    await answer(db, 3, "q1", "current consultation", consultation_id="current")
    await answer(db, 4, "q1", "current consultation", consultation_id="current")

    too_soon = await db.purge_expired("old", closes, 30, now=closes + timedelta(days=30))
    assert too_soon == PurgeReport(0, 0, 0, due=False)
    assert await db.purge_expired("old", closes, None, now=closes + timedelta(days=3650)) == too_soon
    assert (await db.load_state(1, "old")).revision == 2

    report = await db.purge_expired("old", closes, 30, now=closes + timedelta(days=30, seconds=1))
    assert report == PurgeReport(respondents=3, answers=6, transcript_lines=12, due=True)
    for user_id in (1, 2, 3):
        assert (await db.load_state(user_id, "old")).revision == 0
        assert await db.transcript(user_id, "old") == []
    assert await db.respondent(1) is None and await db.respondent(2) is None
    assert await db.respondent(3) is not None  # still taking part in the current consultation
    assert [a.answer.text for a in await db.current_answers(3, "current")] == ["current consultation"]
    [entry] = await db.audit_entries()
    assert entry.action == "purge" and "3 respondents, 6 answers, 12 transcript lines" in entry.detail


async def test_the_audit_log_lists_newest_first_and_cannot_be_edited(db: Database) -> None:
    await db.audit(111, "export", "responses.csv, 40 rows")
    await db.audit(222, "broadcast", "started_not_finished, 12 recipients")
    await db.audit(333, "export", "refused: not an admin", outcome="refused")
    entries = await db.audit_entries()
    assert [(e.actor_id, e.action, e.outcome) for e in entries] == [
        (333, "export", "refused"), (222, "broadcast", "ok"), (111, "export", "ok"),
    ]
    assert [e.actor_id for e in await db.audit_entries(limit=1)] == [333]
    with pytest.raises(INTEGRITY_ERRORS, match="append-only"):
        run_sql(db, "DELETE FROM audit_log")


async def test_integrity_check_says_ok_on_a_healthy_file(db: Database) -> None:
    await answer(db, 1, "q1", "hello")
    assert await db.integrity_check() == "ok"


async def test_a_reference_clash_draws_another_reference(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["R-AAAAAA", "R-AAAAAA", "R-BBBBBB"])
    monkeypatch.setattr(respondents, "new_reference", lambda: next(draws))
    await answer(db, 1, "q1", "first")
    await answer(db, 2, "q1", "second")
    references = [(await db.load_state(u, CONSULTATION)).reference for u in (1, 2)]
    assert references == ["R-AAAAAA", "R-BBBBBB"]
