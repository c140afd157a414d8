"""The small fixed databases (the bundled consultation's, and every-kind.toml's), built once per module, and a
helper that exports one into a folder."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from conversations.model import Consultation
from storage import Database
from storage.export import FORMATS, ExportResult, run_export
from tests.export import every_kind, themed
from tests.export.builders import NOW, build_database, bundled, database_url, predictable_references

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


_NAMES = itertools.count(1)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _on_postgres(request: pytest.FixtureRequest, prefix: str, build: Callable[[str], Awaitable[Database]]
                 ) -> Iterator[str]:
    """A fixed database built again on the throwaway PostgreSQL server (same references), dropped afterwards."""
    server = request.getfixturevalue("postgres_server")
    name = f"{prefix}_{next(_NAMES)}"
    url = server.create_database(name)
    with pytest.MonkeyPatch.context() as patch:
        predictable_references(patch)

        async def make() -> None:
            await (await build(url)).close()

        asyncio.run(make())
    yield url
    server.drop_database(name)


@pytest.fixture(scope="module", params=BACKENDS)
def golden_database(request: pytest.FixtureRequest, golden_db: Path) -> Iterator[Path | str]:
    """The golden database on each backend: its file, then the same six tenants on PostgreSQL (whose exports
    must match the same golden files byte for byte)."""
    if request.param == "sqlite":
        yield golden_db
    else:
        yield from _on_postgres(request, "golden", build_database)


@pytest.fixture(scope="module", params=BACKENDS)
def every_kind_database(request: pytest.FixtureRequest, every_kind_db: Path) -> Iterator[Path | str]:
    """every_kind's database on each backend."""
    if request.param == "sqlite":
        yield every_kind_db
    else:
        yield from _on_postgres(request, "every_kind", every_kind.build_database)


@pytest.fixture(scope="module")
def every_kind_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The six tenants of every_kind.build (references R-GOLD01 for A to R-GOLD06 for F), in a file of its own."""
    path = tmp_path_factory.mktemp("every-kind") / "consultation.db"
    with pytest.MonkeyPatch.context() as patch:
        predictable_references(patch)

        async def make() -> None:
            await (await every_kind.build_database(path)).close()

        asyncio.run(make())
    yield path


@pytest.fixture(scope="module")
def themed_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, int]]]:
    """The bundled consultation with Q1 analysed and reviewed (themed.build; references R-GOLD01 for A ...), in a
    file of its own, with Q1's answer ids by tenant letter."""
    path = tmp_path_factory.mktemp("themed") / "consultation.db"
    with pytest.MonkeyPatch.context() as patch:
        predictable_references(patch)
        ids = asyncio.run(themed.build_database(path))
    yield path, ids


async def export_to(database: Path | str, folder: Path, identities: bool = False,
                    formats: tuple[str, ...] = tuple(FORMATS), consultation: Consultation | None = None
                    ) -> ExportResult:
    """Export the database as the command line would, at the fixed moment NOW (the bundled consultation's, or
    every_kind.NOW for another consultation)."""
    db = await Database.open(database_url(database))
    survey, now = (bundled(), NOW) if consultation is None else (consultation, every_kind.NOW)
    try:
        return await run_export(db, survey, folder, formats, identities, actor_id=None, via="test", now=now)
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
