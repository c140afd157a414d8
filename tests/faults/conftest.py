"""The fault suite runs the real bot process against the local Bot API server, like the end-to-end tests."""

from __future__ import annotations

from tests.e2e.conftest import api, bot, bot_factory, bot_mode, pytest_generate_tests, tenant

__all__ = ["api", "bot", "bot_factory", "bot_mode", "pytest_generate_tests", "tenant"]


# -- Shared checks for the fault tests: log hygiene (issue 7, item 7) and what the database holds. --------
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from storage import Database
from tests.e2e.harness import BotProcess, read_database
from tests.faults.people import PLAN, Person

CONSULTATION = "connexus-procurement-2020"
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
T = TypeVar("T")


def assert_logs_clean(bot: BotProcess, answer_texts: Iterable[str]) -> None:
    """The token never appears in the bot's log, and no record at INFO or above carries a tenant's words.

    Traceback lines belong to the record above them, so they are judged at that record's level.
    """
    log = bot.log()
    token = bot.api.token
    assert token not in log and token.split(":", 1)[1] not in log, "the bot token appears in the log"
    texts = sorted({text for text in answer_texts if text.strip()})
    level = "INFO"
    leaks: list[tuple[str, str]] = []
    for line in log.splitlines():
        match = LOG_RECORD.match(line)
        if match:
            level = match.group(1)
        if level != "DEBUG":
            leaks.extend((text, line) for text in texts if text in line)
    assert not leaks, f"a tenant's answer text is in the log at INFO or above: {leaks[:3]}"


def in_database(bot: BotProcess, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` against the bot's database on a connection of our own (the bot may still be running)."""
    return read_database(bot, work)


def stored_texts(bot: BotProcess, user_ids: Iterable[int], history: bool = False) -> dict[int, str]:
    """Every tenant's current answer texts (or, with history, every text ever stored) joined, to search in."""

    async def work(database: Database) -> dict[int, str]:
        found: dict[int, str] = {}
        for user_id in user_ids:
            read = database.answer_history if history else database.current_answers
            answers = await read(user_id, CONSULTATION)
            found[user_id] = "\n".join(a.answer.text or "" for a in answers)
        return found

    return in_database(bot, work)


def lost_answers(bot: BotProcess, people: Iterable[Person]) -> list[tuple[int, str]]:
    """Answers the bot acknowledged (its next message came) that were never stored.

    The answer history is searched, not just the current answers: a tenant who is shown a question again
    (after /start, say) and types replaces their earlier words, which is their own doing, not a loss.
    """
    people = list(people)
    stored = stored_texts(bot, [p.user_id for p in people], history=True)
    return [(p.user_id, text) for p in people for text in sorted(p.acknowledged) if text not in stored[p.user_id]]


def answer_texts(people: Iterable[Person]) -> set[str]:
    """The words the screen-reading tenants type that are theirs alone (they carry the tenant's id)."""
    return {reply.format(uid=p.user_id, last="") for p in people for _, reply in PLAN if "{uid}" in reply}


def drive(people: list[Person], timeout: float, during: Callable[[], object] | None = None) -> float:
    """Like people.run_until_done, for tenants already started: keep them going until all are done."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and not all(p.done for p in people):
        if during is not None:
            during()
        for person in people:
            person.act()
        time.sleep(0.05)
    return time.monotonic() - started
