"""Propose themes nobody has named yet: NMF topics over word TF-IDF, named from their key phrases."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

MIN_THEMES = 3
MAX_THEMES = 12
PHRASES = 5
QUOTES = 3
REPRESENTATIVES = 5  # answers whose mean stands for a suggested theme when answers are assigned to it


@dataclass(frozen=True)
class Proposal:
    """One suggested theme: its name, description, key phrases, and the answer rows that represent it best."""

    name: str
    description: str
    key_phrases: tuple[str, ...]
    representatives: tuple[int, ...]


def theme_count(answers: int) -> int:
    """About the square root of the distinct answers, between 3 and 12; under 3 answers, staff just read them."""
    if answers < MIN_THEMES:
        return 0
    return min(answers, max(MIN_THEMES, min(MAX_THEMES, round(math.sqrt(answers)))))


def key_phrases(weights: np.ndarray, vocabulary: Sequence[str], limit: int = PHRASES) -> tuple[str, ...]:
    """The heaviest terms, two-word phrases preferred over the words they contain, so names read naturally."""
    chosen: list[str] = []
    for index in np.argsort(-weights, kind="stable"):
        if weights[index] <= 0 or len(chosen) >= limit:
            break
        term = vocabulary[index]
        if any(term in phrase.split() or phrase in term.split() for phrase in chosen if " " in phrase or " " in term):
            if " " in term:  # a phrase replaces the word of it already chosen
                chosen = [phrase for phrase in chosen if phrase not in term.split()]
                chosen.append(term)
            continue
        chosen.append(term)
    return tuple(chosen[:limit])


def name_from(phrases: Sequence[str]) -> str:
    """'Repairs / waiting times': the first two key phrases, the first capitalised."""
    if not phrases:
        return "Other"
    return " / ".join(phrases[:2])[:1].upper() + " / ".join(phrases[:2])[1:]


def describe(phrases: Sequence[str]) -> str:
    """One sentence from the key phrases, for staff to reword."""
    if not phrases:
        return "Answers with no clear common thread."
    listed = ", ".join(phrases[:-1]) + (" and " if len(phrases) > 1 else "") + phrases[-1]
    return f"Answers that talk about {listed}."


def distinctive_phrases(words: sp.csr_matrix, rows: Sequence[int], vocabulary: Sequence[str]) -> tuple[str, ...]:
    """Key phrases of a group of answers: terms heavier in the group than in the question's answers overall."""
    if not rows or words.shape[1] == 0:
        return ()
    inside = np.asarray(words[list(rows)].mean(axis=0)).ravel()
    overall = np.asarray(words.mean(axis=0)).ravel()
    return key_phrases(inside - 0.5 * overall, vocabulary)


@dataclass(frozen=True)
class Proposed:
    """Suggested themes, and every answer row's weight on each of them (rows of `everything`, themes in order)."""

    proposals: tuple[Proposal, ...]
    weights: np.ndarray


def propose(words: sp.csr_matrix, everything: sp.csr_matrix, vectorizer: TfidfVectorizer, *,
            seed: int = 0) -> Proposed:
    """NMF topics of the word TF-IDF rows (one per distinct answer), largest first, with a fixed random state."""
    answers, terms = words.shape
    count = min(theme_count(answers), terms)
    if count == 0 or words.nnz == 0:
        return Proposed(proposals=(), weights=np.zeros((everything.shape[0], 0)))
    model = NMF(n_components=count, init="nndsvda", random_state=seed, max_iter=500, tol=1e-4)
    weights = model.fit_transform(words)
    vocabulary = list(vectorizer.get_feature_names_out())
    home = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1)
    order = sorted(range(count), key=lambda t: (-int((home == t).sum()), -float(weights[:, t].sum()), t))
    proposals = []
    for topic in order:
        phrases = key_phrases(model.components_[topic], vocabulary)
        members = np.flatnonzero(home == topic)
        ranked = members[np.argsort(-weights[members, topic], kind="stable")] if len(members) else members
        if len(ranked) == 0:
            ranked = np.argsort(-weights[:, topic], kind="stable")[:REPRESENTATIVES]
        proposals.append(Proposal(name=name_from(phrases), description=describe(phrases), key_phrases=phrases,
                                  representatives=tuple(int(row) for row in ranked[:REPRESENTATIVES])))
    named = [position for position, proposal in enumerate(proposals) if proposal.key_phrases]
    scale = np.linalg.norm(model.components_, axis=1)  # a row's weight times its topic's size: comparable topics
    weights = (model.transform(everything) * scale)[:, [order[position] for position in named]]
    return Proposed(proposals=tuple(proposals[position] for position in named), weights=weights)
