"""SQLite's '?' placeholders in psycopg's spelling, so the storage modules write each statement once."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1024)
def to_psycopg(sql: str) -> str:
    """'?' outside quotes becomes %s and a literal % becomes %%; quoted text and identifiers are left alone."""
    out: list[str] = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        if char == "%":
            out.append("%%")
            continue
        out.append(char)
    return "".join(out)
