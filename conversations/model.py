"""The consultation as plain, frozen data: what the loader builds and the engine reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from conversations.expressions import Expression

DONT_KNOW = "dont_know"


class QuestionKind(StrEnum):
    """How a question is answered (issue 13's file contract)."""

    TEXT = "text"  # typed words
    CHOICE = "choice"  # one option
    MULTI = "multi"  # options ticked on and off, then Done
    SCALE = "scale"  # one point of an ordered scale, most positive first
    NUMBER = "number"  # a whole number between min and max
    INFO = "info"  # a page to read, then Next; nothing is stored


ANSWERABLE = frozenset(QuestionKind) - {QuestionKind.INFO}
WITH_OPTIONS = frozenset({QuestionKind.CHOICE, QuestionKind.MULTI, QuestionKind.SCALE})


@dataclass(frozen=True)
class Option:
    """One button; `words` are typed equivalents ("yes", "agree"); `exclusive` stands alone in a multi."""

    id: str
    label: str
    words: tuple[str, ...] = ()
    exclusive: bool = False


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
    """One page of the consultation: a question of some kind, or an info page (kind INFO)."""

    id: str
    number: int  # its place in the file, from 1 (tenants see numbers that count only what applies to them)
    text: str
    kind: QuestionKind
    topic: str = ""
    context: str = ""
    objectives: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()  # a scale's points come first, most positive first; then "don't know"
    reason_prompt: str = ""
    max_length: int = 2000
    required: bool = False
    show_if: Expression | None = None
    show_if_source: str = ""
    min_choices: int = 1
    max_choices: int | None = None  # None: all of them
    minimum: int | None = None  # a number question's range
    maximum: int | None = None
    unit: str = ""  # "people"
    unit_one: str = ""  # "person": the unit after 1 (the plural unit when not given)

    @property
    def answerable(self) -> bool:
        """Everything but an info page takes an answer."""
        return self.kind is not QuestionKind.INFO

    @property
    def asks_reason(self) -> bool:
        """A choice, scale or multi may follow with an optional 'why' in the tenant's own words."""
        return self.kind in WITH_OPTIONS and bool(self.reason_prompt)

    def option(self, option_id: str) -> Option | None:
        """The option with this id, if the question has one."""
        return next((o for o in self.options if o.id == option_id), None)

    @property
    def points(self) -> tuple[Option, ...]:
        """A scale's points, most positive first (its "don't know" is not one of them)."""
        return tuple(o for o in self.options if o.id != DONT_KNOW) if self.kind is QuestionKind.SCALE else ()

    def score(self, option_id: str) -> int | None:
        """A scale point's score: n for the first (most positive) down to 1; None for "don't know" or no point."""
        ids = [o.id for o in self.points]
        return len(ids) - ids.index(option_id) if option_id in ids else None

    def unit_for(self, number: int | float) -> str:
        """The unit after this number: "1 person", "3 people"."""
        return self.unit_one if number == 1 and self.unit_one else self.unit

    @property
    def most_choices(self) -> int:
        """How many options a multi may have ticked at once."""
        return self.max_choices if self.max_choices is not None else len(self.options)


@dataclass(frozen=True)
class Measure:
    """A headline figure: the % of those who answered `question` who gave one of `counts`."""

    id: str
    title: str
    question: str
    counts: tuple[str, ...]


@dataclass(frozen=True)
class Alert:
    """Words that mean an answer needs a person, not a count (damp and mould, safety, harassment, self-harm):
    a text answer or reason containing any of `words` (whole words, any case; conversations.alerts) is flagged."""

    id: str
    title: str
    words: tuple[str, ...]


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
    measures: tuple[Measure, ...] = ()
    alerts: tuple[Alert, ...] = ()
    retention_days: int | None = None
    source_file: str = ""

    def message(self, key: str, **values: object) -> str:
        """A piece of the bot's own wording, filled in; wording lives in data, never in code."""
        return self.messages[key].format(**values)

    def objective(self, objective_id: str) -> Objective:
        """The objective with this id (ids are checked on load)."""
        return next(o for o in self.objectives if o.id == objective_id)

    def topic(self, topic_id: str) -> Topic | None:
        """The topic with this id, or None for a question without one."""
        return next((t for t in self.topics if t.id == topic_id), None)

    def alert(self, alert_id: str) -> Alert | None:
        """The alert with this id, or None for one since removed from the file."""
        return next((a for a in self.alerts if a.id == alert_id), None)

    def question(self, question_id: str) -> Question | None:
        """The question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def answerable(self) -> tuple[Question, ...]:
        """The questions that take an answer (info pages left out), in order."""
        return tuple(q for q in self.questions if q.answerable)

    @property
    def routed(self) -> bool:
        """Whether any question is shown only to some tenants."""
        return any(q.show_if is not None for q in self.questions)

    def with_window(self, opens_at: datetime | None, closes_at: datetime | None) -> Consultation:
        """A copy with the dates overridden, for a rerun or a rehearsal."""
        from dataclasses import replace

        return replace(self, opens_at=opens_at or self.opens_at, closes_at=closes_at or self.closes_at)
