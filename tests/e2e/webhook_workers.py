"""Webhook workers for the end-to-end tests: `consultation-bot run --webhook` processes sharing one PostgreSQL, behind
the local Bot API server's stand-in for a load-balancing proxy, and what they stored."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from storage import Database
from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, free_port, webhook_env
from tests.e2e.journey import WHOLE_CONSULTATION

STARTED: list[BotProcess] = []  # every worker made here; tests/e2e/conftest.py kills any a failed test left running


def workers(api: BotApiServer, tmp_path: Path, url: str, count: int = 2) -> list[BotProcess]:
    """`consultation-bot run --webhook` twice, each in its own folder and port, sharing one database."""
    made, targets = [], []
    for number in range(1, count + 1):
        port = free_port()
        folder = tmp_path / f"worker{number}"
        folder.mkdir()
        worker = BotProcess(api, folder, **webhook_env(url, port, f"w{number}"))
        made.append(worker)
        STARTED.append(worker)
        targets.append(f"http://127.0.0.1:{port}")
    api.webhook_targets = targets
    for worker in made:
        worker.start()
    return made


def take_part(tenant: Tenant, steps: int) -> None:
    """The first `steps` steps of the whole consultation, waiting for each reply as a person would."""
    for action, what, expect in WHOLE_CONSULTATION[:steps]:
        if action == "say":
            tenant.says(what, expect=expect, timeout=60)
        else:
            tenant.taps(what, expect=expect, timeout=60)


def stored(url: str) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Per tenant: every answer row ever stored (history included), and every transcript line."""

    async def read(db: Database) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
        answers: dict[int, list[str]] = defaultdict(list)
        lines: dict[int, list[str]] = defaultdict(list)
        for row in await db.reader.execute_fetchall("SELECT user_id, question_id, text FROM answers ORDER BY id"):
            answers[int(row[0])].append(f"{row[1]}={row[2]}")
        for row in await db.reader.execute_fetchall("SELECT user_id, direction, text FROM transcript ORDER BY id"):
            lines[int(row[0])].append(f"{row[1]}:{row[2]}")
        return answers, lines

    async def run() -> tuple[dict[int, list[str]], dict[int, list[str]]]:
        db = await Database.open(url)
        try:
            return await read(db)
        finally:
            await db.close()

    return asyncio.run(run())


def waiting_on(url: str, locktype: str) -> bool:
    """True when some session is waiting for a lock of this type (so the worker is stopped where we want it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = %s", (locktype,)).fetchone()
    return bool(row and row[0])


@contextmanager
def holding(url: str, namespace: int, tenant: int) -> Iterator[None]:
    """Hold one of a tenant's advisory locks (the inbox's or the step's) from a session of the test's own, so the
    worker that needs it stops there until the block ends."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (namespace, str(tenant)))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (namespace, str(tenant)))
