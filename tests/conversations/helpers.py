"""A tenant driven through the pure engine, for readable tests."""

from __future__ import annotations

from datetime import UTC, datetime

from conversations.events import Event, Press, Start, Text
from conversations.flow.engine import StepResult, step
from conversations.model import Consultation
from conversations.replies import Reply
from conversations.screens.markup import plain
from conversations.state import ConversationState

IN_WINDOW = datetime(2020, 11, 10, 12, 0, tzinfo=UTC)


class Tenant:
    """Keeps one tenant's state between events and remembers the last replies."""

    def __init__(self, consultation: Consultation, now: datetime = IN_WINDOW) -> None:
        self.consultation = consultation
        self.state = ConversationState()
        self.now = now
        self.last: StepResult | None = None

    def send(self, event: Event) -> tuple[Reply, ...]:
        """Apply one event and keep the new state."""
        self.last = step(self.consultation, self.state, event, self.now)
        self.state = self.last.state
        return self.last.replies

    def says(self, text: str) -> tuple[Reply, ...]:
        return self.send(Text(text))

    def taps(self, button_id: str) -> tuple[Reply, ...]:
        return self.send(Press(button_id))

    def agree(self) -> tuple[Reply, ...]:
        self.send(Start())
        return self.taps("consent:yes")

    @property
    def text(self) -> str:
        """Everything the last step sent, as plain text."""
        assert self.last is not None
        return "\n".join(plain(r.text) for r in self.last.replies)

    @property
    def buttons(self) -> tuple[str, ...]:
        """Every button id the last step sent."""
        assert self.last is not None
        return tuple(b for r in self.last.replies for b in r.button_ids)
