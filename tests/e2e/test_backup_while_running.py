"""`consultation-bot backup` copies the live database while the bot is answering tenants."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant

pytestmark = pytest.mark.e2e


def test_a_backup_taken_while_the_bot_runs_is_consistent_and_holds_the_answers(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("An answer worth keeping", expect="send more")
    copy = bot.workdir / "copy.db"
    others = [Tenant(api, 5550300 + i) for i in range(5)]
    for other in others:  # keep the bot writing while the copy is taken
        api.send_text(other.user_id, "/start")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "backup", str(copy)], env=bot.env, cwd=bot.workdir,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "integrity check: ok" in result.stdout
    with closing(sqlite3.connect(copy)) as db:
        texts = [row[0] for row in db.execute("SELECT text FROM answers")]
    assert "An answer worth keeping" in texts
    again = subprocess.run([sys.executable, "-m", "bot.cli", "backup", str(copy)], env=bot.env, cwd=bot.workdir,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "already exists" in again.stderr
