"""transcripts.zip: transcripts.jsonl (one line per respondent, for scripts) and transcripts/REF.txt (for people)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from conversations.model import Consultation
from conversations.screens.markup import plain
from storage.export.cells import local_text
from storage.export.rows import Line, Response
from storage.export.zipstream import StreamingZip


def record(response: Response, lines: list[Line], identities: bool) -> dict[str, Any]:
    """One respondent as JSON: stored UTC times, every message in order; the Telegram id only when asked for."""
    data: dict[str, Any] = {"reference": response.reference}
    if identities:
        data["telegram_id"] = response.user_id
    data.update(
        status=response.status, source=response.source, started_at=response.started_at,
        agreed_at=response.agreed_at, finished_at=response.finished_at,
        messages=[{"at": line.at, "direction": line.direction, "text": line.text} for line in lines],
    )
    return data


def readable(consultation: Consultation, response: Response, lines: list[Line], identities: bool) -> str:
    """A plain-text transcript a housing officer can read in any editor; times in the consultation's zone."""
    say, zone = consultation.message, consultation.timezone
    status = say(f"export_status_{response.status}")
    parts = [say("export_transcript_header", reference=response.reference, status=status,
                 title=plain(consultation.title), id=consultation.id,
                 started=local_text(response.started_at, zone) or "-", agreed=local_text(response.agreed_at, zone),
                 finished=local_text(response.finished_at, zone) or "-", zone=zone.key)]
    if identities:
        parts.append(say("export_transcript_identity", telegram_id=response.user_id))
    parts.append("")
    for line in lines:
        who = say("export_transcript_in" if line.direction == "in" else "export_transcript_out")
        parts.append(say("export_transcript_line", time=local_text(line.at, zone), who=who))
        text = line.text.replace("\r\n", "\n").replace("\r", "\n")
        parts.extend(f"    {piece}" if piece else "" for piece in text.split("\n"))
    return "\n".join(parts) + "\n"


async def write_transcripts(path: Path, consultation: Consultation, items: AsyncIterator[tuple[Response, list[Line]]],
                            identities: bool, now: datetime) -> int:
    """Both forms in one pass: the .txt files go into the zip as they come, the JSONL via a file beside it."""
    count = 0
    modified = now.astimezone(consultation.timezone)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as work:
        jsonl = Path(work) / "transcripts.jsonl"
        with StreamingZip(path, modified) as archive:
            with jsonl.open("w", encoding="utf-8", newline="\n") as out:
                async for response, lines in items:
                    out.write(json.dumps(record(response, lines, identities), ensure_ascii=False) + "\n")
                    text = readable(consultation, response, lines, identities)
                    archive.add_bytes(f"transcripts/{response.reference}.txt", text.encode("utf-8"))
                    count += 1
            archive.add_file("transcripts.jsonl", jsonl)
    return count
