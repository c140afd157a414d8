"""Text features every theme step shares: word 1-2 gram and character TF-IDF, fitted on one question's answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

WORD_WEIGHT = 0.25  # share of the combined vector's squared length given to words; the rest goes to characters


def word_vectorizer() -> TfidfVectorizer:
    """Words and two-word phrases, common English words left out, so key phrases read as phrases."""
    return TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True, min_df=1,
                           token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b", dtype=np.float32)


def char_vectorizer() -> TfidfVectorizer:
    """Character 3-5 grams inside words: robust to spelling, plurals and word forms in short answers."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1, dtype=np.float32,
                           max_features=200_000)


@dataclass
class Features:
    """The fitted vectorizers of one run, so theme names and examples land in the same space as the answers."""

    words: TfidfVectorizer
    chars: TfidfVectorizer

    def word_matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Word TF-IDF rows (L2-normalised), for NMF and key phrases."""
        return sp.csr_matrix(self.words.transform(texts))

    def combined(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Word and character TF-IDF side by side, each weighted, rows of unit length: cosine is a dot product."""
        words = self.word_matrix(texts) * np.float32(np.sqrt(WORD_WEIGHT))
        chars = sp.csr_matrix(self.chars.transform(texts)) * np.float32(np.sqrt(1.0 - WORD_WEIGHT))
        return sp.csr_matrix(normalize(sp.hstack([words, chars], format="csr")))


def fit_features(texts: Sequence[str]) -> Features:
    """Learn vocabulary and IDF from this question's answers only: no outside model, nothing downloaded."""
    words, chars = word_vectorizer(), char_vectorizer()
    corpus = [text if text.strip() else "." for text in texts] or ["."]
    try:
        words.fit(corpus)
    except ValueError:  # only stop words or no letters anywhere: fall back to every token
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
        words.fit([*corpus, "answer"])
    chars.fit(corpus)
    return Features(words=words, chars=chars)
