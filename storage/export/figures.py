"""The counts in words: one source for /stats, `consultation-bot stats`, the summary sheet and the report."""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.model import Consultation, Question, QuestionKind
from conversations.screens.markup import escape, plain
from conversations.screens.timefmt import local_time
from storage.export.kinds import decimal, in_shares, measure_percent, scale_figures, share_base
from storage.export.layout import numbered
from storage.stats import ConsultationStats, QuestionFigures


def number(value: int) -> str:
    """12,345: figures are read by people, not parsed."""
    return f"{value:,}"


def megabytes(size: int) -> str:
    """'12.3 MB', the unit Telegram's upload limit is given in."""
    return f"{size / 1_000_000:.1f} MB"


def percent(part: int, whole: int) -> str:
    """A whole-number share; '–' when there is nothing to share out."""
    return f"{part / whole:.0%}" if whole else "–"


def option_label(question: Question, choice: str) -> str:
    """The button's label without markup; the stored id when the option has since left the file."""
    option = question.option(choice)
    return plain(option.label) if option else choice


def duration(consultation: Consultation, span: timedelta) -> str:
    """'3 days 4 hours', '2 hours 5 minutes' or '7 minutes': precise enough for a countdown."""
    minutes = max(int(span.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    words = [consultation.message(f"stats_unit_{unit}" if count == 1 else f"stats_unit_{unit}s", n=count)
             for count, unit in parts if count]
    return " ".join(words) or consultation.message("stats_unit_minutes", n=0)


def countdown(consultation: Consultation, now: datetime) -> str:
    """Opens in…, closes in…, or closed … ago, with the date in the consultation's own zone."""
    zone = consultation.timezone
    opens, closes = local_time(consultation.opens_at, zone), local_time(consultation.closes_at, zone)
    if now < consultation.opens_at:
        return consultation.message("stats_countdown_before", left=duration(consultation, consultation.opens_at - now),
                                    opens=opens)
    if now < consultation.closes_at:
        return consultation.message("stats_countdown_open", left=duration(consultation, consultation.closes_at - now),
                                    closes=closes)
    return consultation.message("stats_countdown_closed", ago=duration(consultation, now - consultation.closes_at),
                                closes=closes)


def headline(consultation: Consultation, stats: ConsultationStats) -> list[tuple[str, int]]:
    """The headline counts, each with its label, in the order people ask about them."""
    pairs = [
        ("stats_started", stats.started), ("stats_agreed", stats.agreed), ("stats_finished", stats.finished),
        ("stats_partial", stats.partial), ("stats_not_agreed", stats.not_agreed), ("stats_declined", stats.declined),
        ("stats_erased", stats.erased), ("stats_reminders", stats.reminders_sent),
    ]
    return [(consultation.message(key), value) for key, value in pairs]


def question_title(consultation: Consultation, question: Question, limit: int = 60) -> str:
    """The question's topic, or (without one) the start of its wording: what a list of figures names it by."""
    found = consultation.topic(question.topic)
    if found is not None:
        return plain(found.title)
    words = " ".join(plain(question.text).split())
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0] + "…"


def with_unit(consultation: Consultation, question: Question, value: str) -> str:
    """'3 visits', or '3' when the number question has no unit."""
    unit = question.unit_for(1 if value == "1" else 2)
    return consultation.message("stats_number_with_unit", number=value, unit=unit) if unit else value


def question_lines(consultation: Consultation, place: int, question: Question, figures: QuestionFigures) -> list[str]:
    """One question's figures for a chat message: answered and skipped (and not shown, when routed), then by kind."""
    say = consultation.message
    routed = question.show_if is not None or figures.not_shown
    lines = [say("stats_question_line_routed" if routed else "stats_question_line", number=place,
                 topic=escape(question_title(consultation, question)), answered=number(figures.answered),
                 skipped=number(figures.skipped), not_shown=number(figures.not_shown))]
    if question.kind is QuestionKind.NUMBER:
        return [*lines, number_line(consultation, question, figures)]
    base = share_base(question, figures)
    for option in question.options:
        count = figures.choices.get(option.id, 0)
        key = "stats_choice_line" if in_shares(question, option.id) else "stats_dont_know_line"
        lines.append(say(key, label=escape(plain(option.label)), count=number(count), percent=percent(count, base)))
    if question.kind is QuestionKind.SCALE:
        scale = scale_figures(question, figures)
        lines.append(say("stats_scale_line", percent=percent(scale.top_two, scale.base), count=number(scale.top_two),
                         base=number(scale.base), mean=decimal(scale.mean), points=scale.points))
    if question.kind is QuestionKind.MULTI:
        lines.append(say("stats_multi_line", base=number(base)))
    if figures.written:
        key = "stats_reasons_line" if question.options else "stats_written_line"
        lines.append(say(key, count=number(figures.written)))
    return lines


def number_line(consultation: Consultation, question: Question, figures: QuestionFigures) -> str:
    """A number question's median, lowest and highest, with its unit."""
    if not figures.numbers:
        return consultation.message("stats_number_none")
    return consultation.message(
        "stats_number_line", median=escape(with_unit(consultation, question, decimal(figures.median))),
        lowest=number(min(figures.numbers)), highest=number(max(figures.numbers)),
        count=number(sum(figures.numbers.values())))


def measure_lines(consultation: Consultation, stats: ConsultationStats) -> list[str]:
    """Each measure with its base, e.g. 'TP01 Overall satisfaction: 72.4% of 310'; nothing without measures."""
    say = consultation.message
    if not consultation.measures:
        return []
    lines = ["", say("stats_measures")]
    for measure, figures in zip(consultation.measures, stats.measures, strict=True):
        title = escape(plain(measure.title))
        lines.append(say("stats_measure_line", title=title, percent=measure_percent(figures),
                         base=number(figures.base)) if figures.base else say("stats_measure_empty", title=title))
    return lines


def alert_lines(consultation: Consultation, stats: ConsultationStats) -> list[str]:
    """Each alert with how many current answers it flagged and the newest references; nothing without alerts.
    These come first: an answer that needs a person matters more than any count."""
    say = consultation.message
    if not consultation.alerts:
        return []
    lines = [say("stats_alerts")]
    counts = {figures.alert_id: figures for figures in stats.alerts}
    for alert in consultation.alerts:
        title, figures = escape(plain(alert.title)), counts.get(alert.id)
        if figures is None or not figures.answers:
            lines.append(say("stats_alert_none", title=title))
            continue
        lines.append(say("stats_alert_line", title=title, count=number(figures.answers),
                         newest=", ".join(figures.newest)))
    return [*lines, ""]


def stats_message(consultation: Consultation, stats: ConsultationStats, now: datetime) -> str:
    """/stats in Telegram's HTML; `consultation-bot stats` prints the same through markup.plain. Alerts first."""
    say = consultation.message
    lines = [say("stats_title", title=escape(plain(consultation.title))), countdown(consultation, now), ""]
    lines += alert_lines(consultation, stats)
    lines += [say("stats_line", label=label, value=number(value)) for label, value in headline(consultation, stats)]
    lines += measure_lines(consultation, stats)
    lines += ["", say("stats_questions")]
    for (place, question), figures in zip(numbered(consultation), stats.questions, strict=True):
        lines += question_lines(consultation, place, question, figures)
    return "\n".join(lines)
