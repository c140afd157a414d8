"""Plain frozen data that crosses the storage border, so callers never see rows or SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from conversations.state import Answer, ConversationState

Direction = Literal["in", "out"]


class StorageUnavailableError(Exception):
    """The database cannot take a write or read just now (locked, read-only, disk full): try again shortly."""


class StaleStateError(Exception):
    """The saved state moved on since it was loaded (another writer, or an erasure): reload and re-run the step."""


def _require_aware(at: datetime, what: str) -> None:
    """Times are compared across BST/GMT and processes, so a zone is mandatory."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} needs a time zone, got naive {at!r}")


@dataclass(frozen=True)
class TranscriptLine:
    """One message in ('in', from the tenant) or out ('out', from the bot), in the order it happened."""

    direction: Direction
    text: str
    at: datetime

    def __post_init__(self) -> None:
        """Fail at the call site, not half-way into a transaction."""
        if self.direction not in ("in", "out"):
            raise ValueError(f"direction must be 'in' or 'out', got {self.direction!r}")
        _require_aware(self.at, "a transcript line's time")


@dataclass(frozen=True)
class LoadedState:
    """A tenant's saved state with the revision to pass back to apply_step; revision 0 means nothing saved yet."""

    state: ConversationState
    revision: int
    reference: str | None


@dataclass(frozen=True)
class StepRecord:
    """Everything one engine step produced, saved together or not at all."""

    user_id: int
    consultation_id: str
    consultation_version: str
    privacy_version: str
    update_id: int | None
    expected_revision: int
    state: ConversationState
    changed: dict[str, Answer | None]  # None: no answer counts any more (asked again)
    transcript: tuple[TranscriptLine, ...]
    at: datetime
    # The [[alerts]] ids each changed answer's words match (conversations.alerts.flags_for), saved with the answer.
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Catch a record that contradicts itself before any lock is taken."""
        _require_aware(self.at, "a step record's time")
        if self.expected_revision < 0:
            raise ValueError("expected_revision cannot be negative")
        for question_id, answer in self.changed.items():
            if self.state.answers.get(question_id) != answer:
                raise ValueError(f"changed answer for {question_id!r} differs from the one in the new state")
        for question_id in self.flags:
            if self.changed.get(question_id) is None:
                raise ValueError(f"flags for {question_id!r}, whose answer did not change in this step")


def changed_answers(state: ConversationState, question_ids: tuple[str, ...]) -> dict[str, Answer | None]:
    """The new answers for the question ids the engine reports as changed (StepResult.changed); None where the
    state no longer holds one."""
    return {question_id: state.answers.get(question_id) for question_id in question_ids}


@dataclass(frozen=True)
class StoredAnswer:
    """One saved answer with when it was given and which wording of the consultation the tenant saw."""

    question_id: str
    answer: Answer
    answered_at: datetime
    consultation_version: str
    current: bool = True


@dataclass(frozen=True)
class Respondent:
    """What is kept about a tenant besides their answers: no name, no username."""

    user_id: int
    reference: str
    first_seen: datetime
    source: str | None
    consent_privacy_version: str | None
    consent_given_at: datetime | None
    consent_withdrawn_at: datetime | None
    reminders_opted_out: bool
    blocked: bool

    @property
    def consented(self) -> bool:
        """Agreed to the privacy notice and has not withdrawn since."""
        return self.consent_given_at is not None and self.consent_withdrawn_at is None


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when, and how it ended; never the content of anyone's answers."""

    id: int
    at: datetime
    actor_id: int | None
    action: str
    detail: str
    outcome: str


@dataclass(frozen=True)
class PurgeReport:
    """What a retention purge deleted; due is False when the retention period has not run out yet."""

    respondents: int
    answers: int
    transcript_lines: int
    due: bool = True
