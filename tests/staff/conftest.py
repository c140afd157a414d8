"""Staff tests get a fresh database each, on both backends as tests/storage/conftest.py does it: a test that uses
`db` (or `url`) runs once on a SQLite file and once on a fresh PostgreSQL database (marked `postgres`); one about
the SQLite file itself is marked `sqlite_only`. The bundled consultation is loaded once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conversations.file.loader import load_consultation
from conversations.model import Consultation
from storage import Database

BACKENDS = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about SQLite's file itself; not run on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that opens a database gets one run per backend (only SQLite for `sqlite_only`)."""
    if "url" not in metafunc.fixturenames:
        return
    only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
    params = [pytest.param(name, marks=pytest.mark.postgres) if name == "postgres" else name
              for name in BACKENDS if name == "sqlite" or not only_sqlite]
    metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture(scope="session")
def consultation() -> Consultation:
    return load_consultation()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The SQLite file (sqlite runs only)."""
    return tmp_path / "staff.db"


@pytest.fixture
def url(backend: str, request: pytest.FixtureRequest, db_path: Path) -> str:
    """The database under test: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{db_path}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    database = await Database.open(url)
    yield database
    await database.close()
