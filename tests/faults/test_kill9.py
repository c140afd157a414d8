"""Kill -9 under load: 50 tenants mid-consultation, the bot killed five times; nothing acknowledged is lost."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, current_answers, query, settled
from tests.faults.conftest import assert_logs_clean
from tests.faults.figures import record
from tests.faults.people import Person, run_until_done

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.both_modes]


def stored_texts(bot: BotProcess, user_ids: list[int]) -> dict[int, str]:
    """Every stored answer text per tenant, joined, to look acknowledged answers up in."""
    return {uid: "\n".join(a.text or "" for a in current_answers(bot, uid).values()) for uid in user_ids}


def integrity(bot: BotProcess) -> str:
    """"ok" when the database is whole after the kills.

    SQLite: PRAGMA integrity_check on the file. PostgreSQL has no such check to make (a killed client cannot
    damage its files); what a killed webhook worker could leave behind is in its inbox: updates it stored, and so
    acknowledged, but never applied. Its successor must apply them all, so the inbox ends up empty.
    """
    if bot.on_sqlite:
        with closing(sqlite3.connect(bot.database)) as check:
            return str(check.execute("PRAGMA integrity_check").fetchone()[0])
    settled(bot, timeout=30)
    left = query(bot, "SELECT count(*) FROM update_inbox")[0][0]
    return "ok" if left == 0 else f"{left} acknowledged updates never applied"


def test_every_acknowledged_answer_survives_five_kill_9s_under_load(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], bot_mode: str
) -> None:
    rng = random.Random(7)
    people = [Person(api, 6000000 + n) for n in range(50)]
    running = {"bot": bot_factory().start()}
    kills: list[float] = []
    # Replies are no longer held by pacing, so fifty tenants finish in about 8 s: kill every 0.5 to 2.5 s to get
    # all five kills in while they are mid-consultation.
    next_kill = [time.monotonic() + rng.uniform(0.5, 2.5)]

    def kill_at_random_points() -> None:
        if len(kills) < 5 and time.monotonic() >= next_kill[0]:
            running["bot"].kill()
            kills.append(time.monotonic())
            running["bot"] = bot_factory().start()
            next_kill[0] = time.monotonic() + rng.uniform(0.5, 2.5)

    elapsed = run_until_done(people, timeout=240, during=kill_at_random_points)
    bot = running["bot"]
    finished = sum(p.done for p in people)
    stored = stored_texts(bot, [p.user_id for p in people])
    acknowledged = sum(len(p.acknowledged) for p in people)
    lost = [(p.user_id, text) for p in people for text in p.acknowledged if text not in stored[p.user_id]]
    if bot.webhook:  # its inbox is read while it runs: what is still being posted to it is waited for
        whole = integrity(bot)
    assert bot.stop() == 0
    if not bot.webhook:  # the SQLite file is checked once the bot has closed it
        whole = integrity(bot)
    record("kill9_under_load", "kill -9 under load", mode=bot_mode, tenants=len(people), kills=len(kills),
           messages_sent=sum(p.sends for p in people), answers_acknowledged=acknowledged,
           answers_lost=len(lost), tenants_finished=finished, integrity_check=whole,
           seconds=round(elapsed, 1))
    assert len(kills) == 5
    assert lost == []
    stuck = {p.user_id: [m.text for m in api.sent_messages(p.user_id)[-2:]] for p in people if not p.done}
    assert finished == len(people), f"tenants who could not finish, with their last messages: {stuck}"
    assert whole == "ok"
    assert_logs_clean(bot, [text for p in people for text in p.acknowledged])
