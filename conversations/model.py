"""The consultation as plain, frozen data: what the loader builds and the engine reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class QuestionKind(StrEnum):
    """How a question is answered: typed words, or a button followed by an optional reason."""

    TEXT = "text"
    CHOICE = "choice"


@dataclass(frozen=True)
class Option:
    """One button on a choice question; `words` are typed equivalents ("yes", "agree")."""

    id: str
    label: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Objective:
    """One objective of the strategy with its plain-English explanation."""

    id: str
    title: str
    explanation: str


@dataclass(frozen=True)
class Topic:
    """A heading the consultation groups its questions under."""

    id: str
    title: str


@dataclass(frozen=True)
class Question:
    """One consultation question, shown after the objectives it relates to."""

    id: str
    number: int
    topic: str
    text: str
    kind: QuestionKind
    context: str = ""
    objectives: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    reason_prompt: str = ""
    max_length: int = 2000

    @property
    def asks_reason(self) -> bool:
        """A choice question may follow the button with an optional free-text 'why'."""
        return self.kind is QuestionKind.CHOICE and bool(self.reason_prompt)

    def option(self, option_id: str) -> Option | None:
        """The option with this id, if the question has one."""
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Reminder:
    """A reminder the bot sends on its own, counted back from the closing time."""

    id: str
    before_close: timedelta
    audience: str
    text: str


@dataclass(frozen=True)
class Consultation:
    """Everything one consultation says and when it runs; one file makes one of these."""

    id: str
    version: str
    title: str
    organisation: str
    welcome: str
    introduction: tuple[str, ...]
    privacy_notice: str
    privacy_version: str
    thank_you: str
    minutes_to_complete: int
    opens_at: datetime
    closes_at: datetime
    timezone: ZoneInfo
    objectives: tuple[Objective, ...]
    topics: tuple[Topic, ...]
    questions: tuple[Question, ...]
    messages: dict[str, str] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reminders: tuple[Reminder, ...] = ()
    retention_days: int | None = None
    source_file: str = ""

    def message(self, key: str, **values: object) -> str:
        """A piece of the bot's own wording, filled in; wording lives in data, never in code."""
        return self.messages[key].format(**values)

    def objective(self, objective_id: str) -> Objective:
        """The objective with this id (ids are checked on load)."""
        return next(o for o in self.objectives if o.id == objective_id)

    def topic(self, topic_id: str) -> Topic:
        """The topic with this id (ids are checked on load)."""
        return next(t for t in self.topics if t.id == topic_id)

    def question(self, question_id: str) -> Question | None:
        """The question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)

    def with_window(self, opens_at: datetime | None, closes_at: datetime | None) -> Consultation:
        """A copy with the dates overridden, for a rerun or a rehearsal."""
        from dataclasses import replace

        return replace(self, opens_at=opens_at or self.opens_at, closes_at=closes_at or self.closes_at)
