"""report.html's themes block for a question with written answers, and the alerts at the top of the page.

Instead of every written answer (those are in answers.html), the board reads each theme with how many answers
carry it, a bar, and up to three quotes; then what is left for a person to read, how much staff have confirmed,
and how far the machine and staff agree. Everything is counted by SQLite (storage.themes.report_reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

import aiosqlite

from conversations.model import Consultation, Question
from conversations.screens.markup import plain
from storage import alerts
from storage.export import charts
from storage.export.figures import number, percent
from storage.themes import report_reads
from storage.themes.report_reads import QuestionTotals
from storage.themes.store import StoredTheme, WrittenAnswer

QUOTES = 3
QUOTE_LENGTH = 300
CAMPAIGNS = 10
ALERT_REFERENCES = 10  # the newest references listed per alert; the count says how many in all


@dataclass(frozen=True)
class QuestionThemes:
    """A question's live themes, most answers first (ties in stored order), with their counts and group totals."""

    themes: tuple[StoredTheme, ...]
    counts: dict[str, int]
    totals: QuestionTotals

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(theme.id for theme in self.themes)

    @property
    def analysed(self) -> bool:
        """Whether the machine (or staff) has looked at this question at all."""
        return bool(self.themes) or self.totals.reviewed > 0


async def question_themes(conn: aiosqlite.Connection, consultation_id: str, question_id: str) -> QuestionThemes:
    """Read the themes, count the answers carrying each, order them, and count every group in that order."""
    live = [theme for theme in await report_reads.themes(conn, consultation_id, question_id) if theme.live]
    counts = await report_reads.theme_counts(conn, consultation_id, question_id, [t.id for t in live])
    ordered = tuple(sorted(live, key=lambda theme: -counts[theme.id]))  # sorted() keeps stored order for ties
    totals = await report_reads.totals(conn, consultation_id, question_id, [t.id for t in ordered])
    return QuestionThemes(ordered, counts, totals)


def shorten(text: str, limit: int = QUOTE_LENGTH) -> str:
    """A quote of about `limit` characters on one line, cut at a word boundary and marked with an ellipsis."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    cut = words[:limit].rsplit(" ", 1)[0] if " " in words[:limit] else words[:limit]
    return cut.rstrip(",;:.-–— ") + "…"


def two_places(value: float) -> str:
    """0.83: agreement figures are read to two decimal places."""
    return f"{value:.2f}"


def _quote(consultation: Consultation, answer: WrittenAnswer) -> str:
    tag = "" if answer.finished else f" · {escape(consultation.message('export_status_partial'))}"
    return (f'<li><blockquote>{escape(shorten(answer.text))}</blockquote>'
            f'<span class="ref">{escape(answer.reference)}{tag}</span></li>')


def _agreement(consultation: Consultation, coded: report_reads.Agreement, themes: tuple[str, ...]) -> Iterator[str]:
    """The accountability lines: F1 between machine and staff on the confirmed answers, kappa between two staff."""
    say = consultation.message
    if not coded.confirmed:
        yield f"<p>{escape(say('report_quality_none'))}</p>\n"
        return
    from storage.themes.quality import mean_f1, mean_kappa  # numpy and scikit-learn: only when there is a sample

    f1 = mean_f1(coded.machine, coded.staff, list(coded.confirmed))
    yield "<p>" + escape(say("report_quality", count=number(len(coded.confirmed)), f1=two_places(f1))) + "</p>\n"
    if coded.second_coded:
        kappa = mean_kappa(coded.staff, coded.second, list(themes), list(coded.second_coded))
        key = "report_kappa" if kappa is not None else "report_kappa_undefined"
        yield "<p>" + escape(say(key, count=number(len(coded.second_coded)),
                                 kappa=two_places(kappa) if kappa is not None else "")) + "</p>\n"


async def themes_block(conn: aiosqlite.Connection, consultation: Consultation, place: int, heading: str,
                       question: Question) -> list[str]:
    """The question's themes (or one line saying they are not analysed yet), the counts, and the appendix link."""
    say, cid = consultation.message, consultation.id
    found = await question_themes(conn, cid, question.id)
    totals, written = found.totals, found.totals.written
    parts: list[str] = []
    if not written:
        return [f'<p class="muted">{escape(say("report_no_written"))}</p>\n']
    parts.append(f"<h3>{escape(say('report_themes', count=number(written)))}</h3>\n")
    if not found.analysed:
        parts.append(f'<p class="muted">{escape(say("report_not_analysed"))}</p>\n')
    elif found.themes:
        counts = [(plain(t.name), found.counts[t.id]) for t in found.themes]
        bars = [(name, count, f"{number(count)} ({percent(count, written)})") for name, count in counts]
        parts.append(charts.horizontal(say("report_themes_chart", heading=heading), bars) + "\n")
        parts.append(f'<p class="muted">{escape(say("report_themes_note", written=number(written)))}</p>\n')
        quoted = await report_reads.quotes(conn, cid, question.id,
                                           sorted({q for t in found.themes for q in t.quotes}))
        parts.append('<ol class="themes">\n')
        for theme, (_, _, figure) in zip(found.themes, bars, strict=True):
            line = say("report_figure_line", label=plain(theme.name), figure=figure)
            parts.append(f'<li><b>{escape(line)}</b>')
            if theme.description:
                parts.append(f'<span class="muted"> {escape(plain(theme.description))}</span>')
            chosen = [quoted[q] for q in theme.quotes if q in quoted][:QUOTES]
            if chosen:
                parts.append('<ul class="quotes">' + "".join(_quote(consultation, a) for a in chosen) + "</ul>")
            parts.append("</li>\n")
        parts.append("</ol>\n")
    else:
        parts.append(f'<p class="muted">{escape(say("report_no_themes"))}</p>\n')
    lines = [say("report_needs_reading", count=number(totals.needs_reading))]
    if totals.no_fit:
        lines.append(say("report_no_fit", count=number(totals.no_fit)))
    lines.append(say("report_non_answers", count=number(totals.non_answers)))
    lines.append(say("report_confirmed", percent=percent(totals.confirmed, written),
                     count=number(totals.confirmed), written=number(written)))
    parts.append('<ul class="tally">' + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>\n")
    pasted = await report_reads.campaigns(conn, cid, question.id, CAMPAIGNS)
    if pasted:
        parts.append(f"<p>{escape(say('report_campaigns'))}</p>\n<ul>")
        parts += [f"<li>{escape(say('report_campaign', text=shorten(text, 120), count=number(count)))}</li>"
                  for text, count in pasted]
        parts.append("</ul>\n")
    if found.analysed:
        parts += _agreement(consultation, await report_reads.agreement(conn, cid, question.id), found.ids)
    parts.append(f'<p><a href="answers.html#q{place}">{escape(say("report_answers_link", count=number(written)))}'
                 "</a></p>\n")
    return parts


async def alerts_block(conn: aiosqlite.Connection, consultation: Consultation) -> list[str]:
    """Answers the consultation's alert words flagged, per alert, with the newest references: first on the page,
    because an answer that needs a person matters more than any count."""
    say = consultation.message
    parts = [f"<h2>{escape(say('report_alerts'))}</h2>\n"]
    if not consultation.alerts:
        parts.append(f'<p class="muted">{escape(say("report_alerts_unset"))}</p>\n')
        return parts
    counted = await alerts.counts(conn, consultation.id, tuple(a.id for a in consultation.alerts), ALERT_REFERENCES)
    parts.append(f'<p class="muted">{escape(say("report_alerts_note"))}</p>\n<ul class="alerts">\n')
    for alert, figures in zip(consultation.alerts, counted, strict=True):
        title = plain(alert.title)
        if figures.answers:
            text = say("report_alert_line", title=title, count=number(figures.answers),
                       references=", ".join(figures.newest))
        else:
            text = say("report_alert_none", title=title)
        parts.append(f'<li id="alert-{escape(alert.id)}">{escape(text)}</li>\n')
    parts.append("</ul>\n")
    return parts
