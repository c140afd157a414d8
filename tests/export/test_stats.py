"""The /stats figures: who counts as what, the closing countdown, and the reminders-sent hook."""

from __future__ import annotations

import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conversations.screens.markup import plain
from storage import Database
from storage.export.figures import countdown, duration, stats_message
from storage.stats import gather_stats, reminders_sent
from tests.export.builders import bundled, database_url


async def test_the_figures_count_each_kind_of_respondent_once(golden_database: Path | str) -> None:
    db = await Database.open(database_url(golden_database))
    try:
        stats = await gather_stats(db, bundled())
    finally:
        await db.close()
    assert (stats.started, stats.agreed, stats.finished, stats.partial, stats.not_agreed) == (5, 3, 2, 1, 2)
    q1, q2, q3, q4, q5 = stats.questions
    assert (q1.answered, q1.skipped, q1.written) == (3, 0, 3)
    assert q2.choices == {"agree": 2, "disagree": 1} and q2.written == 2
    assert (q3.answered, q3.skipped) == (1, 1)  # the partial respondent never reached it: neither
    assert q4.choices == {"not_sure": 1, "disagree": 1}
    assert (q5.answered, q5.skipped) == (1, 1)
    assert dict(stats.sources) == {"poster": 1, "letter": 1, "": 1}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2020, 11, 2, 9, 0, tzinfo=UTC), "Opens in 2 days (Wednesday 4 November 2020 at 9am)."),
        (datetime(2020, 11, 27, 12, 30, tzinfo=UTC), "Closes in 3 days 4 hours (Monday 30 November 2020 at 5pm)."),
        (datetime(2020, 11, 30, 16, 58, tzinfo=UTC), "Closes in 2 minutes (Monday 30 November 2020 at 5pm)."),
        (datetime(2020, 12, 1, 10, 0, tzinfo=UTC), "Closed 17 hours ago (Monday 30 November 2020 at 5pm)."),
    ],
)
def test_the_countdown_says_how_long_until_it_opens_or_closes(now: datetime, expected: str) -> None:
    assert countdown(bundled(), now) == expected


def test_durations_read_naturally() -> None:
    consultation = bundled()
    assert duration(consultation, timedelta(days=1, hours=1)) == "1 day 1 hour"
    assert duration(consultation, timedelta(hours=5)) == "5 hours"
    assert duration(consultation, timedelta(seconds=20)) == "0 minutes"


async def test_reminders_sent_is_zero_until_storage_broadcasts_provides_it(
    golden_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "storage.broadcasts", types.ModuleType("storage.broadcasts"))
    db = await Database.open(f"sqlite:///{golden_db}")
    try:
        assert await reminders_sent(db, "any") == 0
    finally:
        await db.close()


async def test_reminders_sent_comes_from_storage_broadcasts(golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("storage.broadcasts")

    async def counted(db: Database, consultation_id: str) -> int:
        return 42 if consultation_id == bundled().id else -1

    fake.reminders_sent = counted  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "storage.broadcasts", fake)
    db = await Database.open(f"sqlite:///{golden_db}")
    try:
        stats = await gather_stats(db, bundled())
    finally:
        await db.close()
    assert stats.reminders_sent == 42
    assert "Reminders sent: 42" in plain(stats_message(bundled(), stats, datetime(2020, 11, 20, tzinfo=UTC)))
