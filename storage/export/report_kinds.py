"""report.html's figures for each kind of question, and the measures at the top of the page.

Every chart is followed by its numbers as text (a list a screen reader reads, and anyone can copy), because a
chart's SVG is one image to assistive technology.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from conversations.model import Consultation, Question, QuestionKind
from conversations.screens.markup import plain
from storage.export import charts
from storage.export.figures import number, option_label, percent, with_unit
from storage.export.kinds import decimal, in_shares, measure_percent, option_counts, scale_figures, share_base
from storage.stats import ConsultationStats, QuestionFigures

SWATCH = "display:inline-block;width:.8em;height:.8em;margin-right:.4em;border-radius:2px;background:"


def measures(consultation: Consultation, stats: ConsultationStats) -> Iterator[str]:
    """The board's headline measures, each with its base: 'TP01 Overall satisfaction: 72.4% of 310'."""
    if not consultation.measures:
        return
    say = consultation.message
    yield f"<h2>{escape(say('report_measures'))}</h2>\n"
    yield f'<p class="muted">{escape(say("report_measures_note"))}</p>\n<ul class="cards">\n'
    for measure, figures in zip(consultation.measures, stats.measures, strict=True):
        title = plain(measure.title)
        if figures.base:
            text = say("report_measure", title=title, percent=measure_percent(figures), base=number(figures.base))
            big = measure_percent(figures)
        else:
            text, big = say("report_measure_empty", title=title), "–"
        yield f'<li id="measure-{escape(measure.id)}"><b aria-hidden="true">{big}</b>{escape(text)}</li>\n'
    yield "</ul>\n"


def numbers_list(items: list[tuple[str, str]]) -> str:
    """(swatch colour or '', text) as a plain list: the chart's numbers in words."""
    rows = []
    for colour, text in items:
        swatch = f'<span style="{SWATCH}{colour}"></span>' if colour else ""
        rows.append(f"<li>{swatch}{escape(text)}</li>")
    return f'<ul class="numbers">{"".join(rows)}</ul>\n'


def figures(consultation: Consultation, heading: str, question: Question, counted: QuestionFigures) -> Iterator[str]:
    """The chart and numbers that suit the question's kind (a text question has only its written answers)."""
    if question.kind is QuestionKind.CHOICE:
        chosen = sum(counted.choices.values())
        bars = [(option_label(question, choice), count, f"{number(count)} ({percent(count, chosen)})")
                for choice, count in option_counts(question, counted)]
        yield charts.horizontal(heading, bars) + "\n"
        say = consultation.message
        yield numbers_list([("", say("report_figure_line", label=name, figure=figure)) for name, _, figure in bars])
    elif question.kind is QuestionKind.SCALE:
        yield from scale(consultation, heading, question, counted)
    elif question.kind is QuestionKind.MULTI:
        yield from multi(consultation, heading, question, counted)
    elif question.kind is QuestionKind.NUMBER:
        yield from numbers(consultation, heading, question, counted)


def scale(consultation: Consultation, heading: str, question: Question, counted: QuestionFigures) -> Iterator[str]:
    """A diverging stacked bar of the points, the top-two share with its base, and every point in words."""
    say, found = consultation.message, scale_figures(question, counted)
    points = [(option_label(question, point.id), counted.choices.get(point.id, 0)) for point in question.points]
    shown = [(name, count, f"{number(count)} ({percent(count, found.base)})") for name, count in points]
    yield charts.diverging(heading, shown) + "\n"
    top = ", ".join(name for name, _ in points[:2])
    yield "<p>" + escape(say("report_scale_top_two", labels=top, percent=percent(found.top_two, found.base),
                             count=number(found.top_two), base=number(found.base), mean=decimal(found.mean),
                             points=found.points)) + "</p>\n"
    items = [(colour, say("report_figure_line", label=name, figure=figure))
             for colour, (name, _, figure) in zip(charts.scale_colours(len(points)), shown, strict=True)]
    for option in question.options:
        if not in_shares(question, option.id):
            items.append(("", say("report_dont_know", label=option_label(question, option.id),
                                  count=number(counted.choices.get(option.id, 0)))))
    yield numbers_list(items)


def multi(consultation: Consultation, heading: str, question: Question, counted: QuestionFigures) -> Iterator[str]:
    """The % of those who ticked any who ticked each option, saying that they can add up past 100%."""
    say, base = consultation.message, share_base(question, counted)
    bars = [(option_label(question, choice), count, f"{number(count)} ({percent(count, base)})")
            for choice, count in option_counts(question, counted)]
    yield charts.horizontal(heading, bars, whole=base) + "\n"
    yield f'<p class="muted">{escape(say("report_multi_note", base=number(base)))}</p>\n'
    yield numbers_list([("", say("report_figure_line", label=name, figure=figure)) for name, _, figure in bars])


def numbers(consultation: Consultation, heading: str, question: Question, counted: QuestionFigures
            ) -> Iterator[str]:
    """The median (with lowest and highest), the distribution as bars, and the distribution in words."""
    say = consultation.message
    if not counted.numbers:
        yield f'<p class="muted">{escape(say("report_no_numbers"))}</p>\n'
        return
    yield "<p>" + escape(say(
        "report_number", median=with_unit(consultation, question, decimal(counted.median)),
        lowest=number(min(counted.numbers)), highest=number(max(counted.numbers)),
        count=number(sum(counted.numbers.values())))) + "</p>\n"
    bins = charts.number_bins(counted.numbers)
    yield charts.vertical(heading, bins, bins[0][0], bins[-1][0]) + "\n"
    yield numbers_list([("", say("report_number_given", count=number(count), number=name))
                        for name, count in bins if count])
