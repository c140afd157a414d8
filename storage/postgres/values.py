"""Rows and values as the storage modules expect them from SQLite: rows readable by name or position, times as
the sortable UTC text storage/timestamps.py writes, and sums as plain numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar

from psycopg import AsyncConnection
from psycopg.adapt import Loader
from psycopg.types.datetime import TimestamptzLoader

from storage.timestamps import to_db

# broadcast_recipients.not_before: SQLite keeps '' for "at once", PostgreSQL '-infinity'; both read back as ''.
AT_ONCE_TEXT = ""


class Row(tuple):  # type: ignore[type-arg]
    """A sqlite3.Row look-alike: row[0], row["name"] and keys()."""

    __slots__ = ()
    names: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self.names)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    """One Row subclass per column list, so a row costs no more than its tuple."""
    return type("Row", (Row,), {"__slots__": (), "names": {name: i for i, name in enumerate(names)}})


def row_factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    """psycopg row factory making Rows (or plain tuples for statements that return nothing)."""
    description = cursor.description
    if description is None:
        return tuple
    made = _row_class(tuple(column.name for column in description))
    return lambda values: made(values)


class UtcTextLoader(TimestamptzLoader):
    """timestamptz as to_db's text, '' for -infinity; the rest of the code compares and prints that text."""

    def load(self, data: Any) -> str:  # type: ignore[override]  # text, not datetime: see the docstring
        raw = bytes(data)
        if raw in (b"-infinity", b"infinity"):
            return AT_ONCE_TEXT
        return to_db(super().load(data))


class PlainNumberLoader(Loader):
    """numeric (what sum() of a BIGINT gives) as int or float, as SQLite returns it."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


def configure(conn: AsyncConnection[Any]) -> None:
    """Loaders for one connection (rows, times, sums)."""
    conn.adapters.register_loader("timestamptz", UtcTextLoader)
    conn.adapters.register_loader("numeric", PlainNumberLoader)
    conn.row_factory = row_factory
