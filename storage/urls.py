"""DATABASE_URL read and checked: a SQLite file path or a PostgreSQL server, said plainly when the setting is wrong."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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


POSTGRES_PREFIXES = ("postgresql://", "postgres://")
POSTGRES_EXAMPLE = "postgresql://bot:PASSWORD@db.example.org:5432/consultation"


def is_postgres_url(url: str) -> bool:
    """DATABASE_URL names a PostgreSQL server rather than a SQLite file."""
    return url.startswith(POSTGRES_PREFIXES)


def postgres_url(url: str) -> str:
    """A PostgreSQL URL checked for the parts a connection needs; said plainly (without the password) when wrong."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError as error:
        raise ValueError(f"DATABASE_URL is not a valid PostgreSQL URL ({error}); use e.g. {POSTGRES_EXAMPLE}") from None
    if not parts.hostname and "host=" not in parts.query:
        raise ValueError(f"DATABASE_URL names no PostgreSQL host; use e.g. {POSTGRES_EXAMPLE}")
    if not parts.path.strip("/"):
        raise ValueError(f"DATABASE_URL names no database after the host; use e.g. {POSTGRES_EXAMPLE}")
    return url


def without_password(url: str) -> str:
    """The URL as it may appear in a log or a message: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
