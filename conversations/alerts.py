"""Which of a consultation's [[alerts]] an answer's words match: pure, compiled once per list of alerts.

How words match (the README's "Alerts" section says the same for the people who tune them):
- whole words, in any case: "gas" matches "Gas leak!" but not "Las Vegas" or "gasket";
- a word ending in * matches any ending: "harass*" matches harassed, harassing and harassment;
- punctuation and spacing do not matter: "anti-social behaviour" matches "anti social  behaviour", "Anti-Social
  Behaviour." and a phrase split over two lines; apostrophes are dropped, curly or straight, so "can't" matches
  "cant" and "can’t";
- a phrase's words must come together and in order; "antisocial", written as one word, is another word to list.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from conversations.model import Alert, Consultation
from conversations.state import Answer

APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u0060\u00b4]")  # ' ‘ ’ ʼ ` ´
SEPARATORS = re.compile(r"[\W_]+")  # anything that is not a letter or a digit
WILDCARD = "*"
SHORTEST_STEM = 3  # "ab*" would match far too much


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, every run of anything but letters and digits one space: what is matched."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return SEPARATORS.sub(" ", APOSTROPHES.sub("", folded)).strip()


def word_problem(word: str) -> str:
    """Why a word or phrase cannot be matched as written, or '' when it can (the file reader reports it)."""
    if not normalise(word.replace(WILDCARD, "")):
        return "has no letters or digits to match"
    for part in word.split():
        if WILDCARD in part.removesuffix(WILDCARD):
            return "can have * only at the end of a word (\"harass*\")"
        if part.endswith(WILDCARD) and len(normalise(part[:-1]).replace(" ", "")) < SHORTEST_STEM:
            return f"would match too many words: put at least {SHORTEST_STEM} letters before the *"
    return ""


def word_pattern(word: str) -> str:
    """One word or phrase as a regular expression over normalised text."""
    pieces = []
    for part in word.split():
        stem = " ".join(re.escape(token) for token in normalise(part.removesuffix(WILDCARD)).split())
        pieces.append(stem + (r"\w*" if part.endswith(WILDCARD) else ""))
    return " ".join(pieces)


@dataclass(frozen=True)
class AlertMatcher:
    """The alerts compiled: one regular expression each, whole words only."""

    patterns: tuple[tuple[str, re.Pattern[str]], ...]

    def matches(self, text: str | None) -> tuple[str, ...]:
        """The ids of the alerts this text matches, in the file's order; () for no text."""
        if not text or not self.patterns:
            return ()
        words = normalise(text)
        return tuple(alert_id for alert_id, pattern in self.patterns if pattern.search(words))


@lru_cache(maxsize=16)
def compile_alerts(alerts: tuple[Alert, ...]) -> AlertMatcher:
    """Compiled once per list of alerts (a consultation's never changes while the bot runs)."""
    compiled = []
    for alert in alerts:
        usable = [word_pattern(word) for word in alert.words if not word_problem(word)]
        if usable:
            compiled.append((alert.id, re.compile(r"(?<!\w)(?:" + "|".join(usable) + r")(?!\w)")))
    return AlertMatcher(tuple(compiled))


def matcher_for(consultation: Consultation) -> AlertMatcher:
    """The consultation's alerts, compiled."""
    return compile_alerts(consultation.alerts)


def answer_alerts(matcher: AlertMatcher, answer: Answer | None) -> tuple[str, ...]:
    """The alerts an answer's own words match: a text question's answer, or the reason after a choice, scale or
    multi. Skips, numbers, ticks and questions not shown have no words to match."""
    if answer is None or not answer.shown or not answer.text:
        return ()
    return matcher.matches(answer.text)


def flags_for(consultation: Consultation, changed: dict[str, Answer | None]) -> dict[str, tuple[str, ...]]:
    """For one step's changed answers: the alerts each new answer matches (questions matching none left out)."""
    if not consultation.alerts:
        return {}
    matcher = matcher_for(consultation)
    found = {question_id: answer_alerts(matcher, answer) for question_id, answer in changed.items()}
    return {question_id: ids for question_id, ids in found.items() if ids}


def newly_flagged(consultation: Consultation, before: dict[str, Answer], flags: dict[str, tuple[str, ...]]
                  ) -> dict[str, tuple[str, ...]]:
    """The alerts the new answers match that the answers they replace did not: what staff have not been told yet.
    A written answer sent in several messages is saved after each, and must not alert staff each time."""
    if not flags:
        return {}
    matcher = matcher_for(consultation)
    fresh = {}
    for question_id, ids in flags.items():
        already = set(answer_alerts(matcher, before.get(question_id)))
        new = tuple(alert_id for alert_id in ids if alert_id not in already)
        if new:
            fresh[question_id] = new
    return fresh
