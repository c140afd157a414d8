"""Plays the conversation in a terminal with the same engine, so staff can proof-read before launch."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from conversations.events import Event, Help, Press, Privacy, Review, Start, Text
from conversations.flow.engine import step
from conversations.model import Consultation
from conversations.replies import Reply
from conversations.screens.markup import plain
from conversations.state import ConversationState, Stage

COMMANDS: dict[str, Callable[[], Event]] = {
    "/start": Start,
    "/help": Help,
    "/review": Review,
    "/privacy": Privacy,
}


def show(reply: Reply, out: TextIO) -> list[str]:
    """Print one message with its buttons numbered; return the button ids in that order."""
    out.write("\n" + plain(reply.text) + "\n")
    numbered = [button for row in reply.buttons for button in row]
    for number, button in enumerate(numbered, start=1):
        out.write(f"   [{number}] {plain(button.label)}\n")
    return [b.id for b in numbered]


def to_event(line: str, buttons: list[str]) -> Event:
    """A typed line: a number presses that button, /commands work, anything else is text."""
    said = line.strip()
    if said.isdecimal() and 1 <= int(said) <= len(buttons):
        return Press(buttons[int(said) - 1])
    command = said.split(maxsplit=1)[0].lower() if said.startswith("/") else ""
    if command in COMMANDS:
        return COMMANDS[command]()
    return Text(line.rstrip("\n"))


def run_preview(
    consultation: Consultation, at: datetime | None, source: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> ConversationState:
    """Start as a new tenant and read lines until the input ends; returns where the tenant got to."""
    clock = at or datetime.now(consultation.timezone)
    out.write(f"Previewing '{consultation.title}' as at {clock.isoformat()}.\n")
    out.write("Type an answer, a button's number, or /help /review /privacy. Ctrl-D ends.\n")
    state = ConversationState()
    result = step(consultation, state, Start(), clock)
    while True:
        state = result.state
        buttons: list[str] = []
        for reply in result.replies:
            buttons = show(reply, out) or buttons
        out.write("> ")
        out.flush()
        line = source.readline()
        if not line:
            break
        result = step(consultation, state, to_event(line, buttons), clock)
    out.write(f"\nPreview ended at: {state.stage.value}.\n")
    if state.stage is Stage.SUBMITTED:
        out.write("The tenant reached 'submitted'.\n")
    return state
