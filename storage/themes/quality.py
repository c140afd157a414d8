"""How well two codings of the same answers agree: per-answer F1, per-theme Cohen's kappa, one-to-one theme matching."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import cohen_kappa_score

Coding = Mapping[str, Collection[str]]  # answer key -> theme ids


def answer_f1(predicted: Collection[str], truth: Collection[str]) -> float:
    """F1 of one answer's themes against another coder's; both empty is full agreement (1.0)."""
    mine, theirs = set(predicted), set(truth)
    if not mine and not theirs:
        return 1.0
    return 2 * len(mine & theirs) / (len(mine) + len(theirs))


def mean_f1(predicted: Coding, truth: Coding, keys: Sequence[str] | None = None) -> float:
    """Per-answer F1 averaged over answers ('agreement between machine and staff'); a key missing counts as no theme."""
    chosen = list(truth) if keys is None else list(keys)
    if not chosen:
        return float("nan")
    return float(np.mean([answer_f1(predicted.get(key, ()), truth.get(key, ())) for key in chosen]))


def theme_kappas(first: Coding, second: Coding, themes: Sequence[str],
                 keys: Sequence[str] | None = None) -> dict[str, float | None]:
    """Cohen's kappa per theme over the answers (carries it or not); None where it is undefined (one class only)."""
    chosen = list(first) if keys is None else list(keys)
    out: dict[str, float | None] = {}
    for theme in themes:
        a = [theme in first.get(key, ()) for key in chosen]
        b = [theme in second.get(key, ()) for key in chosen]
        if len(set(a) | set(b)) < 2:
            out[theme] = None
            continue
        value = float(cohen_kappa_score(a, b))
        out[theme] = None if np.isnan(value) else value
    return out


def mean_kappa(first: Coding, second: Coding, themes: Sequence[str], keys: Sequence[str] | None = None) -> float | None:
    """Per-theme kappa averaged over the themes where it is defined; None when it is defined for none."""
    values = [v for v in theme_kappas(first, second, themes, keys).values() if v is not None]
    return float(np.mean(values)) if values else None


def match_themes(predicted: Coding, truth: Coding) -> dict[str, str]:
    """One-to-one matching of predicted to true themes maximising shared answers (Hungarian): predicted -> true id."""
    mine = sorted({t for themes in predicted.values() for t in themes})
    theirs = sorted({t for themes in truth.values() for t in themes})
    if not mine or not theirs:
        return {}
    overlap = np.zeros((len(mine), len(theirs)))
    index_mine = {t: i for i, t in enumerate(mine)}
    index_theirs = {t: i for i, t in enumerate(theirs)}
    for key, themes in predicted.items():
        for a in themes:
            for b in truth.get(key, ()):
                overlap[index_mine[a], index_theirs[b]] += 1
    rows, cols = linear_sum_assignment(-overlap)
    return {mine[r]: theirs[c] for r, c in zip(rows, cols, strict=True) if overlap[r, c] > 0}


def relabel(coding: Coding, matching: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """A coding in the other coder's theme ids (unmatched themes dropped), ready for F1 and kappa."""
    return {key: frozenset(matching[t] for t in themes if t in matching) for key, themes in coding.items()}
