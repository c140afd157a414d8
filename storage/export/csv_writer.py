"""responses.csv: UTF-8 with a byte-order mark so Excel reads it right, and no cell that runs as a formula."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from conversations.model import Consultation
from storage.export.cells import neutralise
from storage.export.columns import Table, Value
from storage.export.rows import Response


def text(value: Value) -> str:
    """One CSV field: times as 2020-11-10 12:00:00, ids as digits, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, int):
        return str(value)
    return neutralise(value)


async def write_csv(path: Path, consultation: Consultation, responses: AsyncIterator[Response],
                    identities: bool) -> int:
    """Stream the rows to the file; returns how many respondents were written."""
    count, table = 0, Table(consultation, identities)
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)  # the excel dialect: quotes fields holding commas, quotes or line breaks
        writer.writerow([text(name) for name in table.header()])
        async for response in responses:
            writer.writerow([text(value) for value in table.row(response)])
            count += 1
    return count
