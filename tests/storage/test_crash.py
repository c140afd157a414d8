"""kill -9 in the middle of a stream of steps: every step that returned is still there afterwards."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from asyncio.subprocess import PIPE

from storage import Database
from tests.storage.builders import REPO_ROOT

ROUNDS = 3
USERS = 7


async def run_and_kill(url: str, first: int, kill_after: int) -> list[int]:
    """Start a writer, SIGKILL it after `kill_after` acknowledged steps; every id it printed before dying."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.storage.writer_child", url, "--first", str(first), "--users", str(USERS),
        cwd=REPO_ROOT, env=env, stdout=PIPE, stderr=PIPE,
    )
    assert child.stdout is not None
    printed: list[int] = []
    while len(printed) < kill_after:
        line = await asyncio.wait_for(child.stdout.readline(), timeout=20)
        assert line.endswith(b"\n"), "the writer stopped before it was killed"
        printed.append(int(line))
    os.kill(child.pid, signal.SIGKILL)
    rest, _ = await child.communicate()
    # Lines already in the pipe were printed after their apply_step returned; a torn last line was not.
    printed += [int(line) for line in rest.split(b"\n")[:-1] if line]
    assert child.returncode == -signal.SIGKILL
    return printed


async def test_every_step_acknowledged_before_a_kill_9_survives_and_the_file_is_intact(url: str) -> None:
    seed = random.randrange(1_000_000)
    chooser = random.Random(seed)
    acknowledged: list[int] = []
    first = 1
    for _ in range(ROUNDS):
        printed = await run_and_kill(url, first, kill_after=chooser.randint(5, 150))
        assert printed == list(range(first, first + len(printed))), f"seed {seed}"
        acknowledged += printed
        first = printed[-1] + 10  # the step in flight at the kill may or may not have committed

        async with await Database.open(url) as db:
            assert await db.integrity_check() == "ok", f"seed {seed}"
            for update_id in acknowledged:
                assert await db.is_processed(update_id), f"step {update_id} lost (seed {seed})"
                user_id = 900_000 + update_id % USERS
                stored = {a.question_id: a.answer.text for a in await db.current_answers(user_id, "test-consultation")}
                assert stored[f"q{update_id}"] == f"step {update_id}", f"seed {seed}"
