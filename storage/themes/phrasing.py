"""Key phrases as tenants wrote them: 'value for money', not the stop-word-stripped 'value money' TF-IDF keeps."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

GAP = 2  # at most this many small words between a phrase's two words ("value for money", "cost of the work")
# The small words a phrase may hold: TF-IDF left them out, and putting them back changes no meaning.
SMALL = ("a", "an", "the", "of", "for", "to", "in", "on", "at", "by", "with", "from", "and", "or", "our", "my",
         "their", "your", "its", "this", "that", "these", "those", "is", "are", "was", "were", "be", "most", "very",
         "so")


def as_written(phrase: str, texts: Sequence[str]) -> str:
    """The commonest way the answers write a two-word phrase with up to GAP words between; the phrase itself when
    they never do (or it is one word)."""
    words = phrase.split()
    if len(words) != 2:
        return phrase
    first, last = (re.escape(w) for w in words)
    small = "|".join(SMALL)
    pattern = re.compile(rf"\b{first}(?:[\s-]+(?:{small})){{0,{GAP}}}[\s-]+{last}\b", re.IGNORECASE)
    seen: Counter[str] = Counter()
    for text in texts:
        for found in pattern.finditer(text):
            seen[" ".join(found.group(0).lower().split())] += 1
    if not seen:
        return phrase
    return min(seen.items(), key=lambda item: (-item[1], len(item[0]), item[0]))[0]


def readable(phrases: Sequence[str], texts: Sequence[str]) -> tuple[str, ...]:
    """Every key phrase as written, duplicates dropped, order kept."""
    return tuple(dict.fromkeys(as_written(phrase, texts) for phrase in phrases))
