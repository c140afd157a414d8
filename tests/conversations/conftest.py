"""The bundled consultation, loaded once per test session."""

from __future__ import annotations

import pytest

from conversations.file.loader import load_consultation
from conversations.model import Consultation


@pytest.fixture(scope="session")
def consultation() -> Consultation:
    return load_consultation()
