"""Erasure is for good: no answer or transcript text left in the file or its WAL, and no way back in."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.state import Answer
from storage import Database, StaleStateError
from tests.storage.builders import CONSULTATION, answer, record

TENANT = 987_654_321
SECRETS = (
    "SECRET-ANSWER-XYZZY-7731",
    "SECRET-CHANGED-ANSWER-PLUGH-4410",
    "Ünïcødé секрет 🔒 סוד-SECRET-UTF8",
    ("SECRET-LONG-" + "ž🙂" * 2100)[:4096],  # spills onto overflow pages
)


def file_bytes(path: Path) -> bytes:
    """The database file and whatever WAL and shared-memory files sit beside it."""
    parts = [path.read_bytes()]
    for suffix in ("-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            parts.append(companion.read_bytes())
    return b"".join(parts)


def fragments(text: str, size: int = 48) -> list[bytes]:
    """Pieces of the text's UTF-8 bytes: a long text is split across overflow pages, so search for each piece."""
    data = text.encode()
    return [data[i : i + size] for i in range(0, len(data), size) if len(data[i : i + size]) >= 16]


async def fill(db: Database) -> None:
    """The tenant to erase (with answer history) amid neighbours whose answers must stay."""
    for neighbour in range(1, 21):
        await answer(db, neighbour, "q1", f"NEIGHBOUR-KEEPS-{neighbour:03d}")
    for number, text in enumerate(SECRETS):
        await answer(db, TENANT, "q1" if number < 2 else f"q{number}", text, update_id=9000 + number)
    for neighbour in range(21, 41):
        await answer(db, neighbour, "q1", f"NEIGHBOUR-KEEPS-{neighbour:03d}")


@pytest.mark.sqlite_only
async def test_erasure_leaves_no_answer_or_transcript_text_in_the_file_or_wal(db: Database) -> None:
    await fill(db)
    assert await db.checkpoint()
    before = file_bytes(db.path)
    every_fragment = [piece for secret in SECRETS for piece in fragments(secret)]
    assert all(piece in before for piece in every_fragment), "the search must be able to find the text at all"

    assert await db.erase_respondent(TENANT)

    after = file_bytes(db.path)
    left = [piece for piece in every_fragment if piece in after]
    assert left == [], f"{len(left)} fragments of erased text are still in the file"
    assert b"NEIGHBOUR-KEEPS-001" in after and b"NEIGHBOUR-KEEPS-040" in after
    assert await db.respondent(TENANT) is None
    assert (await db.load_state(TENANT, CONSULTATION)).revision == 0
    assert await db.answer_history(TENANT, CONSULTATION) == []
    assert await db.transcript(TENANT, CONSULTATION) == []
    assert (await db.load_state(1, CONSULTATION)).state.answers["q1"] == Answer(text="NEIGHBOUR-KEEPS-001")
    assert await db.integrity_check() == "ok"


async def test_erasure_is_audited_by_reference_only(db: Database) -> None:
    await fill(db)
    reference = (await db.load_state(TENANT, CONSULTATION)).reference
    assert reference is not None
    await db.erase_respondent(TENANT)
    [entry] = await db.audit_entries()
    assert (entry.action, entry.outcome, entry.actor_id) == ("erase", "ok", None)
    assert reference in entry.detail
    assert str(TENANT) not in entry.detail
    assert not any(secret[:12] in entry.detail for secret in SECRETS)


async def test_a_step_loaded_before_an_erasure_cannot_bring_the_data_back(db: Database) -> None:
    await fill(db)
    loaded_before = await db.load_state(TENANT, CONSULTATION)
    assert loaded_before.revision > 0
    assert await db.erase_respondent(TENANT)
    comeback = loaded_before.state.with_answer("q9", Answer(text="late message"))
    with pytest.raises(StaleStateError, match="erased"):
        await db.apply_step(record(TENANT, loaded_before, comeback, {"q9": Answer(text="late message")}, update_id=1))
    assert await db.respondent(TENANT) is None
    assert await db.answer_history(TENANT, CONSULTATION) == []
    assert not await db.is_processed(1)


async def test_a_tenant_who_comes_back_after_erasure_starts_afresh_with_a_new_reference(db: Database) -> None:
    await answer(db, TENANT, "q1", "before")
    old = (await db.load_state(TENANT, CONSULTATION)).reference
    await db.erase_respondent(TENANT)
    assert await answer(db, TENANT, "q1", "after")
    loaded = await db.load_state(TENANT, CONSULTATION)
    assert loaded.revision == 1 and loaded.reference not in (None, old)
    assert [a.answer.text for a in await db.answer_history(TENANT, CONSULTATION)] == ["after"]


async def test_erasing_someone_unknown_changes_nothing_and_says_so(db: Database) -> None:
    assert not await db.erase_respondent(42)
    assert await db.audit_entries() == []


async def test_a_replayed_update_from_before_the_erasure_stays_a_no_op(db: Database) -> None:
    await fill(db)
    await db.erase_respondent(TENANT)
    assert await db.is_processed(9000)
    assert not await answer(db, TENANT, "q1", SECRETS[0], update_id=9000)
    assert await db.respondent(TENANT) is None
