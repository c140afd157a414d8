"""SQLite's placeholders in psycopg's spelling, so the storage modules write each statement once: '?' in order,
and '?N' (a value used in several places: storage/export/flat_sql.py) by number."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1024)
def to_psycopg(sql: str) -> tuple[str, tuple[int, ...] | None]:
    """'?' and '?N' outside quotes become %s and a literal % becomes %%; quoted text is left alone. With numbered
    placeholders, also which value goes to each %s in turn (0-based); None when they are plain '?'."""
    out: list[str] = []
    order: list[int] = []
    numbered = False
    quote = ""
    at, length = 0, len(sql)
    while at < length:
        char = sql[at]
        at += 1
        if quote:
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            digits = ""
            while at < length and sql[at].isdigit():
                digits += sql[at]
                at += 1
            if digits:
                numbered = True
                order.append(int(digits) - 1)
            else:
                order.append(len(order))
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out), tuple(order) if numbered else None


def bound(sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any]]:
    """The statement for psycopg and its values in placeholder order."""
    text, order = to_psycopg(sql)
    return text, params if order is None else [params[i] for i in order]
