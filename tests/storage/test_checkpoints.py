"""The WAL is folded into the database file in the background, never inside a tenant's commit."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from storage import Database

pytestmark = pytest.mark.sqlite_only  # the file itself; PostgreSQL's own are in test_postgres_storage.py


async def test_commits_never_checkpoint_and_the_background_task_folds_the_wal_in(db: Database) -> None:
    rows = list(await db.reader.execute_fetchall("PRAGMA wal_autocheckpoint"))
    assert rows[0][0] == 0, "no commit runs a checkpoint (and its fsync of the whole file)"
    for n in range(1500):  # far past the 1,000 WAL pages at which SQLite would checkpoint inside a commit
        await db.audit(None, "test", f"entry {n} " + "x" * 3000, outcome="ok")
    await asyncio.sleep(2.5)  # two background checkpoints
    assert db.path.stat().st_size > 1500 * 3000, "the entries reached the database file itself"
    with sqlite3.connect(db.path) as conn:
        busy, wal_frames, folded = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        entries = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert busy == 0 and wal_frames == folded, "everything in the WAL is already in the file"
    assert entries >= 1500
