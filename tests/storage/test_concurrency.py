"""Many tenants at once, and more than one writer on the file: no 'database is locked', nothing lost."""

from __future__ import annotations

import asyncio
import os
import sys
from asyncio.subprocess import PIPE

from storage import Database
from tests.storage.builders import CONSULTATION, REPO_ROOT, answer

TENANTS = 200
STEPS = 5
CHILD_FIRST, CHILD_COUNT, CHILD_USERS = 500_000, 400, 20


async def tenant(db: Database, user_id: int) -> None:
    """Several steps in a row, each loading what the last one saved."""
    for n in range(STEPS):
        assert await answer(db, user_id, f"q{n}", f"user {user_id} answer {n}", update_id=user_id * 100 + n)


async def assert_all_answers_present(db: Database, user_id: int) -> None:
    """Every step of this tenant is in the file."""
    loaded = await db.load_state(user_id, CONSULTATION)
    assert loaded.revision == STEPS
    stored = {a.question_id: a.answer.text for a in await db.current_answers(user_id, CONSULTATION)}
    assert stored == {f"q{n}": f"user {user_id} answer {n}" for n in range(STEPS)}
    for n in range(STEPS):
        assert await db.is_processed(user_id * 100 + n)


async def test_200_tenants_a_second_connection_and_a_second_process_all_write_at_once(url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    async with await Database.open(url) as db, await Database.open(url) as other:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.storage.writer_child", url, "--first", str(CHILD_FIRST),
            "--count", str(CHILD_COUNT), "--users", str(CHILD_USERS), cwd=REPO_ROOT, env=env, stdout=PIPE, stderr=PIPE,
        )
        assert child.stdout is not None
        first_line = await asyncio.wait_for(child.stdout.readline(), timeout=20)  # the child is writing now
        assert first_line.strip() == str(CHILD_FIRST).encode()
        here = [tenant(db, user_id) for user_id in range(1, TENANTS + 1)]
        there = [tenant(other, user_id) for user_id in range(1001, 1051)]
        await asyncio.gather(*here, *there)
        rest, errors = await asyncio.wait_for(child.communicate(), timeout=60)
        assert child.returncode == 0, errors.decode()
        printed = [first_line.strip(), *rest.split()]
        assert len(printed) == CHILD_COUNT

        for user_id in [*range(1, TENANTS + 1), *range(1001, 1051)]:
            await assert_all_answers_present(db, user_id)
        for update_id in range(CHILD_FIRST, CHILD_FIRST + CHILD_COUNT):
            assert await db.is_processed(update_id)
        assert await db.integrity_check() == "ok"
