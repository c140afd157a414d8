"""DATABASE_URL to a file path: only SQLite files, said plainly when the setting is wrong."""

from __future__ import annotations

from pathlib import Path

PREFIX = "sqlite:///"
EXAMPLES = "sqlite:///data/consultation.db (relative) or sqlite:////var/lib/bot/consultation.db (absolute)"


def sqlite_path(url: str) -> Path:
    """'sqlite:///data/x.db' is relative to the working folder, 'sqlite:////abs/x.db' is absolute."""
    if not url.startswith(PREFIX):
        raise ValueError(f"DATABASE_URL must be a SQLite file URL such as {EXAMPLES}; got {url!r}")
    rest = url[len(PREFIX) :]
    if not rest or rest.endswith("/"):
        raise ValueError(f"DATABASE_URL names no file: {url!r}; use e.g. {EXAMPLES}")
    if rest == ":memory:" or rest.startswith("file:"):
        raise ValueError(f"DATABASE_URL must name a file on disk (answers must survive a restart); got {url!r}")
    if "?" in rest or "#" in rest:
        raise ValueError(f"DATABASE_URL options are not supported; remove everything after '?' or '#' in {url!r}")
    return Path(rest)
