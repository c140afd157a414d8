"""Figures worked out from a question's counts, by kind: each option's share and its base, a scale's top two and mean
score, a measure's percentage. One place, so /stats, the summary sheet and the report can never disagree."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.model import DONT_KNOW, Question, QuestionKind
from storage.stats import MeasureFigures, QuestionFigures


@dataclass(frozen=True)
class ScaleFigures:
    """A scale's headline: of those who chose a point ("don't know" left out), how many chose one of the top two,
    and the mean score (n for the most positive point down to 1)."""

    points: int
    base: int
    top_two: int
    dont_know: int
    mean: float | None

    @property
    def top_two_share(self) -> float | None:
        """top_two / base, or None before anyone chose a point."""
        return self.top_two / self.base if self.base else None


def scale_figures(question: Question, figures: QuestionFigures) -> ScaleFigures:
    """The scale's headline from its tallies."""
    counts = [(figures.choices.get(point.id, 0), question.score(point.id) or 0) for point in question.points]
    base = sum(count for count, _ in counts)
    total = sum(count * score for count, score in counts)
    return ScaleFigures(len(question.points), base, sum(count for count, _ in counts[:2]),
                        figures.choices.get(DONT_KNOW, 0), total / base if base else None)


def option_counts(question: Question, figures: QuestionFigures) -> list[tuple[str, int]]:
    """Every option in the file's order, then any stored choice the file no longer has (so none is lost)."""
    known = [(option.id, figures.choices.get(option.id, 0)) for option in question.options]
    extra = [(choice, count) for choice, count in figures.choices.items() if question.option(choice) is None]
    return known + sorted(extra)


def share_base(question: Question, figures: QuestionFigures) -> int:
    """What an option's share is out of: those who chose (a scale: chose a point; a multi: ticked any)."""
    if question.kind is QuestionKind.SCALE:
        return scale_figures(question, figures).base
    if question.kind is QuestionKind.MULTI:
        return figures.chosen
    return sum(figures.choices.values())


def in_shares(question: Question, option_id: str) -> bool:
    """Whether an option has a share: a scale's "don't know" is counted but left out of the percentages."""
    return not (question.kind is QuestionKind.SCALE and option_id == DONT_KNOW)


def measure_percent(figures: MeasureFigures) -> str:
    """'72.4%': a measure is read to one decimal place, as the board's tables give them."""
    share = figures.share
    return "–" if share is None else f"{share:.1%}"


def decimal(value: float | None) -> str:
    """'3', '2.5' or '3.75' (at most two places), '–' for none: a median or a mean, read by people."""
    if value is None:
        return "–"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
