"""Typed words that count as a button, so a tenant can type 'yes' or 'not sure' instead of tapping."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.model import Consultation, Question

_PIECES = re.compile(r"\s*(?:,|;|/|&|\+|\band\b|\n)\s*", re.IGNORECASE)
_EDGE_PUNCTUATION = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, single spaces, no punctuation or emoji at either end ('Yes!' -> 'yes')."""
    text = _SPACES.sub(" ", text.replace("’", "'")).strip().lower()
    return _EDGE_PUNCTUATION.sub("", text)


def is_word(consultation: Consultation, action: str, text: str) -> bool:
    """True when the whole message is one of the typed words for this action ('skip', 'back', ...)."""
    return normalise(text) in consultation.words.get(action, ())


def matching_options(question: Question, text: str) -> list[str]:
    """Every option a typed message names, by its words or its label (two means it is ambiguous)."""
    said = normalise(text)
    if not said:
        return []
    return [o.id for o in question.options if said in o.words or said == normalise(o.label)]


def matching_option(question: Question, text: str) -> str | None:
    """The one option a typed message names; None if it names none, or more than one."""
    found = matching_options(question, text)
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Typed:
    """A multi question's typed answer: the options it names, or the pieces that named none or several."""

    chosen: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()


def typed_selection(question: Question, text: str) -> Typed:
    """'1, 3', '2 and 4' or option words ('repairs, cleaning'): numbers count the options from 1."""
    whole = matching_options(question, text)
    if len(whole) == 1:
        return Typed((whole[0],))
    chosen: list[str] = []
    unknown: list[str] = []
    ambiguous: list[str] = []
    for piece in _PIECES.split(text):
        said = piece.strip()
        if not normalise(said):
            continue
        if said.isdecimal():
            number = int(said)
            if 1 <= number <= len(question.options):
                chosen.append(question.options[number - 1].id)
            else:
                unknown.append(said)
            continue
        found = matching_options(question, said)
        if len(found) == 1:
            chosen.append(found[0])
        elif found:
            ambiguous.append(said)
        else:
            unknown.append(said)
    order = [o.id for o in question.options]
    return Typed(tuple(sorted(set(chosen), key=order.index)), tuple(unknown), tuple(ambiguous))


def typed_number(text: str) -> int | None:
    """A whole number, perhaps with a unit after it ('3', '3 people'); None for '3.5', 'three' or nothing."""
    match = re.fullmatch(r"\s*([-+]?\d{1,9})(?:\s*[a-z]+)?\s*", text.lower().replace(",", ""))
    return int(match.group(1)) if match else None


def change_number(text: str) -> int | None:
    """'change 2', '2' or 'question 2' -> 2; anything else -> None."""
    match = re.fullmatch(r"(?:change|edit|question|q)?\s*(?:answer\s*)?(\d{1,2})", normalise(text))
    return int(match.group(1)) if match else None
