"""What a tenant can do, as plain data: the bot turns each Telegram update into one of these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Start:
    """/start, optionally with a deep-link payload such as 'poster'."""

    payload: str | None = None


@dataclass(frozen=True)
class Text:
    """A typed message."""

    text: str


@dataclass(frozen=True)
class Press:
    """A button press, by the button's stable id."""

    button_id: str


@dataclass(frozen=True)
class Help:
    """/help: where am I and what can I do."""


@dataclass(frozen=True)
class Review:
    """/review: show every answer so far."""


@dataclass(frozen=True)
class Privacy:
    """/privacy: show the privacy notice again."""


Event = Start | Text | Press | Help | Review | Privacy
