"""Fixtures every suite can use: a throwaway PostgreSQL server for the session, and a fresh database per test.

Without PostgreSQL installed the tests that need it skip, with the reason; in CI (CI=true, or REQUIRE_POSTGRES=1, as
.ci/run sets) that skip is a failure instead, so a missing server can never pass for a green run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import INSTALL_HINT, PostgresServer, find_bin_dir

_database_numbers = itertools.count(1)


def postgres_required() -> bool:
    """True in CI, where the PostgreSQL tests must run."""
    return os.environ.get("CI") == "true" or os.environ.get("REQUIRE_POSTGRES") == "1"


def installed_postgres() -> Path:
    """The bin directory of the newest PostgreSQL here; without one the test skips, or fails where it is required."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if postgres_required():
            pytest.fail(f"{INSTALL_HINT} (required here: CI=true or REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(INSTALL_HINT)
    return bin_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the server is a `postgres` test, marked or not, so `pytest -m postgres` finds every one."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A started PostgresServer on 127.0.0.1, shared by the session and stopped (its directory removed) at the end."""
    server = PostgresServer(installed_postgres()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """postgresql://postgres@127.0.0.1:PORT/t_0001 and so on: an empty database of its own, dropped afterwards."""
    name = f"t_{next(_database_numbers):04d}"
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)
