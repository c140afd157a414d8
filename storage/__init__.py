"""Durable storage on SQLite: every acknowledged answer survives, nothing is ever half-written."""

from storage.database import Database, SchemaTooNewError, sqlite_path
from storage.records import (
    AuditEntry,
    LoadedState,
    PurgeReport,
    Respondent,
    StaleStateError,
    StepRecord,
    StorageUnavailableError,
    StoredAnswer,
    TranscriptLine,
    changed_answers,
)

__all__ = [
    "AuditEntry",
    "Database",
    "LoadedState",
    "PurgeReport",
    "Respondent",
    "SchemaTooNewError",
    "StaleStateError",
    "StepRecord",
    "StorageUnavailableError",
    "StoredAnswer",
    "TranscriptLine",
    "changed_answers",
    "sqlite_path",
]
