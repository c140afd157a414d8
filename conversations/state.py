"""One tenant's place in the conversation and their answers: plain data that storage saves as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

STATE_FORMAT = 1


class Stage(StrEnum):
    """Where a tenant is in the consultation."""

    NEW = "new"
    CONSENT = "consent"
    DECLINED = "declined"
    QUESTION = "question"
    REVIEW = "review"
    SUBMITTED = "submitted"


class Phase(StrEnum):
    """Within a question: waiting for the answer, for an optional reason, or for more words or Next."""

    ASK = "ask"
    REASON = "reason"
    MORE = "more"


@dataclass(frozen=True)
class Answer:
    """A tenant's answer to one question: a choice, words, or a skip."""

    choice: str | None = None
    text: str | None = None
    skipped: bool = False

    @property
    def given(self) -> bool:
        """True when the tenant said something (not just skipped)."""
        return bool(self.choice or self.text)


@dataclass(frozen=True)
class ConversationState:
    """Everything the engine needs to carry a tenant on from where they were."""

    stage: Stage = Stage.NEW
    position: int = 0
    phase: Phase = Phase.ASK
    furthest: int = -1
    answers: dict[str, Answer] = field(default_factory=dict)
    from_review: bool = False
    consent_at: datetime | None = None
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    source: str | None = None

    def answer(self, question_id: str) -> Answer | None:
        """The saved answer to one question, if any."""
        return self.answers.get(question_id)

    def with_answer(self, question_id: str, answer: Answer) -> ConversationState:
        """A copy with one answer set; the mapping is copied, never shared."""
        answers = dict(self.answers)
        answers[question_id] = answer
        return replace(self, answers=answers)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, versioned so storage can migrate older shapes."""
        data = asdict(self)
        data["format"] = STATE_FORMAT
        data["stage"] = self.stage.value
        data["phase"] = self.phase.value
        for key in ("consent_at", "started_at", "submitted_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConversationState:
        """Rebuild a state saved by to_json."""

        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if value else None

        return cls(
            stage=Stage(data["stage"]),
            position=int(data["position"]),
            phase=Phase(data["phase"]),
            furthest=int(data["furthest"]),
            answers={qid: Answer(**a) for qid, a in data.get("answers", {}).items()},
            from_review=bool(data.get("from_review", False)),
            consent_at=when("consent_at"),
            started_at=when("started_at"),
            submitted_at=when("submitted_at"),
            source=data.get("source"),
        )
