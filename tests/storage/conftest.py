"""Every storage test runs on both backends: a fresh SQLite file in a folder Database.open must create, and a fresh
database on a throwaway PostgreSQL server (tests/postgres_server.py). Tests of SQLite's own machinery (the file,
its WAL, checkpoints, file backups) are marked `sqlite_only`; PostgreSQL's counterparts are in
test_postgres_storage.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database

BACKENDS = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about SQLite's file itself; not run on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that opens a database gets one run per backend (only SQLite for `sqlite_only`)."""
    if "url" not in metafunc.fixturenames or _parametrizes_url(metafunc):
        return
    only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
    params = [pytest.param(name, marks=pytest.mark.postgres) if name == "postgres" else name
              for name in BACKENDS if name == "sqlite" or not only_sqlite]
    metafunc.parametrize("backend", params, indirect=True)


def _parametrizes_url(metafunc: pytest.Metafunc) -> bool:
    """A test that gives its own `url` values (tests of URL parsing) is not a database test."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0].split(",") if isinstance(mark.args[0], str) else mark.args[0]
        if "url" in [name.strip() for name in names]:
            return True
    return False


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An absolute sqlite URL whose parent folder does not exist yet."""
    return f"sqlite:///{tmp_path / 'data' / 'test.db'}"


@pytest.fixture
def url(backend: str, request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The database under test: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    """An open database, closed after the test."""
    database = await Database.open(url)
    yield database
    await database.close()
