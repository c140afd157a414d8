"""A one-screen proof-read of a consultation file: what tenants will get, and which messages read hardest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import textstat

from conversations.model import Consultation
from conversations.screens.markup import plain
from conversations.screens.prompts import fill
from conversations.screens.timefmt import local_time

HARD_TO_READ = 60.0  # Flesch reading ease below this is harder than plain English for most adults


@dataclass(frozen=True)
class MessageScore:
    """One message tenants will see, with its length and reading ease."""

    name: str
    characters: int
    reading_ease: float


def messages_of(consultation: Consultation) -> list[tuple[str, str]]:
    """Every message of the consultation's own wording, named as in the file."""
    found = [("welcome", fill(consultation, consultation.welcome))]
    found += [(f"introduction[{i}]", part) for i, part in enumerate(consultation.introduction, start=1)]
    found.append(("privacy.notice", fill(consultation, consultation.privacy_notice)))
    found += [(f"objective {o.id}", o.explanation) for o in consultation.objectives]
    for q in consultation.questions:
        found.append((f"question {q.number}", f"{q.context}\n\n{q.text}".strip()))
        if q.reason_prompt:
            found.append((f"question {q.number} reason", q.reason_prompt))
    found.append(("thank_you", fill(consultation, consultation.thank_you)))
    found += [(f"reminder {r.id}", r.text) for r in consultation.reminders]
    return found


def score(consultation: Consultation) -> list[MessageScore]:
    """Length and Flesch reading ease (textstat) of every message."""
    scores = []
    for name, text in messages_of(consultation):
        words = plain(text)
        scores.append(MessageScore(name, len(text), round(float(textstat.flesch_reading_ease(words)), 1)))
    return scores


def _utc(moment: datetime) -> str:
    """An instant in UTC, for the digital team checking the window."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def summary(consultation: Consultation) -> str:
    """The check command's screen: questions, window (local and UTC), longest and hardest messages."""
    zone = consultation.timezone
    lines = [
        f"OK: {consultation.source_file}",
        f"{consultation.organisation}: {consultation.title} (id {consultation.id}, version {consultation.version})",
        f"Opens:  {local_time(consultation.opens_at, zone)} ({_utc(consultation.opens_at)})",
        f"Closes: {local_time(consultation.closes_at, zone)} ({_utc(consultation.closes_at)})",
        f"Time zone: {zone.key}; retention after close: "
        + (f"{consultation.retention_days} days" if consultation.retention_days is not None else "not set"),
        f"{len(consultation.objectives)} objectives, {len(consultation.topics)} topics, "
        f"{len(consultation.questions)} questions, {len(consultation.reminders)} reminders:",
    ]
    for q in consultation.questions:
        kind = q.kind.value + (" + optional reason" if q.asks_reason else "")
        lines.append(f"  {q.number}. [{kind}] {plain(q.text)[:70]}")
    scores = score(consultation)
    longest = max(scores, key=lambda s: s.characters)
    lines.append(f"Longest message: {longest.name} ({longest.characters} of 4096 characters)")
    lines.append("Reading ease (Flesch, higher is easier; 60+ is plain English, 80+ is easy):")
    hardest = min(scores, key=lambda s: s.reading_ease)
    for s in scores:
        flag = "  <- hardest" if s is hardest else ("  <- hard" if s.reading_ease < HARD_TO_READ else "")
        lines.append(f"  {s.reading_ease:6.1f}  {s.name}{flag}")
    return "\n".join(lines)
