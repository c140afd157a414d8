"""Clean one question's answers before theming: set non-answers aside, group duplicates, flag pasted campaigns.

Rules (documented here because staff will ask):
- a non-answer is an answer whose letters and digits, lower-cased, are empty or one of a short English list
  ("no", "none", "nothing", "n/a", "no comment", "nothing to add", "not sure", "don't know", ...);
- two answers are duplicates when their normalised text (lower case, punctuation and spacing removed) is the same,
  and near duplicates when their character 3-5 gram TF-IDF cosine is at least `NEAR_DUPLICATE` (0.9): a word
  dropped, added or misspelt; every key in a group points at the group's first key (input order);
- a campaign is one normalised text given by at least max(3, 1% of the answers that are not non-answers)
  respondents: identical pasting, not agreement in one's own words. Each answer of a campaign is still kept and themed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from storage.themes.model import Campaign, Response

NEAR_DUPLICATE = 0.9
CAMPAIGN_MIN = 3
CAMPAIGN_SHARE = 0.01
_BLOCK = 256  # rows per block of the similarity product: memory stays at _BLOCK x answers, not answers squared

NON_ANSWERS = frozenset({
    "", "no", "nope", "none", "nothing", "nil", "na", "n a", "nothing really", "not really", "no comment",
    "no comments", "nothing to add", "nothing to say", "nothing further", "nothing else", "no further comments",
    "not sure", "unsure", "dont know", "do not know", "don t know", "dunno", "idk", "no idea", "not applicable",
    "no opinion", "none really", "no thanks", "yes", "ok", "okay", "same", "same as above", "as above", "see above",
    "pass", "skip", "x", "test",
})


def normalise(text: str) -> str:
    """One spelling for texts that differ only in case, accents, punctuation or spacing."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded.replace("'", "").replace("\u2019", "")).split())


def is_non_answer(text: str) -> bool:
    """'No', 'n/a', '-' and the like say nothing to theme: they are counted apart, not read as a theme."""
    cleaned = normalise(text)
    return cleaned in NON_ANSWERS or cleaned.replace(" ", "") in NON_ANSWERS


@dataclass(frozen=True)
class Cleaned:
    """What cleaning found: the answers to theme (in input order), non-answers, duplicate groups, campaigns."""

    answers: tuple[Response, ...]
    non_answers: tuple[str, ...]
    duplicate_of: dict[str, str]
    campaigns: tuple[Campaign, ...]


def _near_groups(texts: Sequence[str]) -> list[int]:
    """Group index of each text: texts at char TF-IDF cosine >= NEAR_DUPLICATE join (union-find, blocked product)."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(texts) > 1:
        matrix = sp.csr_matrix(TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                               dtype=np.float32).fit_transform(texts))
        transposed = sp.csr_matrix(matrix.T)
        for start in range(0, len(texts), _BLOCK):
            block = (matrix[start:start + _BLOCK] @ transposed).tocoo()
            keep = (block.data >= NEAR_DUPLICATE) & (block.row + start < block.col)
            for row, col in zip(block.row[keep] + start, block.col[keep], strict=True):
                a, b = find(int(row)), find(int(col))
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return [find(i) for i in range(len(texts))]


def campaign_threshold(answered: int) -> int:
    """How many identical answers make a campaign: 3 in a small consultation, 1% of answers in a big one."""
    return max(CAMPAIGN_MIN, math.ceil(CAMPAIGN_SHARE * answered))


def clean(responses: Sequence[Response]) -> Cleaned:
    """Split answers into non-answers and answers to theme, and find duplicate groups and campaigns among the latter."""
    non_answers = tuple(r.key for r in responses if is_non_answer(r.text))
    skipped = set(non_answers)
    answers = tuple(r for r in responses if r.key not in skipped)
    by_text: dict[str, list[str]] = {}
    for response in answers:
        by_text.setdefault(normalise(response.text), []).append(response.key)
    texts = list(by_text)
    groups = _near_groups(texts)
    first_key = {g: by_text[texts[g]][0] for g in set(groups)}
    duplicate_of: dict[str, str] = {}
    for text, group in zip(texts, groups, strict=True):
        for key in by_text[text]:
            if key != first_key[group]:
                duplicate_of[key] = first_key[group]
    originals = {r.key: r.text for r in answers}
    least = campaign_threshold(len(answers))
    campaigns = tuple(Campaign(text=originals[keys[0]], keys=tuple(keys))
                      for keys in sorted(by_text.values(), key=lambda ks: (-len(ks), ks[0])) if len(keys) >= least)
    return Cleaned(answers=answers, non_answers=non_answers, duplicate_of=duplicate_of, campaigns=campaigns)
