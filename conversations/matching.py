"""Typed words that count as a button, so a tenant can type 'yes' or 'not sure' instead of tapping."""

from __future__ import annotations

import re

from conversations.model import Consultation, Question

_EDGE_PUNCTUATION = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, single spaces, no punctuation or emoji at either end ('Yes!' -> 'yes')."""
    text = _SPACES.sub(" ", text.replace("’", "'")).strip().lower()
    return _EDGE_PUNCTUATION.sub("", text)


def is_word(consultation: Consultation, action: str, text: str) -> bool:
    """True when the whole message is one of the typed words for this action ('skip', 'back', ...)."""
    return normalise(text) in consultation.words.get(action, ())


def matching_option(question: Question, text: str) -> str | None:
    """The option a typed message names, by its words or its label; None if it names none."""
    said = normalise(text)
    if not said:
        return None
    for option in question.options:
        if said in option.words or said == normalise(option.label):
            return option.id
    return None


def change_number(text: str) -> int | None:
    """'change 2', '2' or 'question 2' -> 2; anything else -> None."""
    match = re.fullmatch(r"(?:change|edit|question|q)?\s*(?:answer\s*)?(\d{1,2})", normalise(text))
    return int(match.group(1)) if match else None
