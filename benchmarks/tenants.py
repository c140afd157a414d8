"""Simulated tenants: each sends the next thing and awaits the bot's reply in its own inbox (no polling)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from benchmarks.server import BenchServer, Delivery
from tests.e2e.journey import WHOLE_CONSULTATION

# The bundled consultation from /start to submitted, tapping buttons as a person would (the e2e tests' script).
CONSULTATION = WHOLE_CONSULTATION
# Part-way through, for the memory benchmark: /start, agreed, one answer given.
PART_WAY = CONSULTATION[:3]
STEP_TIMEOUT = 60.0


class TenantLost(Exception):
    """The bot did not answer a tenant in time, or showed something the script does not expect."""


@dataclass
class Tenant:
    """One person in a private chat; `echo` means the bot under test is the echo bot (every reply is a message)."""

    server: BenchServer
    user_id: int
    echo: bool = False
    script: tuple[tuple[str, str, str], ...] = CONSULTATION
    position: int = 0
    last_message_id: int | None = None
    keyboard_message_id: int = 0
    buttons: dict[str, str] = field(default_factory=dict)  # label -> callback data on the newest keyboard

    def __post_init__(self) -> None:
        self.inbox = self.server.inbox(self.user_id)

    @property
    def done(self) -> bool:
        """The whole script has been answered."""
        return self.position >= len(self.script)

    async def next_step(self) -> tuple[float, float]:
        """Do the next thing in the script and await the whole reply; returns (first, last) reply latency."""
        action, value, expect = self.script[self.position]
        sent = time.monotonic()
        if action == "say":
            self.server.send_text(self.user_id, value)
        else:
            self.server.press_button(self.user_id, self._message_for_tap(), self._data_for(value))
        first = 0.0
        while True:
            try:
                delivery = await asyncio.wait_for(self.inbox.get(), STEP_TIMEOUT)
            except TimeoutError:
                raise TenantLost(f"tenant {self.user_id}: no reply to {value!r} within {STEP_TIMEOUT}s") from None
            if delivery.kind != "message":
                continue
            first = first or delivery.at
            self._read(delivery)
            if self.echo or expect in delivery.text:
                break
        self.position += 1
        return first - sent, delivery.at - sent

    def _read(self, delivery: Delivery) -> None:
        """Remember the newest message, and its buttons if it has any (a person taps the newest keyboard)."""
        self.last_message_id = int(delivery.message["message_id"])
        if delivery.buttons:
            self.buttons = {str(b["text"]): str(b["callback_data"]) for b in delivery.buttons}
            self.keyboard_message_id = self.last_message_id

    def _message_for_tap(self) -> int:
        """The message whose button is pressed: the newest keyboard (any message, for the echo bot)."""
        if self.echo:
            if self.last_message_id is None:
                raise TenantLost(f"tenant {self.user_id}: nothing to tap yet")
            return self.last_message_id
        return self.keyboard_message_id

    def _data_for(self, label: str) -> str:
        """The echo bot has no buttons: the press carries the label; the real bot's come from its keyboard."""
        if self.echo:
            return label[:64]
        for text, data in self.buttons.items():
            if label in text:
                return data
        raise TenantLost(f"tenant {self.user_id}: no button like {label!r} among {list(self.buttons)}")

    async def run(self, steps: int | None = None) -> int:
        """Take the script (or its first `steps` steps) as fast as the bot answers; returns replies received."""
        end = len(self.script) if steps is None else min(steps, len(self.script))
        count = 0
        while self.position < end:
            await self.next_step()
            count += 1
        return count
