"""What the engine asks the bot to send: text plus buttons with stable ids, as plain data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    """One button; `id` comes back in a Press event when it is tapped."""

    id: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One message to send, with rows of buttons under it."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()

    @property
    def button_ids(self) -> tuple[str, ...]:
        """Every button id on this message, for tests and the terminal preview."""
        return tuple(b.id for row in self.buttons for b in row)
