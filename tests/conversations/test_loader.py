"""A consultation file with a mistake is refused with one clear line per problem naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.file.loader import ConsultationError, load_consultation

MINIMAL = '''
id = "tiny"
title = "Tiny consultation"
organisation = "Test HA"
timezone = "Europe/London"
opens_at = 2021-03-01T09:00:00
closes_at = 2021-03-31T17:00:00
welcome = "Hello. It closes {closes}."
introduction = ["We buy things."]
thank_you = "Thanks."

[privacy]
version = "1"
notice = "We keep your answers."

[[objectives]]
id = "value"
title = "Value"
explanation = "Good value."

[[topics]]
id = "general"
title = "General"

[[questions]]
id = "q1"
topic = "general"
objectives = ["value"]
kind = "choice"
text = "Do you agree?"
reason_prompt = "Why?"

[[questions.options]]
id = "yes"
label = "Yes"

[[questions.options]]
id = "no"
label = "No"

[[questions]]
id = "q2"
topic = "general"
kind = "text"
text = "Anything else?"
'''


def problems_for(tmp_path: Path, text: str) -> list[str]:
    """Write a file and return the problems the loader reports (failing if it loads)."""
    file = tmp_path / "consultation.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConsultationError) as refused:
        load_consultation(file)
    assert all(line.startswith(str(file)) for line in refused.value.problems)
    return refused.value.problems


def test_a_minimal_valid_file_loads(tmp_path: Path) -> None:
    file = tmp_path / "ok.toml"
    file.write_text(MINIMAL, encoding="utf-8")
    consultation = load_consultation(file)
    assert [q.id for q in consultation.questions] == ["q1", "q2"]
    assert consultation.opens_at.utcoffset() is not None


def test_missing_question_text_is_named(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace('text = "Anything else?"', ""))
    assert any("questions[2].text: is missing" in p for p in problems)


def test_duplicate_question_ids_are_named(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace('id = "q2"', 'id = "q1"'))
    assert any("questions: duplicate id 'q1'" in p for p in problems)


def test_close_before_open_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace("closes_at = 2021-03-31", "closes_at = 2021-02-01"))
    assert any("closes_at: is not after opens_at" in p for p in problems)


def test_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace("Europe/London", "Europe/Londn"))
    assert any("timezone: unknown time zone 'Europe/Londn'" in p for p in problems)


def test_an_option_id_too_long_for_telegram_button_data_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace('id = "yes"', f'id = "{"y" * 40}"').replace(
        'id = "q1"', f'id = "{"q" * 30}"').replace('"q1"', f'"{"q" * 30}"'))
    assert any("options[1].id" in p and "64-byte button data" in p for p in problems)


def test_a_choice_question_needs_two_options(tmp_path: Path) -> None:
    text = MINIMAL.replace('[[questions.options]]\nid = "no"\nlabel = "No"\n', "")
    problems = problems_for(tmp_path, text)
    assert any("questions[1].options: a choice question needs at least two options" in p for p in problems)


def test_an_unknown_kind_topic_and_objective_are_each_named(tmp_path: Path) -> None:
    text = MINIMAL.replace('kind = "text"', 'kind = "essay"').replace(
        'topic = "general"\nkind = "essay"', 'topic = "nowhere"\nkind = "essay"').replace(
        'objectives = ["value"]', 'objectives = ["value", "ghost"]')
    problems = problems_for(tmp_path, text)
    assert any("questions[2].kind: 'essay'" in p for p in problems)
    assert any("questions[2].topic: 'nowhere'" in p for p in problems)
    assert any("questions[1].objectives: 'ghost'" in p for p in problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = MINIMAL.replace("Europe/London", "Mars/Olympus").replace('id = "q2"', 'id = "q1"')
    assert len(problems_for(tmp_path, text)) >= 2


def test_markup_telegram_would_refuse_is_caught(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace('"Good value."', '"<b>Good value."'))
    assert any("objectives[1].explanation: leaves <b> open" in p for p in problems)


def test_a_missing_privacy_notice_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace('[privacy]\nversion = "1"\nnotice = "We keep your answers."\n', "")
    problems = problems_for(tmp_path, text)
    assert any(": privacy: is missing" in p for p in problems)


def test_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace("{closes}", "{closing}"))
    assert any("welcome: unknown placeholder {closing}" in p for p in problems)


def test_an_objective_no_question_uses_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace('objectives = ["value"]\n', ""))
    assert any("'value' is not linked to any question" in p for p in problems)


def test_a_message_over_telegrams_limit_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, MINIMAL.replace('"Anything else?"', '"' + "a" * 4100 + '"'))
    assert any("questions[2].text: is 4100 characters" in p for p in problems)


def test_a_bad_reminder_is_refused(tmp_path: Path) -> None:
    text = MINIMAL + '\n[[reminders]]\nid = "r1"\nbefore_close = "a week"\naudience = "everyone"\ntext = "Hi"\n'
    problems = problems_for(tmp_path, text)
    assert any("reminders[1].before_close" in p for p in problems)
    assert any("reminders[1].audience" in p for p in problems)


def test_broken_toml_and_a_missing_file_are_one_clear_line(tmp_path: Path) -> None:
    assert "not valid TOML" in problems_for(tmp_path, "id = ")[0]
    with pytest.raises(ConsultationError, match="does not exist"):
        load_consultation(tmp_path / "nope.toml")
