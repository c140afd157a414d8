"""`consultation-bot purge` deletes what is past the retention period and says what it deleted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from conversations.events import Press, Start, Text
from conversations.file.loader import load_consultation
from conversations.flow.engine import step
from conversations.state import ConversationState
from storage import Database, StepRecord, TranscriptLine, changed_answers
from tests.cli.test_cli import cli


async def seed(url: str) -> None:
    """One tenant who agreed and answered question 1, in the bundled consultation's window."""
    consultation = load_consultation()
    now = datetime(2020, 11, 10, 12, tzinfo=UTC)
    db = await Database.open(url)
    state = ConversationState()
    revision = 0
    for update_id, event in enumerate([Start(), Press("consent:yes"), Text("Keep this a while")], start=1):
        result = step(consultation, state, event, now)
        await db.apply_step(StepRecord(
            user_id=42, consultation_id=consultation.id, consultation_version=consultation.version,
            privacy_version=consultation.privacy_version, update_id=update_id, expected_revision=revision,
            state=result.state, changed=changed_answers(result.state, result.changed),
            transcript=(TranscriptLine("in", "x", now),), at=now,
        ))
        state, revision = result.state, revision + 1
    await db.close()


def test_purge_after_the_retention_period_deletes_and_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    asyncio.run(seed(url))
    result = cli("purge", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "deleted 1 respondents, 1 answers and 3 transcript lines" in result.stdout
    assert b"Keep this a while" not in (tmp_path / "c.db").read_bytes()


def test_purge_before_the_retention_period_deletes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    asyncio.run(seed(url))
    env = {"DATABASE_URL": url, "CONSULTATION_OPENS_AT": "2020-11-04T09:00",
           "CONSULTATION_CLOSES_AT": "2099-11-30T17:00"}
    result = cli("purge", env=env, cwd=tmp_path)
    assert "Nothing to purge yet" in result.stdout
