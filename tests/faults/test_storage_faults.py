"""Storage faults: a full disk, a read-only file, a database locked by another process.

The bot must tell the tenant to try again shortly, never acknowledge an answer it did not store,
and carry on by itself once the fault clears. The database lives on a small tmpfs so the faults are real.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, current_answers
from tests.faults.conftest import assert_logs_clean
from tests.faults.figures import record

pytestmark = [pytest.mark.faults, pytest.mark.e2e]
TRY_AGAIN = "couldn't save that just now"
NO_ROOT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of our own, so the disk really fills (CI runs as root, like this machine)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def answers_of(bot: BotProcess, user_id: int) -> str:
    """Every stored answer text of a tenant, joined."""
    return "\n".join(a.text or "" for a in current_answers(bot, user_id).values())


def fill(disk: Path) -> Path:
    """Write a filler file until the disk is full."""
    filler = disk / "filler"
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler


def checkpoint(database: Path) -> None:
    """Empty the WAL, so the next write must grow a file on the full disk."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def ready_tenant(api: BotApiServer, tenant: Tenant) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("stored before the fault", expect="I've got that")


def test_a_full_disk_is_never_acknowledged_and_the_bot_recovers(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], tenant: Tenant, small_disk: Path
) -> None:
    database = small_disk / "consultation.db"
    bot = bot_factory(DATABASE_URL=f"sqlite:///{database}").start()
    ready_tenant(api, tenant)
    checkpoint(database)
    filler = fill(small_disk)
    tenant.says("said while the disk was full", expect=TRY_AGAIN)
    assert "added" not in tenant.last_text()
    filler.unlink()
    tenant.says("said after space was freed", expect="added that")
    stored = answers_of(bot, tenant.user_id)
    assert "said while the disk was full" not in stored
    assert "said after space was freed" in stored and "stored before the fault" in stored
    assert bot.stop() == 0
    assert_logs_clean(bot, ["stored before the fault", "said while the disk was full", "said after space was freed"])
    record("storage_disk_full", "database disk full (tmpfs)", acknowledged_while_full=0,
           recovered_without_restart="yes", answers_lost=0)


def test_a_read_only_database_is_never_acknowledged_and_the_bot_recovers(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], tenant: Tenant
) -> None:
    # Root ignores file permissions, so the bot runs without that override (setpriv), as a service would.
    first = bot_factory()
    first.command_prefix = NO_ROOT_OVERRIDE
    first.start()
    ready_tenant(api, tenant)
    assert first.stop() == 0
    first.database.chmod(0o444)  # the file goes read-only while the bot is down (a restore gone wrong, say)
    bot = bot_factory()
    bot.command_prefix = NO_ROOT_OVERRIDE
    bot.start()
    tenant.says("said while read-only", expect=TRY_AGAIN)
    for part in ("", "-wal", "-shm"):  # SQLite made its side files read-only to match; the fix covers them all
        path = first.database.with_name(first.database.name + part)
        if path.exists():
            path.chmod(0o644)
    tenant.says("said after it was writable again", expect="added that")
    stored = answers_of(bot, tenant.user_id)
    assert "said while read-only" not in stored and "said after it was writable again" in stored
    assert bot.stop() == 0
    assert_logs_clean(bot, ["stored before the fault", "said while read-only", "said after it was writable again"])
    record("storage_read_only", "database file read-only", acknowledged_while_read_only=0,
           recovered_without_restart="yes", answers_lost=0)


def test_a_database_locked_by_another_process_gets_try_again_then_works(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    ready_tenant(api, tenant)
    locked = threading.Event()

    def hold_the_lock(seconds: float) -> None:
        with contextlib.closing(sqlite3.connect(bot.database, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(seconds)
            other.execute("ROLLBACK")

    holder = threading.Thread(target=hold_the_lock, args=(7.0,))
    holder.start()
    locked.wait(5)
    started = time.monotonic()
    tenant.says("said while locked", expect=TRY_AGAIN, timeout=15)
    waited = time.monotonic() - started
    holder.join()
    tenant.says("said after the lock was released", expect="added that")
    stored = answers_of(bot, tenant.user_id)
    assert "said while locked" not in stored and "said after the lock was released" in stored
    assert_logs_clean(bot, ["stored before the fault", "said while locked", "said after the lock was released"])
    record("storage_locked", "database locked by another process for 7 s", seconds_until_told=round(waited, 1),
           acknowledged_while_locked=0, answers_lost=0)

