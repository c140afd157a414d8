"""Every storage test gets its own database file in a fresh folder (which Database.open must create)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database


@pytest.fixture
def url(tmp_path: Path) -> str:
    """An absolute sqlite URL whose parent folder does not exist yet."""
    return f"sqlite:///{tmp_path / 'data' / 'test.db'}"


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    """An open database, closed after the test."""
    database = await Database.open(url)
    yield database
    await database.close()
