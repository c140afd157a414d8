"""A one-screen proof-read of a consultation file: what tenants will get, who sees what, and which messages read
hardest."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime

import textstat

from conversations.file.loader import scale_presets
from conversations.file.routing_words import shown_if
from conversations.model import DONT_KNOW, Consultation, Option, Question, QuestionKind
from conversations.screens.markup import plain
from conversations.screens.prompts import fill
from conversations.screens.timefmt import local_time

WIDTH = 110  # the summary's lines fit a terminal
HARD_TO_READ = 60.0  # Flesch reading ease below this is harder than plain English for most adults


@dataclass(frozen=True)
class MessageScore:
    """One message tenants will see, with its length and reading ease."""

    name: str
    characters: int
    reading_ease: float


def messages_of(consultation: Consultation) -> list[tuple[str, str]]:
    """Every message of the consultation's own wording, named as in the file. A question is scored as the tenant
    reads it, context and question together; labels, "Don't know" and units are too short for a reading-ease score
    to mean anything, so the question list shows them instead."""
    found = [("welcome", fill(consultation, consultation.welcome))]
    found += [(f"introduction[{i}]", part) for i, part in enumerate(consultation.introduction, start=1)]
    found.append(("privacy.notice", fill(consultation, consultation.privacy_notice)))
    found += [(f"objective {o.id}", o.explanation) for o in consultation.objectives]
    for q in consultation.questions:
        name = f"question {q.number}" if q.answerable else f"info page {q.number}"
        found.append((name, f"{q.context}\n\n{q.text}".strip()))
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


def facts(question: Question, presets: dict[str, tuple[Option, ...]] | None = None) -> str:
    """The kind and what it takes: "[multi, 1 to 3 of 5; 'None of these' stands alone; required]"."""
    kind = question.kind
    if kind is QuestionKind.INFO:
        return "[info page]"
    if kind is QuestionKind.TEXT:
        parts = [f"text, up to {question.max_length} characters"]
    elif kind is QuestionKind.CHOICE:
        parts = [f"choice of {len(question.options)}"]
    elif kind is QuestionKind.MULTI:
        parts = [f"multi, {question.min_choices} to {question.most_choices} of {len(question.options)}"]
        parts += [f"'{plain(o.label)}' stands alone" for o in question.options if o.exclusive]
    elif kind is QuestionKind.SCALE:
        preset = next((name for name, points in (presets or {}).items() if points == question.points), None)
        dont_know = question.option(DONT_KNOW)
        parts = [(f"scale {preset}" if preset else f"scale of {len(question.points)} points")
                 + (f" + {plain(dont_know.label)}" if dont_know else "")]
    else:
        parts = [f"number {question.minimum} to {question.maximum}" + (f" {question.unit}" if question.unit else "")]
    if question.required:
        parts.append("required")
    if question.asks_reason:
        parts.append("+ optional reason")
    return "[" + "; ".join(parts) + "]"


def summary(consultation: Consultation) -> str:
    """The check command's screen: the window (local and UTC), every page with its kind and who sees it, the
    measures, and the longest and hardest messages."""
    zone = consultation.timezone
    asked = len(consultation.answerable)
    info = len(consultation.questions) - asked
    lines = [
        f"OK: {consultation.source_file}",
        f"{consultation.organisation}: {consultation.title} (id {consultation.id}, version {consultation.version})",
        f"Opens:  {local_time(consultation.opens_at, zone)} ({_utc(consultation.opens_at)})",
        f"Closes: {local_time(consultation.closes_at, zone)} ({_utc(consultation.closes_at)})",
        f"Time zone: {zone.key}; retention after close: "
        + (f"{consultation.retention_days} days" if consultation.retention_days is not None else "not set"),
        f"{_count(len(consultation.objectives), 'objective')}, {_count(len(consultation.topics), 'topic')}, "
        f"{_count(asked, 'question')}" + (f" and {_count(info, 'info page')}" if info else "")
        + f", {_count(len(consultation.reminders), 'reminder')}"
        + (f", {_count(len(consultation.measures), 'measure')}" if consultation.measures else "")
        + (f", {_count(len(consultation.alerts), 'alert')}" if consultation.alerts else "") + ":",
    ]
    if info or consultation.routed:
        lines.append("  (Q numbers are places in the file; each tenant's count leaves out info pages and what they "
                     "are not shown)")
    presets = scale_presets()
    for q in consultation.questions:
        start = f"  {q.number}. {facts(q, presets)} "
        lines.append(start + _short(q.text, max(30, WIDTH - len(start))))
        if q.show_if is not None:
            lines.append(textwrap.fill(f"shown only if {shown_if(consultation, q.show_if)}", WIDTH,
                                       initial_indent="     ", subsequent_indent="       "))
    if consultation.measures:
        lines.append("Measures (the % of those who answered the question who chose one of these):")
    for m in consultation.measures:
        question = consultation.question(m.question)
        labels = [f"'{plain(o.label)}'" for oid in m.counts if question and (o := question.option(oid))]
        where = f"Q{question.number} ({m.question})" if question else m.question
        lines.append(textwrap.fill(f"{m.title}: {where} {' or '.join(labels)}", WIDTH, initial_indent="  ",
                                   subsequent_indent="    "))
    if consultation.alerts:
        lines.append("Alerts (words that flag an answer for staff: whole words, any case, punctuation ignored, "
                     "* any ending):")
    for a in consultation.alerts:
        lines.append("  " + _short(f"{plain(a.title)} ({a.id}, {_count(len(a.words), 'word')}): {', '.join(a.words)}",
                                   WIDTH - 2))
    scores = score(consultation)
    longest = max(scores, key=lambda s: s.characters)
    lines.append(f"Longest message: {longest.name} ({longest.characters} of 4096 characters)")
    lines.append("Reading ease (Flesch, higher is easier; 60+ is plain English, 80+ is easy):")
    hardest = min(scores, key=lambda s: s.reading_ease)
    for s in scores:
        flag = "  <- hardest" if s is hardest else ("  <- hard" if s.reading_ease < HARD_TO_READ else "")
        lines.append(f"  {s.reading_ease:6.1f}  {s.name}{flag}")
    return "\n".join(lines)


def _count(number: int, thing: str) -> str:
    """"1 info page", "2 info pages"."""
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _short(text: str, limit: int = 70) -> str:
    """The start of a question, on one line."""
    one_line = " ".join(plain(text).split())
    return one_line if len(one_line) <= limit else one_line[:limit - 1].rstrip() + "…"
