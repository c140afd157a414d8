"""The schema's history, oldest first: add a module and a line here, never edit one that has shipped."""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.migrations import m0001_initial, m0002_broadcasts, m0003_question_kinds, m0004_alerts, m0005_themes

NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Migration:
    """One numbered step of the schema, applied in its own transaction."""

    version: int
    name: str
    sql: str

    def __post_init__(self) -> None:
        """Names end up in schema_migrations and in error messages: keep them tidy."""
        if self.version < 1 or not NAME.match(self.name):
            raise ValueError(f"bad migration {self.version} {self.name!r}")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", m0001_initial.SQL),
    Migration(2, "broadcasts", m0002_broadcasts.SQL),
    Migration(3, "question_kinds", m0003_question_kinds.SQL),
    Migration(4, "alerts", m0004_alerts.SQL),
    Migration(5, "themes", m0005_themes.SQL),
)
