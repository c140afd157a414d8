"""The schema's history, oldest first: add a module and a line here, never edit one that has shipped.

Each module holds the same step twice, SQL for SQLite and POSTGRES for PostgreSQL, side by side so a reviewer sees
that they match: the numbers, names and meaning are shared; only the types and DDL spelling differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.migrations import (
    m0001_initial,
    m0002_broadcasts,
    m0003_question_kinds,
    m0004_alerts,
    m0005_themes,
    m0006_update_inbox,
    m0007_send_pace,
    m0008_recipient_claims,
)

NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Migration:
    """One numbered step of the schema, applied in its own transaction."""

    version: int
    name: str
    sql: str  # SQLite
    postgres: str  # the same tables, columns and constraints in PostgreSQL's types (BIGINT ids, timestamptz)

    def __post_init__(self) -> None:
        """Names end up in schema_migrations and in error messages: keep them tidy."""
        if self.version < 1 or not NAME.match(self.name):
            raise ValueError(f"bad migration {self.version} {self.name!r}")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", m0001_initial.SQL, m0001_initial.POSTGRES),
    Migration(2, "broadcasts", m0002_broadcasts.SQL, m0002_broadcasts.POSTGRES),
    Migration(3, "question_kinds", m0003_question_kinds.SQL, m0003_question_kinds.POSTGRES),
    Migration(4, "alerts", m0004_alerts.SQL, m0004_alerts.POSTGRES),
    Migration(5, "themes", m0005_themes.SQL, m0005_themes.POSTGRES),
    Migration(6, "update_inbox", m0006_update_inbox.SQL, m0006_update_inbox.POSTGRES),
    Migration(7, "send_pace", m0007_send_pace.SQL, m0007_send_pace.POSTGRES),
    Migration(8, "recipient_claims", m0008_recipient_claims.SQL, m0008_recipient_claims.POSTGRES),
)
