"""The bundled consultation from /start to submitted, and tenants who take it at their own pace, side by side."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from tests.botapi import BotApiServer

# (action, what to type or the button's label, text in the bot's reply that shows the step is done)
WHOLE_CONSULTATION: tuple[tuple[str, str, str], ...] = (
    ("say", "/start", "Is it OK to go ahead?"),
    ("tap", "I agree", "Question 1 of 5"),
    ("say", "Repairs take too long and nobody rings back", "send more"),
    ("tap", "Next", "Question 2 of 5"),
    ("tap", "Agree", "Why do you think that?"),
    ("say", "It keeps jobs local", "send more"),
    ("tap", "Next", "Question 3 of 5"),
    ("say", "Kitchens should last longer", "send more"),
    ("tap", "Next", "Question 4 of 5"),
    ("tap", "Not sure", "Is there anything you would change"),
    ("tap", "Skip", "Question 5 of 5"),
    ("say", "Thank you for asking", "send more"),
    ("tap", "Next", "Your answers"),
    ("tap", "Send my answers", "Your answers have been sent"),
)


@dataclass
class Reader:
    """A tenant who reads each screen for `think` seconds (0: taps the moment it shows), then does the next thing.

    Not blocking: `tick()` is called in a loop with many others. `inputs` holds when each action was taken, on the
    same clock as the Bot API server's request log.
    """

    api: BotApiServer
    user_id: int
    think: tuple[float, float] = (0.0, 0.0)
    rng: random.Random = field(default_factory=random.Random)
    position: int = 0
    seen: int = 0
    next_at: float = 0.0
    waiting: bool = False
    inputs: list[float] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.position >= len(WHOLE_CONSULTATION) and not self.waiting

    def tick(self) -> None:
        """Notice the reply waited for; or, once read, take the next step."""
        now = time.monotonic()
        if self.waiting:
            messages = self.api.sent_messages(self.user_id)
            expect = WHOLE_CONSULTATION[self.position][2]
            if any(expect in (m.text or "") for m in messages[self.seen:]):
                self.seen, self.waiting, self.position = len(messages), False, self.position + 1
                self.next_at = now + self.rng.uniform(*self.think)
            return
        if self.position < len(WHOLE_CONSULTATION) and now >= self.next_at:
            self.act()

    def act(self) -> None:
        action, value, _ = WHOLE_CONSULTATION[self.position]
        if action == "say":
            self.inputs.append(time.monotonic())
            self.api.send_text(self.user_id, value)
        else:
            message_id, data = self.newest_button(value)
            self.inputs.append(time.monotonic())
            self.api.press_button(self.user_id, message_id, data)
        self.waiting = True

    def newest_button(self, label: str) -> tuple[int, str]:
        """The newest message with a button labelled like this (older ones keep theirs), and its data."""
        for message in reversed(self.api.sent_messages(self.user_id)):
            for button in message.buttons:
                if label.lower() in str(button.get("text", "")).lower():
                    return message.message_id, str(button["callback_data"])
        raise AssertionError(f"tenant {self.user_id}: no button like {label!r}")


def take_part(readers: list[Reader], timeout: float) -> float:
    """Everyone through the whole consultation (or the timeout); returns the seconds it took."""
    started = time.monotonic()
    while not all(r.done for r in readers):
        assert time.monotonic() - started < timeout, (
            f"{sum(not r.done for r in readers)} tenants had not finished after {timeout}s: "
            f"{[(r.user_id, r.position) for r in readers if not r.done][:5]}")
        for reader in readers:
            reader.tick()
        time.sleep(0.005)
    return time.monotonic() - started
