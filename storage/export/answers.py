"""answers.html: the report's appendix, every written answer and reason, question by question, grouped by theme.

Each answer is listed once: under its first theme in the report's order (the one most answers carry), with its
other themes named on its reference line; then the answers that need reading, those staff read and found no theme
for, and the non-answers. Streamed from the database to the file a chunk at a time, never all in memory: at
100,000 respondents this page is tens of megabytes, so the report (which links here) stays small.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TextIO

import aiosqlite

from conversations.model import Consultation, Question, QuestionKind
from conversations.screens.markup import plain
from storage.export.figures import number, option_label, question_title
from storage.export.layout import numbered
from storage.export.report import head
from storage.export.report_themes import QuestionThemes, question_themes
from storage.themes import report_reads
from storage.themes.report_reads import NEEDS_READING, NO_FIT, NON_ANSWER

OPEN_UP_TO = 100  # longer lists start folded, so the page stays quick to scroll


def group_title(consultation: Consultation, found: QuestionThemes, group: int, count: int) -> str:
    """A group's heading: the theme's name, or what kind of answers these are, with how many are listed."""
    say, shown = consultation.message, number(count)
    if group == NEEDS_READING:
        return say("answers_needs_reading" if found.analysed else "answers_not_analysed", count=shown)
    if group == NO_FIT:
        return say("answers_no_fit", count=shown)
    if group == NON_ANSWER:
        return say("answers_non_answers", count=shown)
    theme = found.themes[group - 1]
    carrying = found.counts[theme.id]
    if carrying == count:
        return say("answers_theme", name=plain(theme.name), count=shown)
    return say("answers_theme_shared", name=plain(theme.name), count=shown, carrying=number(carrying))


def reference_line(consultation: Consultation, question: Question, found: QuestionThemes,
                   answer: report_reads.CodedAnswer) -> str:
    """'R-7KQ2M9 · partial · 👍 Agree · also: Cost, Local firms': who, the choice it explains, its other themes."""
    say = consultation.message
    parts = [answer.reference]
    if not answer.finished:
        parts.append(say("export_status_partial"))
    if answer.choice:
        parts.append(option_label(question, answer.choice))
    others = [plain(found.themes[place - 1].name) for place in answer.places if place != answer.group]
    if others:
        parts.append(say("answers_also", themes=", ".join(others)))
    return " · ".join(parts)


async def write_question(out: TextIO, conn: aiosqlite.Connection, consultation: Consultation, place: int,
                         question: Question) -> None:
    """One question's written answers, group by group, as they stream from the database."""
    say = consultation.message
    found = await question_themes(conn, consultation.id, question.id)
    if not found.totals.written and not (question.kind is QuestionKind.TEXT or question.asks_reason):
        return  # a question that takes no words has no section here
    heading = say("report_question", number=place, total=len(consultation.answerable),
                  topic=question_title(consultation, question))
    out.write(f'<section id="q{place}">\n<h2>{escape(heading)}</h2>\n'
              f'<p class="question">{escape(plain(question.text))}</p>\n')
    if not found.totals.written:
        out.write(f'<p class="muted">{escape(say("report_no_written"))}</p>\n</section>\n')
        return
    group = None
    async for answer in report_reads.coded_answers(conn, consultation.id, question.id, found.ids):
        if answer.group != group:
            if group is not None:
                out.write("</ol>\n</details>\n")
            group, count = answer.group, found.totals.groups.get(answer.group, 0)
            state = " open" if count <= OPEN_UP_TO else ""
            title = group_title(consultation, found, group, count)
            out.write(f'<details{state}>\n<summary>{escape(title)}</summary>\n<ol class="answers">\n')
        ref = reference_line(consultation, question, found, answer)
        out.write(f'<li>{escape(answer.text)}<span class="ref">{escape(ref)}</span></li>\n')
    if group is not None:
        out.write("</ol>\n</details>\n")
    out.write("</section>\n")


async def write_answers(path: Path, conn: aiosqlite.Connection, consultation: Consultation) -> None:
    """The whole appendix, top to bottom, straight to the file (inside the export's snapshot)."""
    say = consultation.message
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(head(consultation, "answers_title"))
        out.write(f"<h1>{escape(say('answers_title', title=plain(consultation.title)))}</h1>\n")
        out.write(f'<p class="muted">{escape(say("answers_intro"))}</p>\n')
        out.write(f'<p><a href="report.html">{escape(say("answers_back"))}</a></p>\n')
        for place, question in numbered(consultation):
            if question.kind is not QuestionKind.NUMBER:
                await write_question(out, conn, consultation, place, question)
        out.write(f'<p class="muted">{escape(say("report_footer"))}</p>\n</main>\n</body>\n</html>\n')
