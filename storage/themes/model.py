"""The plain data theme analysis works on: answers in, themes and suggestions out; no SQL, no Telegram."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Response:
    """One written answer to analyse; `key` is stable across runs (an answer row id, or a data set's id)."""

    key: str
    text: str


@dataclass(frozen=True)
class ThemeSeed:
    """A theme the analysis must use as it is: made by staff, or kept from an earlier run."""

    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Suggestion:
    """One theme on one answer, with how sure the machine is (0 to 1)."""

    theme_id: str
    confidence: float


@dataclass(frozen=True)
class ThemeSummary:
    """A theme as staff and the board see it: short name from key phrases, 3 quotes (answer keys), a count."""

    id: str
    name: str
    description: str
    key_phrases: tuple[str, ...]
    quotes: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class Campaign:
    """The same text pasted by many respondents: counted once as a campaign, each answer still kept."""

    text: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Analysis:
    """One run over one question's answers.

    Every key given is in exactly one of: `confirmed` (staff decided; echoed back unchanged), `suggestions`
    (machine, at least one theme), `needs_reading` (no theme fits well enough) or `non_answers` ("no", "n/a").
    """

    themes: tuple[ThemeSummary, ...]
    suggestions: Mapping[str, tuple[Suggestion, ...]]
    needs_reading: tuple[str, ...]
    non_answers: tuple[str, ...]
    confirmed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    duplicate_of: Mapping[str, str] = field(default_factory=dict)  # key -> the first key of its (near-)duplicates
    campaigns: tuple[Campaign, ...] = ()
    ask_first: tuple[str, ...] = ()  # keys not confirmed, the ones the machine is least sure of first
