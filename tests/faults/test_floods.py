"""Floods: one tenant sending 200 messages at once is handled in order, without starving everyone else."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from storage import Database
from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, eventually
from tests.faults.conftest import CONSULTATION, assert_logs_clean, in_database
from tests.faults.figures import record

pytestmark = [pytest.mark.faults, pytest.mark.e2e]
FLOOD = [f"m{n:03d}" for n in range(1, 201)]
# The others answer at a person's pace, so their replies go at once; the flooder's are paced by Telegram's per-chat
# limit (the default 1/s after a burst of 5) and merged.
THINK_SECONDS = 2.5
ROUNDS = 4


@dataclass
class Talker:
    """A tenant at a free-text question who keeps adding a line, waiting for each reply before the next."""

    api: BotApiServer
    user_id: int
    next_at: float
    seen: int = 0
    waiting_since: float | None = None
    rounds: dict[str, int] = field(default_factory=dict)
    sent: list[tuple[str, float, str]] = field(default_factory=list)  # (phase, when, text)

    def tick(self, phase: str, send: bool = True) -> None:
        """Notice the reply being waited for; or, when it is time (and `send`), add the next line."""
        now = time.monotonic()
        if self.waiting_since is not None:
            if len(self.api.sent_messages(self.user_id)) > self.seen:
                self.waiting_since, self.next_at = None, now + THINK_SECONDS
            return
        if send and now >= self.next_at:
            self.seen = len(self.api.sent_messages(self.user_id))
            text = f"{phase} line {self.rounds.get(phase, 0) + 1} from {self.user_id}"
            self.api.send_text(self.user_id, text)
            self.waiting_since = now
            self.sent.append((phase, now, text))
            self.rounds[phase] = self.rounds.get(phase, 0) + 1


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def reply_times(api: BotApiServer, talkers: list[Talker], phase: str) -> list[float]:
    """From each message to the arrival of the bot's reply at the server (its own request log, not polling)."""
    sends = [r for r in api.requests("sendMessage") if r.status == 200]
    times = []
    for talker in talkers:
        for sent_phase, at, _ in talker.sent:
            if sent_phase == phase:
                reply = next(r for r in sends if r.params.get("chat_id") == talker.user_id and r.time >= at)
                times.append(reply.time - at)
    return times


def to_question_one(api: BotApiServer, tenants: list[Tenant]) -> None:
    """Everyone agrees to the privacy notice and reaches the first (free-text) question, side by side."""
    for tenant in tenants:
        api.send_text(tenant.user_id, "/start")
    eventually(lambda: all("Is it OK" in t.text_since(0) for t in tenants), timeout=20, what="the welcomes")
    for tenant in tenants:
        message, data = tenant.find_button("I agree")
        api.press_button(tenant.user_id, message.message_id, data)
    eventually(lambda: all("Question 1 of 5" in t.text_since(0) for t in tenants), timeout=20, what="question 1")


def test_a_tenant_flooding_200_messages_is_handled_in_order_without_starving_the_others(
    api: BotApiServer, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = bot_factory().start()
    others = [Tenant(api, 7500000 + n) for n in range(10)]
    flooder = Tenant(api, 7500100)
    to_question_one(api, [*others, flooder])
    for tenant in others:
        api.send_text(tenant.user_id, f"first words from {tenant.user_id}")
    eventually(lambda: all("send more" in t.last_text() for t in others), timeout=20, what="first answers")
    time.sleep(3)  # let the per-chat budgets refill, so the unloaded figure is not the set-up's queue
    start = time.monotonic()
    talkers = [Talker(api, t.user_id, next_at=start + THINK_SECONDS * n / len(others)) for n, t in enumerate(others)]

    while not all(t.rounds.get("unloaded", 0) >= ROUNDS and t.waiting_since is None for t in talkers):
        assert time.monotonic() - start < 40, "the unloaded rounds took far too long"
        for talker in talkers:
            talker.tick("unloaded")
        time.sleep(0.01)

    async def flood_stored(database: Database) -> str:
        answers = {a.question_id: a.answer for a in await database.current_answers(flooder.user_id, CONSULTATION)}
        answer = answers.get("q1_general")
        return answer.text or "" if answer else ""

    flood_started = time.monotonic()
    for text in FLOOD:
        api.send_text(flooder.user_id, text)
    # The flood lasts until all 200 are stored and the flooder's replies (1/s, merged) have stopped going out.
    flood_stored_at: float | None = None
    flooder_last_reply = checked = flood_started
    while flood_stored_at is None or time.monotonic() - flooder_last_reply < 2.5 or any(
        t.waiting_since is not None for t in talkers
    ):
        assert time.monotonic() - flood_started < 45, "the flood was not worked through in time"
        flooding = flood_stored_at is None or time.monotonic() - flooder_last_reply < 2.5
        for talker in talkers:
            talker.tick("loaded", send=flooding)  # once it is over, only collect the replies still owed
        if time.monotonic() - checked > 0.5:
            checked = time.monotonic()
            assert not bot.exited(), bot.log()
            to_flooder = [r.time for r in api.requests() if r.params.get("chat_id") == flooder.user_id]
            flooder_last_reply = max(to_flooder, default=flood_started)
            if flood_stored_at is None and in_database(bot, flood_stored).count("\n") == len(FLOOD) - 1:
                flood_stored_at = time.monotonic()
        time.sleep(0.01)

    assert flood_stored_at is not None
    unloaded, loaded = reply_times(api, talkers, "unloaded"), reply_times(api, talkers, "loaded")
    bound = max(3 * p95(unloaded), p95(unloaded) + 1.5)
    stored_lines = in_database(bot, flood_stored).split("\n")
    flooder_replies = len(flooder.messages())
    assert not bot.exited(), bot.log()
    record("flood", "one tenant sends 200 messages at once while 10 others keep answering",
           tenants=len(others) + 1, flood_messages=len(FLOOD),
           flood_applied_in_order=stored_lines == FLOOD, flood_stored_in_s=round(flood_stored_at - flood_started, 1),
           flood_replied_in_s=round(flooder_last_reply - flood_started, 1),
           flooder_replies=flooder_replies, unloaded_p95_s=round(p95(unloaded), 3),
           loaded_p95_s=round(p95(loaded), 3), bound_s=round(bound, 3),
           samples=f"{len(unloaded)}+{len(loaded)}", crashes=int(bot.exited()))
    assert stored_lines == FLOOD, "the flood was not applied exactly once each, in order"
    assert "added that" in flooder.last_text(), "the flooder's last acknowledgement never came"
    assert flooder_replies < 40, f"{flooder_replies} messages for 200 sent at once: the flood's replies were not merged"
    assert len(loaded) >= 2 * len(talkers), "too few replies measured while the flood was being handled"
    assert p95(loaded) <= bound, f"others starved: p95 {p95(loaded):.3f}s loaded vs {p95(unloaded):.3f}s unloaded"
    assert bot.stop() == 0
    assert_logs_clean(bot, [*FLOOD, *(text for t in talkers for _, _, text in t.sent)])
