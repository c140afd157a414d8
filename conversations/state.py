"""One tenant's place in the conversation and their answers: plain data that storage saves as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

STATE_FORMAT = 2  # 2: answers of every kind (choices, number, shown) and a multi's ticks in progress


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
    """A tenant's answer to one question, of any kind, or a skip; or the mark of a question they were not shown."""

    choice: str | None = None  # a choice's or a scale's option id
    text: str | None = None  # words, or the reason after a choice, scale or multi
    skipped: bool = False
    choices: tuple[str, ...] = ()  # a multi's ticked option ids, in the options' order
    number: int | None = None
    shown: bool = True  # False: routed out for this tenant (show_if), so it does not count

    @property
    def given(self) -> bool:
        """True when the tenant said something (not just skipped) to a question they were shown."""
        return self.shown and bool(self.choice or self.text or self.choices or self.number is not None)

    @property
    def counts(self) -> bool:
        """Answered or skipped: what the review, the exports' current answers and the figures count."""
        return self.shown and (self.given or self.skipped)


NOT_SHOWN = Answer(shown=False)


@dataclass(frozen=True)
class ConversationState:
    """Everything the engine needs to carry a tenant on from where they were."""

    stage: Stage = Stage.NEW
    position: int = 0
    phase: Phase = Phase.ASK
    furthest: int = -1
    answers: dict[str, Answer] = field(default_factory=dict)
    from_review: bool = False
    draft: tuple[str, ...] = ()  # a multi question's ticks before Done
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
            answers={qid: _answer(a) for qid, a in data.get("answers", {}).items()},
            from_review=bool(data.get("from_review", False)),
            draft=tuple(data.get("draft", ())),
            consent_at=when("consent_at"),
            started_at=when("started_at"),
            submitted_at=when("submitted_at"),
            source=data.get("source"),
        )


def _answer(data: dict[str, Any]) -> Answer:
    """An answer from JSON; format 1 had only choice, text and skipped, which keep their meaning."""
    return Answer(
        choice=data.get("choice"),
        text=data.get("text"),
        skipped=bool(data.get("skipped", False)),
        choices=tuple(data.get("choices", ())),
        number=data.get("number"),
        shown=bool(data.get("shown", True)),
    )
