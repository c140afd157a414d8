"""Small consultation files written to the file contract in a test's tmp_path: the header every file needs, then
the questions (and measures) a test is about."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.file.loader import ConsultationError, load_consultation
from conversations.model import Consultation

HEADER = '''
id = "contract"
title = "Repairs survey"
organisation = "Riverside Homes"
timezone = "Europe/London"
opens_at = 2026-12-01T09:00:00
closes_at = 2027-01-31T17:00:00
welcome = "Hello. It closes {closes}."
introduction = ["About this survey."]
thank_you = "Thanks."

[privacy]
notice = "We keep your answers."
'''

YES_NO = '''
[[questions.options]]
id = "yes"
label = "Yes"

[[questions.options]]
id = "no"
label = "No"
'''


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    """The file, written where the loader can read it."""
    path = tmp_path / "consultation.toml"
    path.write_text(header + body, encoding="utf-8")
    return path


def load(tmp_path: Path, body: str, header: str = HEADER) -> Consultation:
    """A consultation that must load."""
    return load_consultation(write(tmp_path, body, header))


def problems(tmp_path: Path, body: str, header: str = HEADER) -> list[str]:
    """Every problem the loader reports, without the file name in front (failing if the file loads)."""
    path = write(tmp_path, body, header)
    with pytest.raises(ConsultationError) as refused:
        load_consultation(path)
    prefix = f"{path}: "
    assert all(line.startswith(prefix) for line in refused.value.problems), refused.value.problems
    return [line.removeprefix(prefix) for line in refused.value.problems]


def the_problem(tmp_path: Path, body: str, header: str = HEADER) -> str:
    """The one problem a file with one mistake has: one readable line."""
    found = problems(tmp_path, body, header)
    assert len(found) == 1, found
    return found[0]
