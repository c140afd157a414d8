"""report.html: one self-contained page a housing officer can forward to the board and read on a phone.

Written as it is read from the database, and made only of aggregates: alerts, measures, counts and charts, then
per question its figures and, for written answers, the themes with counts and a few quotes. Every written answer
is in answers.html (storage/export/answers.py), which the report links to; so the report stays small (a few tens
of kilobytes at 100,000 respondents) and opens on a phone with nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TextIO

import aiosqlite

from conversations.model import Consultation, Question, QuestionKind
from conversations.screens.markup import plain
from conversations.screens.timefmt import local_time
from storage.export import charts, report_kinds, rows
from storage.export.figures import countdown, headline, number, percent, question_title
from storage.export.layout import numbered
from storage.export.report_themes import alerts_block, themes_block
from storage.stats import ConsultationStats, QuestionFigures

STYLE = """
:root{color-scheme:light}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fff}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.2rem;margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}
h3{font-size:1rem;margin:1rem 0 .25rem}
.muted,.context{color:#555}
.question{font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem;padding:0;list-style:none}
.cards li{border:1px solid #ddd;border-radius:.5rem;padding:.5rem .75rem}
.cards b{display:block;font-size:1.4rem}
.chart{width:100%;height:auto;max-width:32rem;display:block;margin:.5rem 0}
.chart text{font-size:14px;fill:#1b1b1b}
.chart .figure{font-size:12px;fill:#555}
.chart .bar{fill:#1d6fa5}
.chart .axis{stroke:#999}
summary{cursor:pointer;font-weight:600;margin:.5rem 0}
ol.answers{padding-left:1.5rem}
ol.answers li{margin:.6rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.ref{display:block;font-size:.8rem;color:#555;white-space:normal}
ol.themes{padding-left:1.5rem}
ol.themes>li{margin:.75rem 0}
ul.quotes{list-style:none;padding:0;margin:.25rem 0}
ul.quotes li{margin:.4rem 0;padding-left:.75rem;border-left:3px solid #ddd}
blockquote{margin:0;overflow-wrap:anywhere}
a{color:#1d5c8a}
@media print{details>*{display:block}}
"""


def head(consultation: Consultation, title_key: str = "report_title") -> str:
    """Nothing may be fetched (CSP), so the page looks the same offline, in an email, or on the board's tablets."""
    title = escape(consultation.message(title_key, title=plain(consultation.title)))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    )


def summary(consultation: Consultation, stats: ConsultationStats, hours: dict[str, int], now: datetime,
            flagged: list[str]) -> Iterator[str]:
    """Title, dates, the alerts (`flagged`, first: an answer that needs a person comes before any count), the
    measures, the headline counts, where people came from, and responses over time."""
    say, zone = consultation.message, consultation.timezone
    yield f"<h1>{escape(plain(consultation.title))}</h1>\n"
    yield "<p class=\"muted\">" + escape(say(
        "report_subtitle", organisation=plain(consultation.organisation),
        opens=local_time(consultation.opens_at, zone), closes=local_time(consultation.closes_at, zone),
        made=local_time(now, zone))) + "</p>\n"
    yield f"<p>{escape(plain(countdown(consultation, now)))}</p>\n"
    yield from flagged
    yield from report_kinds.measures(consultation, stats)
    yield f"<h2>{escape(say('report_headline'))}</h2>\n<ul class=\"cards\">\n"
    for label, value in headline(consultation, stats):
        yield f"<li><b>{number(value)}</b>{escape(label)}</li>\n"
    yield "</ul>\n"
    if stats.sources:
        yield f"<h3>{escape(say('report_sources'))}</h3>\n"
        bars = [(source or say("report_source_direct"), count, f"{number(count)} ({percent(count, stats.agreed)})")
                for source, count in stats.sources]
        yield charts.horizontal(say("report_sources"), bars) + "\n"
    days = charts.per_day(hours, zone, consultation.opens_at, min(now, consultation.closes_at))
    label = say("report_over_time")
    yield f"<h2>{escape(label)}</h2>\n<p class=\"muted\">{escape(say('report_over_time_note', zone=zone.key))}</p>\n"
    named = [(f"{day:%a} {day.day} {day:%b}", count) for day, count in days]
    yield charts.vertical(label, named, named[0][0], named[-1][0]) + "\n"


def question_top(consultation: Consultation, place: int, question: Question, figures: QuestionFigures
                 ) -> Iterator[str]:
    """The consultation's own wording, then the figures, then the chart and numbers for its kind."""
    say = consultation.message
    heading = say("report_question", number=place, total=len(consultation.answerable),
                  topic=question_title(consultation, question))
    yield f'<section id="q{place}">\n<h2>{escape(heading)}</h2>\n'
    if question.context:
        yield f'<p class="context">{escape(plain(question.context))}</p>\n'
    yield f'<p class="question">{escape(plain(question.text))}</p>\n'
    routed = question.show_if is not None or figures.not_shown
    answered = say("report_answered_routed" if routed else "report_answered", answered=number(figures.answered),
                   skipped=number(figures.skipped), not_shown=number(figures.not_shown))
    yield f'<p class="muted">{escape(answered)}</p>\n'
    yield from report_kinds.figures(consultation, heading, question, figures)


async def write_question(out: TextIO, conn: aiosqlite.Connection, consultation: Consultation, place: int,
                         question: Question, figures: QuestionFigures) -> None:
    """A question's section: wording, figures, chart, and (for written answers) the themes and their counts."""
    out.writelines(question_top(consultation, place, question, figures))
    if question.kind is not QuestionKind.NUMBER:  # a number takes no words
        heading = consultation.message("report_question", number=place, total=len(consultation.answerable),
                                       topic=question_title(consultation, question))
        out.writelines(await themes_block(conn, consultation, place, heading, question))
    out.write("</section>\n")


async def write_report(path: Path, conn: aiosqlite.Connection, consultation: Consultation, stats: ConsultationStats,
                       now: datetime) -> None:
    """The whole page, top to bottom, straight to the file."""
    hours = await rows.agreed_by_hour(conn, consultation.id)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(head(consultation))
        out.writelines(summary(consultation, stats, hours, now, await alerts_block(conn, consultation)))
        for (place, question), figures in zip(numbered(consultation), stats.questions, strict=True):
            await write_question(out, conn, consultation, place, question, figures)
        out.write(f'<p class="muted">{escape(consultation.message("report_footer"))}</p>\n</main>\n</body>\n</html>\n')
