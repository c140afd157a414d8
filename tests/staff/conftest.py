"""Staff tests get a fresh database file each; the bundled consultation is loaded once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conversations.file.loader import load_consultation
from conversations.model import Consultation
from storage import Database


@pytest.fixture(scope="session")
def consultation() -> Consultation:
    return load_consultation()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "staff.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(f"sqlite:///{db_path}")
    yield database
    await database.close()
