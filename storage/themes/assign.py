"""Give every answer the themes it fits, learning from staff's confirmed answers; say which answers to ask about first.

Method (chosen on themefinder's coded sets; see benchmarks/themes.py): each theme's prototype is the TF-IDF of its name
and description plus `EXAMPLE_WEIGHT` times the mean of the answers staff confirmed for it; an answer's score for a
theme is its cosine to the prototype. An answer gets its best theme and every other theme scoring at least `relative`
times the best, where `relative` is picked by leave-one-out on the confirmed answers (so the number of themes per
answer follows what staff did). Once staff have confirmed enough answers, the cosine is blended with a one-vs-rest
logistic regression trained on them (CLASSIFIER_MIN; with fewer it lowered F1 on the test sets). Answers that fit
no theme well go to needs-reading. The review order (ask_first): low best score plus a theme near the cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

EXAMPLE_WEIGHT = 2.0
RELATIVE_GRID = (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65)
DEFAULT_RELATIVE = 0.8
MAX_THEMES = 3  # per answer: most answers carry one or two themes
FLOOR_SHARE = 0.25  # needs reading below this share of the typical (median) best score
CLASSIFIER_MIN = 200  # confirmed answers with a theme before the classifier has a say (below, it hurt on test sets)
CLASSIFIER_BLEND = 0.5
ASK_BY = ("best", "cut")


@dataclass(frozen=True)
class Assigned:
    """Themes per answer row (index, confidence), the rows no theme fits, and rows least sure first."""

    themes: tuple[tuple[tuple[int, float], ...], ...]
    needs_reading: tuple[int, ...]
    ask_first: tuple[int, ...]


def _unit(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero), so dot products are cosines."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def _membership(confirmed: Mapping[int, frozenset[int]], count: int) -> tuple[list[int], np.ndarray]:
    """Confirmed rows that carry a theme, and their row-by-theme 0/1 matrix."""
    rows = sorted(row for row, themes in confirmed.items() if themes)
    labels = np.zeros((len(rows), count), dtype=np.float64)
    for position, row in enumerate(rows):
        labels[position, sorted(confirmed[row])] = 1.0
    return rows, labels


def prototype_scores(answers: sp.csr_matrix, names: sp.csr_matrix,
                     confirmed: Mapping[int, frozenset[int]]) -> np.ndarray:
    """Cosine of every answer to every theme's prototype (name and description plus confirmed examples)."""
    rows, labels = _membership(confirmed, names.shape[0])
    prototypes = np.asarray(names.todense(), dtype=np.float64)
    if rows:
        sums = labels.T @ np.asarray(answers[rows].todense(), dtype=np.float64)
        counts = labels.sum(axis=0)[:, None]
        prototypes = prototypes + EXAMPLE_WEIGHT * sums / np.where(counts > 0, counts, 1.0)
    return np.asarray(answers @ _unit(prototypes).T)


def leave_one_out_scores(answers: sp.csr_matrix, names: sp.csr_matrix,
                         confirmed: Mapping[int, frozenset[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Each confirmed answer's scores with itself left out of the prototypes: honest data to calibrate on."""
    rows, labels = _membership(confirmed, names.shape[0])
    if not rows:
        return np.zeros((0, names.shape[0])), labels
    x = np.asarray(answers[rows].todense(), dtype=np.float64)
    n = np.asarray(names.todense(), dtype=np.float64)
    sums = labels.T @ x
    counts = labels.sum(axis=0)[None, :] - labels  # per (row, theme): examples left once the row is out
    safe = np.where(counts > 0, counts, 1.0)
    self_dot = np.einsum("ij,ij->i", x, x)[:, None]
    x_sum = x @ sums.T
    mean_dot = (x_sum - labels * self_dot) / safe * (counts > 0)  # x . mean of the other examples
    name_mean = ((n * sums).sum(axis=1)[None, :] - labels * (x @ n.T)) / safe * (counts > 0)
    sum_sq = (sums * sums).sum(axis=1)[None, :]
    mean_sq = (sum_sq - 2 * labels * x_sum + labels * self_dot) / safe**2 * (counts > 0)
    norm_sq = (n * n).sum(axis=1)[None, :] + 2 * EXAMPLE_WEIGHT * name_mean + EXAMPLE_WEIGHT**2 * mean_sq
    scores = (x @ n.T + EXAMPLE_WEIGHT * mean_dot) / np.sqrt(np.maximum(norm_sq, 1e-12))
    return scores, labels


def _pick(scores: np.ndarray, relative: float) -> np.ndarray:
    """0/1 choice per row: the best theme, and up to MAX_THEMES within `relative` of it."""
    best = scores.max(axis=1, keepdims=True)
    rank = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1)
    chosen: np.ndarray = ((scores >= relative * best) & (rank < MAX_THEMES) & (best > 0)).astype(np.float64)
    return chosen


def _mean_f1(chosen: np.ndarray, truth: np.ndarray) -> float:
    """Per-answer F1 averaged over answers (rows here always have a theme)."""
    hits = (chosen * truth).sum(axis=1)
    return float(np.mean(2 * hits / np.maximum(chosen.sum(axis=1) + truth.sum(axis=1), 1)))


def calibrate_relative(loo: np.ndarray, labels: np.ndarray) -> float:
    """The relative cut that best reproduces staff's own theme counts on their confirmed answers."""
    if len(loo) < 5:
        return DEFAULT_RELATIVE
    results = [(_mean_f1(_pick(loo, cut), labels), -abs(cut - DEFAULT_RELATIVE), cut) for cut in RELATIVE_GRID]
    return float(max(results)[2])


def _classifier_scores(answers: sp.csr_matrix, confirmed: Mapping[int, frozenset[int]], count: int,
                       seed: int) -> np.ndarray | None:
    """One-vs-rest logistic regression on confirmed answers (those 'no theme fits' as negatives), or None."""
    positives = [row for row, themes in confirmed.items() if themes]
    if len(positives) < CLASSIFIER_MIN:
        return None
    rows = sorted(confirmed)
    out = np.full((answers.shape[0], count), np.nan)
    for theme in range(count):
        target = np.array([theme in confirmed[row] for row in rows])
        if target.sum() < 3 or (~target).sum() < 3:
            continue
        model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, random_state=seed)
        model.fit(answers[rows], target)
        out[:, theme] = model.predict_proba(answers)[:, 1]
    return out


def assign(answers: sp.csr_matrix, names: sp.csr_matrix, confirmed: Mapping[int, frozenset[int]], *,
           seed: int = 0) -> Assigned:
    """Score every answer row against every theme row, learning from confirmed rows, then decide (see `decide`)."""
    count = names.shape[0]
    if answers.shape[0] == 0 or count == 0:
        return decide(np.zeros((answers.shape[0], count)))
    scores = prototype_scores(answers, names, confirmed)
    relative = calibrate_relative(*leave_one_out_scores(answers, names, confirmed))
    learned = _classifier_scores(answers, confirmed, count, seed)
    if learned is not None:  # blend on the cosine's scale: the classifier's probability times each theme's top cosine
        top = np.maximum(scores.max(axis=0, keepdims=True), 1e-9)
        scores = np.where(np.isnan(learned), scores,
                          (1 - CLASSIFIER_BLEND) * scores + CLASSIFIER_BLEND * np.nan_to_num(learned) * top)
    return decide(scores, relative)


def decide(scores: np.ndarray, relative: float = DEFAULT_RELATIVE) -> Assigned:
    """Themes per row from scores: the best and those near it; weak rows to needs-reading; least sure rows first."""
    rows = scores.shape[0]
    if rows == 0 or scores.shape[1] == 0:
        return Assigned(themes=tuple(() for _ in range(rows)), needs_reading=tuple(range(rows)),
                        ask_first=tuple(range(rows)))
    best = scores.max(axis=1)
    typical = float(np.median(best))
    fit = np.clip(best / max(float(np.quantile(best, 0.9)), 1e-9), 0.0, 1.0)
    chosen = _pick(scores, relative)
    unthemed = (best <= 0) | (best < FLOOR_SHARE * typical)
    themes: list[tuple[tuple[int, float], ...]] = []
    for row in range(rows):
        if unthemed[row]:
            themes.append(())
            continue
        picked = sorted(np.flatnonzero(chosen[row]), key=lambda t: (-scores[row, t], t))
        themes.append(tuple((int(t), round(float(scores[row, t] / best[row] * fit[row]), 3)) for t in picked))
    ratio = scores / np.where(best > 0, best, 1.0)[:, None]
    near_cut = np.where(ratio >= 0.999, np.inf, np.abs(ratio - relative)).min(axis=1)
    srt = np.sort(scores, axis=1)
    margin = (srt[:, -1] - srt[:, -2]) / np.where(best > 0, best, 1.0) if scores.shape[1] > 1 else best
    parts = {"best": best, "cut": near_cut, "margin": margin}
    unsure = sum(np.argsort(np.argsort(parts[name], kind="stable")).astype(np.float64) for name in ASK_BY)
    unsure = np.where(unthemed, -1, unsure)
    return Assigned(themes=tuple(themes), needs_reading=tuple(int(r) for r in np.flatnonzero(unthemed)),
                    ask_first=tuple(int(r) for r in np.argsort(unsure, kind="stable")))
