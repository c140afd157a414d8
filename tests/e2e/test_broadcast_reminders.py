"""Reminders from the consultation file, end to end: scheduled at start-up, sent once, survive restarts."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conversations.file.loader import default_consultation_path
from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant, eventually
from tests.staff.e2e_support import deliveries, populated

pytestmark = pytest.mark.e2e
TEXT = "Nearly closing! Tap below to finish your answers."


def daytime_zone() -> str:
    """A fixed-offset zone where it is about noon now, so quiet hours (21:00-08:00) never get in the way."""
    offset = 12 - datetime.now(UTC).hour  # Etc/GMT-5 is five hours *ahead* of UTC
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def consultation_with_one_reminder(folder: Path) -> Path:
    """The bundled consultation, in a daytime zone, with a single reminder a minute before the close."""
    text = default_consultation_path().read_text(encoding="utf-8")
    head = text.split("[[reminders]]")[0].replace('timezone = "Europe/London"', f'timezone = "{daytime_zone()}"')
    file = folder / "one-reminder.toml"
    file.write_text(head + f'[[reminders]]\nid = "last_minute"\nbefore_close = "1m"\n'
                    f'audience = "started_not_finished"\ntext = "{TEXT}"\n', encoding="utf-8")
    return file


def test_a_reminder_is_rebuilt_after_a_kill_sent_once_and_not_again_after_a_restart(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], tmp_path: Path
) -> None:
    closes = datetime.now(UTC) + timedelta(minutes=1, seconds=8)
    env = {"CONSULTATION_FILE": str(consultation_with_one_reminder(tmp_path)),
           "CONSULTATION_CLOSES_AT": closes.isoformat()}
    first = bot_factory(**env)
    population = populated(first, api, {"part_way": 20, "agreed_not_started": 5, "finished": 10},
                           opted_out_every=7)
    expected = population.expected("started_not_finished")
    first.start()
    first.wait_for_log("reminder last_minute: due")
    first.kill()  # the job queue forgets everything: the next start-up must rebuild the schedule

    second = bot_factory(**env).start()
    eventually(lambda: set(deliveries(api, set(population.everyone), TEXT)) == expected, 20, "the reminder to arrive")
    tenant = Tenant(api, sorted(population.reachable("part_way"))[0])
    assert TEXT in tenant.last_text()
    tenant.taps("Carry on where I stopped", expect="Question 2 of 5")  # the exact question they were on
    assert second.stop() == 0

    third = bot_factory(**env).start()
    third.wait_for_log("reminder last_minute: due")
    time.sleep(1.5)
    delivered = deliveries(api, set(population.everyone), TEXT)
    assert set(delivered) == expected and max(delivered.values()) == 1
    assert "already sent" in third.log()
    assert third.stop() == 0
