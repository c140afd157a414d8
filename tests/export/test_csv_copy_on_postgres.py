"""On PostgreSQL responses.csv comes from COPY ... TO STDOUT, lines and local times made by the server: it must be
byte for byte what the general path (Python and csv.writer, value by value) writes from the same database, for
any text a tenant can type and any moment around a clock change."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import Database
from storage.export import rows
from storage.postgres.connection import connect
from tests.export.conftest import _on_postgres, export_to
from tests.export.every_kind import build_database, every_kind

pytestmark = pytest.mark.postgres
# What COPY's text format escapes (backslash, tab, line breaks, and the other control characters it names), and
# what it does not; NUL cannot be stored in PostgreSQL text at all (storage keeps it as U+FFFD).
AWKWARD = ["\\", "\t", "\n", "\r", "\b", "\f", "\v", "n", "a", ",", '"', "é", "😀", " ", "=", "\x01", "\x7f"]


@pytest.fixture(scope="module")
def awkward_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """every_kind's tenants on PostgreSQL, their written answers made of every character COPY escapes and their
    times a hair before whole seconds either side of London's, Adelaide's and St John's clock changes."""
    made = _on_postgres(request, "copy_csv", build_database)
    url = next(made)
    texts = ["tab\there", "back\\slash \\n not a newline", "line\nbreak\r\nand\rreturn", "\b\f\v\x01 controls",
             '=1+1, "quoted"\t\\', "é😀"]
    moments = [datetime(2021, 3, 28, 0, 59, 59, 999_999, tzinfo=UTC), datetime(2021, 3, 28, 1, 0, 0, 1, tzinfo=UTC),
               datetime(2021, 4, 3, 16, 29, 59, 999_999, tzinfo=UTC), datetime(2021, 3, 14, 5, 30, 0, tzinfo=UTC),
               datetime(2021, 10, 31, 1, 30, 0, 500_000, tzinfo=UTC)]

    async def roughen() -> None:
        conn = await connect(url)
        try:
            ids = [row[0] for row in await conn.execute_fetchall("SELECT id FROM answers WHERE text IS NOT NULL "
                                                                 "ORDER BY id")]
            assert ids, "every_kind has written answers"
            for n, answer_id in enumerate(ids):
                await conn.execute("UPDATE answers SET text = ? WHERE id = ?", (texts[n % len(texts)], answer_id))
            users = [row[0] for row in await conn.execute_fetchall("SELECT user_id FROM conversations ORDER BY 1")]
            for n, user_id in enumerate(users):
                at = moments[n % len(moments)]
                await conn.execute("UPDATE conversations SET started_at = ?, consent_at = ? WHERE user_id = ?",
                                   (at - timedelta(minutes=n), at, user_id))
        finally:
            await conn.close()

    asyncio.run(roughen())
    yield url
    next(made, None)  # dropped


@pytest.mark.parametrize("zone", ["Europe/London", "Australia/Adelaide", "America/St_Johns"])
@pytest.mark.parametrize("identities", [False, True])
def test_copy_writes_the_same_csv_as_the_general_path_for_awkward_text_and_times(
    awkward_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str, identities: bool
) -> None:
    survey = dataclasses.replace(every_kind(), timezone=ZoneInfo(zone))
    asyncio.run(export_to(awkward_database, tmp_path / "copy", identities=identities, formats=("csv",),
                          consultation=survey))
    monkeypatch.setattr(rows, "MAX_FLAT_QUESTIONS", 0)  # the general path: every value loaded into Python
    asyncio.run(export_to(awkward_database, tmp_path / "general", identities=identities, formats=("csv",),
                          consultation=survey))
    copied = (tmp_path / "copy" / "responses.csv").read_bytes()
    assert copied == (tmp_path / "general" / "responses.csv").read_bytes()
    assert b"back\\slash \\n not a newline" in copied and b"tab\there" in copied
    assert b'"line\nbreak\r\nand\rreturn"' in copied


@pytest.fixture(scope="module")
def plain_database(request: pytest.FixtureRequest) -> Iterator[str]:
    server = request.getfixturevalue("postgres_server")
    url: str = server.create_database("copy_lines")

    async def migrate() -> None:
        await (await Database.open(url)).close()

    asyncio.run(migrate())
    yield url
    server.drop_database("copy_lines")


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.text(alphabet=st.sampled_from(AWKWARD), max_size=12), min_size=1, max_size=8))
def test_copy_lines_gives_back_exactly_the_values_the_server_sent(plain_database: str, values: list[str]) -> None:
    async def read() -> str:
        conn = await connect(plain_database)
        try:
            await conn.execute("BEGIN")
            blocks = [block async for block in conn.copy_lines(
                "SELECT value FROM unnest(CAST(? AS text[])) WITH ORDINALITY AS t(value, n) ORDER BY n", (values,), 3)]
            await conn.execute("ROLLBACK")
        finally:
            await conn.close()
        assert sum(count for _, count in blocks) == len(values)
        return "".join(text for text, _ in blocks)

    assert asyncio.run(read()) == "".join(value + "\r\n" for value in values)
