"""The bundled Connexus consultation is complete, faithful in order, and fits Telegram."""

from __future__ import annotations

from conversations.file.check import messages_of, summary
from conversations.model import Consultation, QuestionKind


def test_the_bundled_file_loads_with_five_questions_in_the_seeds_order(consultation: Consultation) -> None:
    assert [q.id for q in consultation.questions] == [
        "q1_general", "q2_local_suppliers", "q3_cost_quality", "q4_environment", "q5_other",
    ]
    assert "Herefordshire and Shropshire" in consultation.questions[1].context


def test_it_has_every_objective_and_all_four_topics(consultation: Consultation) -> None:
    assert [o.title for o in consultation.objectives] == [
        "Value for money", "Real savings and financial strength", "Supply chain development",
        "Compliance and assurance", "Sustainable supply",
    ]
    assert [t.title for t in consultation.topics] == [
        "General procurement", "Local suppliers", "Balance between cost and quality", "Environmental impact",
    ]


def test_questions_two_and_four_are_agree_disagree_not_sure_with_an_optional_reason(
    consultation: Consultation,
) -> None:
    for question in (consultation.questions[1], consultation.questions[3]):
        assert question.kind is QuestionKind.CHOICE and question.asks_reason
        assert [o.id for o in question.options] == ["agree", "disagree", "not_sure"]


def test_the_window_is_4_to_30_november_2020_in_london_time(consultation: Consultation) -> None:
    assert consultation.timezone.key == "Europe/London"
    assert consultation.opens_at.isoformat() == "2020-11-04T09:00:00+00:00"
    assert consultation.closes_at.isoformat() == "2020-11-30T17:00:00+00:00"


def test_every_message_fits_in_one_telegram_message(consultation: Consultation) -> None:
    for name, text in messages_of(consultation):
        assert 0 < len(text) <= 4096, name
    assert all(len(v) <= 4096 for v in consultation.messages.values())


def test_the_check_summary_names_the_window_and_flags_the_hardest_message(consultation: Consultation) -> None:
    screen = summary(consultation)
    assert "Monday 30 November 2020 at 5pm (2020-11-30 17:00 UTC)" in screen
    assert screen.count("<- hardest") == 1
    assert len(screen.splitlines()) < 40 + len(consultation.alerts) + 1, "one screen: the alerts add a line each"
