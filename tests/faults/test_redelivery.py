"""Re-delivery: every update delivered two or three times, out of order across tenants: each applied once.

In both modes: long polling (getUpdates hands the update over again) and a webhook worker (the server posts it
again after the 200; the worker's inbox refuses an update already applied, or still waiting, without a log line).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable

import pytest

from storage import Database, TranscriptLine
from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, eventually, settled
from tests.faults.conftest import CONSULTATION, answer_texts, assert_logs_clean, in_database, stored_texts
from tests.faults.figures import record
from tests.faults.people import Person, run_until_done

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.both_modes]
HANDLED = re.compile(r"\bupdate (\d+) (applied|was already applied|was already handled)")
ACKNOWLEDGEMENTS = ("I've got that", "I've added that")


def taken(api: BotApiServer) -> list[tuple[int, int | None]]:
    """Every webhook POST the worker took (answered 2xx): (update id, sender), in the order they started."""
    return [(d.update_id, d.user_id if isinstance(d.user_id, int) else None) for d in api.webhook_deliveries()
            if d.status is not None and 200 <= d.status < 300]


def deliveries(api: BotApiServer) -> Counter[int]:
    """How many times each update id was handed to the bot (every getUpdates answer in full, or every POST taken)."""
    counts: Counter[int] = Counter()
    if api.webhook() is not None:
        counts.update(update_id for update_id, _ in taken(api))
        return counts
    for poll in api.requests("getUpdates"):
        if poll.status == 200 and isinstance(poll.response, list):
            counts.update(update["update_id"] for update in poll.response)
    return counts


def sender(update: dict[str, object]) -> int | None:
    for kind in ("message", "callback_query"):
        body = update.get(kind)
        if isinstance(body, dict):
            return int(body["from"]["id"])
    return None


def updates_by_user(api: BotApiServer) -> dict[int, set[int]]:
    """The distinct update ids each user produced, as the bot received them."""
    found: dict[int, set[int]] = {}
    if api.webhook() is not None:
        for update_id, user in taken(api):
            if user is not None:
                found.setdefault(user, set()).add(update_id)
        return found
    for poll in api.requests("getUpdates"):
        for update in poll.response if poll.status == 200 and isinstance(poll.response, list) else []:
            user = sender(update)
            if user is not None:
                found.setdefault(user, set()).add(update["update_id"])
    return found


def handled_counts(log: str) -> tuple[Counter[int], int]:
    """Per update id, how many times the log says it was applied; and how many re-deliveries were ignored."""
    applied: Counter[int] = Counter()
    ignored = 0
    for match in HANDLED.finditer(log):
        if match.group(2) == "applied":
            applied[int(match.group(1))] += 1
        else:
            ignored += 1
    return applied, ignored


def test_every_update_delivered_two_or_three_times_out_of_order_is_applied_once(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], bot_mode: str
) -> None:
    rng = random.Random(3)
    bot = bot_factory().start()
    api.duplicate_next(100_000)  # every update comes again straight after the bot confirms it
    again: set[int] = set()

    def confirmed() -> list[int]:
        """Updates the bot has confirmed: below a getUpdates offset, or acknowledged with a 2xx."""
        if bot.webhook:
            return sorted({update_id for update_id, _ in taken(api)})
        polls = [p for p in api.requests("getUpdates") if p.params.get("offset") is not None]
        below = max((int(p.params["offset"]) for p in polls), default=0)
        return [u for users in updates_by_user(api).values() for u in users if u < below]

    def deliver_some_again() -> None:
        """A third delivery for about two in three confirmed updates, shuffled across tenants."""
        fresh = [u for u in confirmed() if u not in again]
        rng.shuffle(fresh)
        for update_id in fresh:
            again.add(update_id)
            if rng.random() < 2 / 3:
                api.deliver_again(update_id)

    presser = Tenant(api, 7400100)  # buttons too: a re-delivered press must not be answered twice
    presser.says("/start", expect="Is it OK")
    presser.taps("I agree", expect="Question 1 of 5")
    presser.says("presser words for question one", expect="send more")
    deliver_some_again()
    presser.taps("Next", expect="Question 2 of 5")
    presser.taps("Agree", expect="Why do you think")
    people = [Person(api, 7400000 + n, patience=15.0) for n in range(6)]
    ticks = {"n": 0}

    def now_and_then() -> None:
        ticks["n"] += 1
        if ticks["n"] % 5 == 0:
            deliver_some_again()

    elapsed = run_until_done(people, timeout=45, during=now_and_then)
    assert all(p.done for p in people), [(p.user_id, p.last_sent) for p in people if not p.done]
    settled(bot)
    deliver_some_again()  # the rest, in a shuffled burst
    settled(bot)  # taken; a webhook worker has also applied everything it stored
    delivered = deliveries(api)
    if not bot.webhook:  # every delivery the bot fetched is in its log, applied or ignored
        eventually(lambda: sum(handled_counts(bot.log())[0].values()) + handled_counts(bot.log())[1]
                   >= sum(delivered.values()), timeout=15, what="every delivery to be handled")

    applied, ignored = handled_counts(bot.log())
    if bot.webhook:  # most re-deliveries are refused by the inbox, which logs nothing: the rest were ignored
        ignored = sum(delivered.values()) - sum(applied.values())
    doubled = {u: n for u, n in applied.items() if n > 1}
    users = updates_by_user(api)
    tenants = [*(p.user_id for p in people), presser.user_id]

    async def transcripts(database: Database) -> dict[int, list[TranscriptLine]]:
        return {uid: await database.transcript(uid, CONSULTATION) for uid in tenants}

    lines = in_database(bot, transcripts)
    stored = stored_texts(bot, tenants)
    assert not bot.exited(), bot.log()
    record("redelivery", "every update delivered 2-3 times, out of order across tenants", mode=bot_mode,
           tenants=len(tenants), updates=len(delivered), deliveries=sum(delivered.values()),
           delivered_three_times=sum(1 for n in delivered.values() if n >= 3),
           redeliveries_ignored=ignored, duplicates_applied=sum(n - 1 for n in doubled.values()),
           seconds=round(elapsed, 1))

    assert min(delivered.values()) >= 2, "some update was delivered only once"
    assert sum(1 for n in delivered.values() if n >= 3) >= len(delivered) // 2, "too few third deliveries"
    assert not doubled, f"updates applied more than once: {doubled}"
    assert set(applied) == set(delivered), "some update was never applied"
    for uid in tenants:
        # Nothing is kept before consent: one in-line for every distinct update after the first /start.
        inbound = [line for line in lines[uid] if line.direction == "in"]
        assert len(inbound) == len(users[uid]) - 1, (uid, [line.text for line in inbound])
    for person in people:
        texts = answer_texts([person])
        assert all(stored[person.user_id].count(text) == 1 for text in texts), stored[person.user_id]
        chat = [m.text or "" for m in api.sent_messages(person.user_id)]
        acknowledgements = sum(1 for text in chat if any(a in text for a in ACKNOWLEDGEMENTS))
        assert acknowledgements == len(texts), f"duplicate or missing replies to text answers: {chat}"
        for number in range(1, 6):
            assert sum(f"Question {number} of 5" in text for text in chat) == 1, chat
    assert stored[presser.user_id].count("presser words for question one") == 1
    presses = Counter(a.callback_query_id for a in api.callback_answers())
    assert presses and max(presses.values()) == 1, "a re-delivered button press was answered twice"
    assert bot.stop() == 0
    assert_logs_clean(bot, [*answer_texts(people), "presser words for question one"])
