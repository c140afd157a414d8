"""Fixtures for end-to-end tests: a local Bot API server in a thread and the bot as a subprocess.

The bot runs in one of two modes (`bot_mode`): "polling", as `consultation-bot run` on a SQLite file in the test's
folder, or "webhook", as one `run --webhook` worker on a fresh PostgreSQL database, the local server posting updates
to it. A test marked `both_modes` runs twice, once in each; its webhook run is also marked `postgres` and `webhook`,
so `pytest -m "postgres or webhook"` picks it up. Unmarked tests run in polling mode only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import TOKEN, BotProcess, Tenant, free_port, webhook_env
from tests.e2e.webhook_workers import STARTED

pytestmark = pytest.mark.e2e
MODES = ("polling", "webhook")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`@pytest.mark.both_modes`: one run in long polling on SQLite, one as a webhook worker on PostgreSQL."""
    if metafunc.definition.get_closest_marker("both_modes") is None:
        return
    metafunc.parametrize("bot_mode", [
        pytest.param("polling", id="polling"),
        pytest.param("webhook", id="webhook", marks=[pytest.mark.postgres, pytest.mark.webhook]),
    ], indirect=True)


@pytest.fixture
def bot_mode(request: pytest.FixtureRequest) -> str:
    """"polling" (the default) or "webhook", as the both_modes marker parametrised it."""
    mode = str(getattr(request, "param", "polling"))
    assert mode in MODES, mode
    return mode


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    server = BotApiServer(token=TOKEN)
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


@pytest.fixture
def bot_factory(
    api: BotApiServer, tmp_path: Path, bot_mode: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BotProcess]]:
    """Make (not start) bot processes sharing one work folder and database; all are stopped at the end.

    In webhook mode they share one PostgreSQL database and one port, which the local server posts updates to: a
    process made later (a restart) comes back as the same worker on the same database and port.
    """
    made: list[BotProcess] = []
    mode_env: dict[str, str] = {}
    if bot_mode == "webhook":
        port = free_port()
        mode_env = webhook_env(request.getfixturevalue("postgres_url"), port)
        api.webhook_targets = [f"http://127.0.0.1:{port}"]

    def make(**env: str) -> BotProcess:
        process = BotProcess(api, tmp_path, **{**mode_env, **env})
        made.append(process)
        return process

    yield make
    for process in made:
        if process.process is not None and not process.exited():
            process.kill()


@pytest.fixture
def bot(bot_factory: Callable[..., BotProcess]) -> BotProcess:
    return bot_factory().start()


@pytest.fixture
def tenant(api: BotApiServer) -> Tenant:
    return Tenant(api, 5550001)


@pytest.fixture(autouse=True)
def no_worker_left_running() -> Iterator[None]:
    """A test that fails part-way must not leave its webhook workers (tests/e2e/webhook_workers.py) running."""
    yield
    while STARTED:
        worker = STARTED.pop()
        if worker.process is not None and not worker.exited():
            worker.kill()
