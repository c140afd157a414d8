"""Tenants who read the screen and act like people: answer what is asked, and ask again if nothing comes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.botapi import BotApiServer

# What a person does on seeing each prompt (the newest bot message), in the bundled consultation.
# The answer texts carry the tenant's id so every acknowledged answer can be found in the database.
PLAN: tuple[tuple[str, str], ...] = (
    ("Is it OK to go ahead?", "yes"),
    ("Question 1 of 5", "q1 answer from {uid}"),
    ("Question 2 of 5", "agree"),
    ("Why do you think that?", "q2 reason from {uid}"),
    ("Question 3 of 5", "q3 answer from {uid}"),
    ("Question 4 of 5", "not sure"),
    ("Is there anything you would change", "skip"),
    ("Question 5 of 5", "q5 answer from {uid}"),
    ("send more to add", "next"),
    ("added that", "next"),
    ("Your answers", "send"),
    ("was not saved", "{last}"),
    ("couldn't save that", "{last}"),
)
DONE = ("Your answers have been sent", "You have already sent your answers")


@dataclass
class Person:
    """One tenant; `acknowledged` holds the answers the bot confirmed (its next message was sent).

    Like a person, they wait for the bot's whole reply to settle before reading it, answer the newest
    prompt, and only ask again after a long silence. An acknowledgement counts for an answer only when
    it was the one message sent since the last reply, so a late reply is never credited to a resend.
    """

    api: BotApiServer
    user_id: int
    patience: float = 8.0
    settle: float = 0.4
    last_sent: str = ""
    sent_at: float = 0.0
    seen: int = 0
    pending_count: int = 0
    changed_at: float = 0.0
    sends: int = 0
    sends_since_reply: int = 0
    acknowledged: set[str] = field(default_factory=set)
    done: bool = False

    def start(self) -> None:
        self._send("/start")

    def _send(self, text: str) -> None:
        self.api.send_text(self.user_id, text)
        self.last_sent, self.sent_at = text, time.monotonic()
        self.sends += 1
        self.sends_since_reply += 1

    def act(self) -> None:
        """Look at the chat; once a reply has settled, do the next thing; after a long silence, try again."""
        if self.done:
            return
        messages = self.api.sent_messages(self.user_id)
        now = time.monotonic()
        if len(messages) > self.seen:
            if len(messages) != self.pending_count:  # the reply is still arriving
                self.pending_count, self.changed_at = len(messages), now
                return
            if now - self.changed_at < self.settle:
                return
            new_texts = [m.text or "" for m in messages[self.seen:]]
            self.seen = len(messages)
            acked = any("got that" in t or "added that" in t for t in new_texts)
            if self.sends_since_reply == 1 and self.last_sent.startswith("q") and acked:
                self.acknowledged.add(self.last_sent)
            self.sends_since_reply = 0
            if any(done in t for t in new_texts for done in DONE):
                self.done = True
                return
            self._respond(new_texts[-1])
        elif now - self.sent_at > self.patience:
            latest = messages[-1].text or "" if messages else ""
            self._respond(latest) if latest else self.start()

    def _respond(self, screen: str) -> None:
        """Answer the newest prompt the way the plan says a person would."""
        for prompt, reply in PLAN:
            if prompt in screen:
                self._send(reply.format(uid=self.user_id, last=self.last_sent))
                return
        self._send("/start")  # lost? /start shows where we are


def run_until_done(people: list[Person], timeout: float, during: object = None) -> float:
    """Drive everyone until all have sent their answers (or the timeout); returns the time taken."""
    started = time.monotonic()
    for person in people:
        person.start()
    while time.monotonic() - started < timeout:
        if callable(during):
            during()
        for person in people:
            person.act()
        if all(p.done for p in people):
            break
        time.sleep(0.05)
    return time.monotonic() - started
