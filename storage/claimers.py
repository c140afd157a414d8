"""Who is sending a broadcast recipient's message right now, and whether that process is still alive.

Every process that sends broadcasts has a claimer: a name of its own (WORKER_NAME, or the host's name, then the pid,
the start time and a random part, e.g. 'w1/4711/20201110T120000Z/9f3a0c1d'), written into each broadcast_recipients
row it marks 'sending' (claimed_by, migration 8). A row at 'sending' whose claimer is dead was in flight when that
process died: it becomes 'unknown' and is never sent again (at-most-once, storage/recipients.py). A row whose
claimer is alive is that process's to settle, and nobody else touches it: another worker starting up, or finding
nothing left to claim, leaves it be, and the job is finished only once it is settled.

How the others tell that a claimer is alive:

- PostgreSQL: the claimer holds a session-level advisory lock for the life of the process, on a connection of its
  own (namespace CLAIMER_LOCK, key hashtext(name)). A process that dies (kill -9, a crash) loses that connection
  and the server releases the lock with it; a machine that is lost is noticed by the server's TCP keepalives, which
  this session sets short (KEEPALIVE: about half a minute). Another process asks with pg_try_advisory_xact_lock on
  an autocommit connection: false, someone holds it (alive); true, nobody does (dead), and the lock it took ends
  with that one statement. A claim checks the same way, in its own transaction, that the claimer still holds its
  lock, so a claimer that has lost it claims nothing more (a loss in the instant between that check and the commit
  leaves that one chunk under a dead name: the others count it unknown, and it is still never sent twice).
  This is the way storage/tenant_locks.py already proves a worker alive. A heartbeat row was the other choice; it
  was not taken because it writes every few seconds for ever (WAL, dead rows), needs the database's clock, and its
  timeout is a trade with no good answer: short, and a worker that is merely slow (a long pause, a busy database)
  is counted dead while it sends, so its messages would be counted unknown although delivered, which is the fault
  this fixes; long, and a dead worker's rows wait that long. The lock is exact for a process that dies, and costs
  one idle connection per process.
  The key is a 32-bit hash: a new claimer whose key is already held (another live claimer's) takes a new random
  part and tries again, so no two live claimers share a key. A dead claimer whose key another live one happens to
  share (odds of about 1 in 4 billion per pair) counts as alive until that one stops too.
- SQLite: one process per database file, so every claimer but this process's own is dead.

A claimer whose lock is gone (its connection failed, or the server ended it) finds out at its next claim, which
raises ClaimerLost and writes nothing; the claimer is then `lost`, and the broadcaster opens a new one (a new name)
before it claims again. The old name's rows are a dead claimer's to everyone, that process included.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from storage.records import StorageUnavailableError

if TYPE_CHECKING:
    from storage.database import Database
    from storage.postgres.connection import Connection

# Advisory lock namespace: "this process, by its claimer name, is alive". storage/dialect.py uses 1-3 and
# storage/tenant_locks.py 1502.
CLAIMER_LOCK = 1503
# The server drops a silent client's session (and so its lock) after idle + interval x count seconds.
KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
OPEN_TRIES = 5  # new random parts tried when a key is already held


class ClaimerLost(StorageUnavailableError):
    """The claimer's lock connection failed: others may count its rows dead, so it must not claim any more."""


def new_name(worker: str = "") -> str:
    """This process's claimer name: who (WORKER_NAME, or the host), pid, start time, and a random part."""
    who = (worker or socket.gethostname() or "bot").replace("/", "-")[:40]
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{who}/{os.getpid()}/{started}/{secrets.token_hex(4)}"


class Claimer(Protocol):
    """What storage/recipients.py needs from a claimer."""

    name: str

    async def confirm(self, conn: Any) -> None:
        """Inside a claim's transaction: raise ClaimerLost unless this claimer is still alive to the others."""
        ...

    async def alive(self, db: Database, name: str | None) -> bool:
        """Whether the claimer of that name is still alive (this one is; NULL, a row from before claimers, is not)."""
        ...

    async def close(self) -> None:
        """This process will claim no more: the others may now count its unsettled rows dead."""
        ...


class LocalClaimer:
    """SQLite: this process is the only one on the file, so it is the only claimer alive."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lost = False

    async def confirm(self, conn: Any) -> None:
        return None

    async def alive(self, db: Database, name: str | None) -> bool:
        return name == self.name

    async def close(self) -> None:
        return None


class PostgresClaimer:
    """The claimer's advisory lock, held on a dedicated connection until close (or until the process dies)."""

    def __init__(self, conn: Connection, name: str, backend_pid: int) -> None:
        self._conn = conn
        self.name = name
        self.backend_pid = backend_pid  # the server process holding the lock (tests end it to play a dead worker)
        self.lost = False

    @classmethod
    async def open(cls, url: str, worker: str = "") -> PostgresClaimer:
        from storage.postgres.connection import connect  # psycopg is loaded only by those who use it

        conn = await connect(url)
        try:
            for setting, value in KEEPALIVE.items():
                await conn.execute(f"SET {setting} = {int(value)}")
            for _ in range(OPEN_TRIES):
                name = new_name(worker)
                rows = list(await conn.execute_fetchall(
                    "SELECT pg_try_advisory_lock(?, hashtext(?::text)) AS taken, pg_backend_pid() AS pid",
                    (CLAIMER_LOCK, name)))
                if rows[0]["taken"]:
                    return cls(conn, name, int(rows[0]["pid"]))
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.close()
            raise
        await conn.close()
        raise StorageUnavailableError(f"no free claimer lock after {OPEN_TRIES} tries")

    async def confirm(self, conn: Any) -> None:
        """True from pg_try_advisory_xact_lock means nobody holds our key: our session (and its lock) is gone. The
        lock that statement took ends with the caller's transaction, which this error rolls back."""
        if not self.lost:
            rows = list(await conn.execute_fetchall(
                "SELECT pg_try_advisory_xact_lock(?, hashtext(?::text))", (CLAIMER_LOCK, self.name)))
            self.lost = bool(rows[0][0])
        if self.lost:
            raise ClaimerLost(f"the broadcast claimer {self.name} lost its lock connection")

    async def alive(self, db: Database, name: str | None) -> bool:
        if name is None:
            return False
        if name == self.name:
            return True
        # On the autocommit reader the statement is its own transaction: a lock it takes is released at once.
        rows = list(await db.reader.execute_fetchall(
            "SELECT pg_try_advisory_xact_lock(?, hashtext(?::text))", (CLAIMER_LOCK, name)))
        return not rows[0][0]

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone: so is the lock
            await asyncio.shield(self._conn.close())  # the server releases the session's lock


async def open_claimer(db: Database, worker: str = "") -> LocalClaimer | PostgresClaimer:
    """This process's claimer for this database's backend (on PostgreSQL, a connection holding its lock)."""
    if db.postgres:
        return await PostgresClaimer.open(db.url, worker)
    return LocalClaimer(new_name(worker))
