"""Fixtures for end-to-end tests: a local Bot API server in a thread and the bot as a subprocess."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import TOKEN, BotProcess, Tenant

pytestmark = pytest.mark.e2e


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    server = BotApiServer(token=TOKEN)
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


@pytest.fixture
def bot_factory(api: BotApiServer, tmp_path: Path) -> Iterator[Callable[..., BotProcess]]:
    """Make (not start) bot processes sharing one work folder and database; all are stopped at the end."""
    made: list[BotProcess] = []

    def make(**env: str) -> BotProcess:
        process = BotProcess(api, tmp_path, **env)
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
