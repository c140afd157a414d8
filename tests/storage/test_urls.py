"""DATABASE_URL: SQLite files only, and a clear word when it is anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import sqlite_path


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/consultation.db", Path("data/consultation.db")),
        ("sqlite:////var/lib/bot/consultation.db", Path("/var/lib/bot/consultation.db")),
        ("sqlite:///consultation.db", Path("consultation.db")),
    ],
)
def test_sqlite_urls_name_relative_or_absolute_files(url: str, path: Path) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://localhost/bot",
        "sqlite://data/x.db",
        "sqlite:///",
        "sqlite:///:memory:",
        "sqlite:///data/",
        "sqlite:///data/x.db?mode=ro",
        "data/x.db",
        "",
    ],
)
def test_anything_else_is_a_clear_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        sqlite_path(url)
