"""The one entry point of theme analysis: answers (and staff's decisions so far) in, themes and suggestions out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from storage.themes.assign import assign, decide
from storage.themes.cleaning import clean, normalise
from storage.themes.features import fit_features
from storage.themes.model import Analysis, Response, Suggestion, ThemeSeed, ThemeSummary
from storage.themes.phrasing import readable
from storage.themes.suggest import QUOTES, Proposal, describe, distinctive_phrases, name_from, propose

_NO_CONFIRMED: Mapping[str, frozenset[str]] = {}


def _as_written(proposal: Proposal, representatives: tuple[int, ...], texts: Sequence[str]) -> Proposal:
    """A suggestion named and described in the answers' own wording ('value for money', not 'value money')."""
    phrases = readable(proposal.key_phrases, texts)
    return Proposal(name_from(phrases), describe(phrases), phrases, representatives)


def _suggested_seeds(proposals: Sequence[Proposal]) -> tuple[ThemeSeed, ...]:
    """Ids T1, T2, ... in the proposals' order (largest first), so a re-run with the same input names them alike."""
    return tuple(ThemeSeed(id=f"T{number}", name=p.name, description=p.description)
                 for number, p in enumerate(proposals, start=1))


def _summaries(seeds: Sequence[ThemeSeed], proposals: Sequence[Proposal], carriers: list[list[int]],
               quotes: list[list[int]], row_keys: list[list[str]], carrier_counts: list[int],
               words: sp.csr_matrix, vocabulary: Sequence[str], texts: Sequence[str]) -> tuple[ThemeSummary, ...]:
    """What staff see per theme: name, description, key phrases, up to 3 quote keys and how many answers carry it."""
    out = []
    for index, seed in enumerate(seeds):
        if proposals:
            phrases = proposals[index].key_phrases
            quote_rows = list(proposals[index].representatives)
        else:
            phrases = readable(distinctive_phrases(words, carriers[index], vocabulary), texts)
            quote_rows = quotes[index]
        picked = list(dict.fromkeys(row_keys[row][0] for row in quote_rows))[:QUOTES]
        out.append(ThemeSummary(id=seed.id, name=seed.name, description=seed.description, key_phrases=phrases,
                                quotes=tuple(picked), count=carrier_counts[index]))
    return tuple(out)


def analyse(responses: Sequence[Response], themes: Sequence[ThemeSeed] = (),
            confirmed: Mapping[str, frozenset[str]] = _NO_CONFIRMED, *, seed: int = 0) -> Analysis:
    """Clean, then suggest themes (none given) or use staff's, and assign every answer not confirmed by staff."""
    keys = {r.key for r in responses}
    kept = {key: frozenset(ids) for key, ids in confirmed.items() if key in keys}
    cleaned = clean(responses)
    non_answers = tuple(key for key in cleaned.non_answers if key not in kept)
    answered = [r for r in responses if r.key not in set(non_answers)]
    row_of: dict[str, int] = {}
    texts: list[str] = []
    row_keys: list[list[str]] = []
    by_text: dict[str, int] = {}
    for response in answered:
        row = by_text.setdefault(normalise(response.text), len(texts))
        if row == len(texts):
            texts.append(response.text)
            row_keys.append([])
        row_keys[row].append(response.key)
        row_of[response.key] = row
    features = fit_features(texts)
    matrix = features.combined(texts) if texts else sp.csr_matrix((0, 1))
    words = features.word_matrix(texts) if texts else sp.csr_matrix((0, 1))
    proposals: tuple[Proposal, ...] = ()
    if themes:
        seeds = tuple(themes)
    else:
        originals = [row for row in range(len(texts)) if row_keys[row][0] not in cleaned.duplicate_of]
        found = propose(sp.csr_matrix(words[originals]), words, features.words, seed=seed)
        proposals = tuple(_as_written(p, tuple(originals[r] for r in p.representatives), texts)
                          for p in found.proposals)
        seeds = _suggested_seeds(proposals)
    index_of = {theme.id: index for index, theme in enumerate(seeds)}
    learned: dict[int, frozenset[int]] = {}
    for key, ids in kept.items():
        if themes and key in row_of:
            learned.setdefault(row_of[key], frozenset(index_of[i] for i in ids if i in index_of))
    if proposals:
        result = decide(found.weights)
    elif seeds and texts:
        result = assign(matrix, features.combined([f"{s.name}. {s.description}" for s in seeds]), learned, seed=seed)
    else:
        result = decide(np.zeros((len(texts), len(seeds))))
    suggestions: dict[str, tuple[Suggestion, ...]] = {}
    needs_reading: list[str] = []
    counts = [0] * len(seeds)
    carriers: list[list[int]] = [[] for _ in seeds]
    quotes: list[list[int]] = [[] for _ in seeds]
    for key, ids in kept.items():
        for theme_id in ids:
            if theme_id in index_of:
                counts[index_of[theme_id]] += 1
                if key in row_of:
                    carriers[index_of[theme_id]].append(row_of[key])
                    quotes[index_of[theme_id]].append(row_of[key])
    ranked: list[list[tuple[float, int]]] = [[] for _ in seeds]
    for response in answered:
        if response.key in kept:
            continue
        row = row_of[response.key]
        if result.themes[row]:
            suggestions[response.key] = tuple(Suggestion(seeds[t].id, sure) for t, sure in result.themes[row])
            for t, confidence in result.themes[row]:
                counts[t] += 1
                carriers[t].append(row)
                ranked[t].append((-confidence, row))
        else:
            needs_reading.append(response.key)
    for t in range(len(seeds)):
        quotes[t].extend(row for _, row in sorted(set(ranked[t])))
    vocabulary = list(features.words.get_feature_names_out()) if texts else []
    summaries = _summaries(seeds, proposals, carriers, quotes, row_keys, counts, words, vocabulary, texts)
    ask_first = tuple(key for row in result.ask_first for key in row_keys[row] if key not in kept)
    return Analysis(themes=summaries, suggestions=suggestions, needs_reading=tuple(needs_reading),
                    non_answers=non_answers, confirmed=kept,
                    duplicate_of={k: v for k, v in cleaned.duplicate_of.items() if k in row_of},
                    campaigns=cleaned.campaigns, ask_first=ask_first)
