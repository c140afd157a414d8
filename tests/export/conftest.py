"""The small fixed database, built once per module, and a helper that exports it into a folder."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Database
from storage.export import FORMATS, ExportResult, run_export
from tests.export.builders import NOW, build_database, bundled, predictable_references

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def golden_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The six tenants of builders.build, with references R-GOLD01..., in a file of its own."""
    path = tmp_path_factory.mktemp("golden") / "consultation.db"
    with pytest.MonkeyPatch.context() as patch:
        predictable_references(patch)

        async def make() -> None:
            await (await build_database(path)).close()

        asyncio.run(make())
    yield path


async def export_to(database: Path, folder: Path, identities: bool = False,
                    formats: tuple[str, ...] = tuple(FORMATS)) -> ExportResult:
    """Export the database as the command line would, at the fixed moment NOW."""
    db = await Database.open(f"sqlite:///{database}")
    try:
        return await run_export(db, bundled(), folder, formats, identities, actor_id=None, via="test", now=NOW)
    finally:
        await db.close()


def golden(name: str, actual: bytes) -> None:
    """Compare with tests/export/golden/NAME; UPDATE_GOLDEN=1 rewrites it (then read the diff)."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_bytes(), f"{name} differs from {path} (UPDATE_GOLDEN=1 rewrites it)"
