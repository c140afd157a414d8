"""Start-up failures (a token Telegram rejects, Telegram unreachable, a database folder that cannot be written) end
in one line saying what to do and exit code 1: no traceback, no unclosed-session noise, and never the token or any
part of it longer than the bot's numeric id."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess
from tests.faults.conftest import LOG_RECORD
from tests.faults.figures import record
from tests.faults.test_storage_faults import NO_ROOT_OVERRIDE

pytestmark = [pytest.mark.faults, pytest.mark.e2e]
LEVELS = ("INFO", "DEBUG")
SUMMARIES = {
    "token_rejected": "start-up with a token Telegram rejects (one character wrong)",
    "telegram_unreachable": "start-up with Telegram unreachable (connection refused)",
    "database_unwritable": "start-up with a database folder that cannot be written",
}
outcomes: dict[str, dict[str, tuple[int, int, int]]] = {}  # case -> level -> (exit code, lines, token pieces shown)


def fragments(token: str) -> set[str]:
    """Every piece of the token one character longer than its numeric id: none may ever be shown."""
    size = len(token.split(":", 1)[0]) + 1
    return {token[i:i + size] for i in range(len(token) - size + 1)}


def one_character_wrong(token: str) -> str:
    """The token as someone might paste it with a typo in its last character."""
    return token[:-1] + ("a" if token[-1] != "a" else "b")


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_and_fail(api: BotApiServer, workdir: Path, prefix: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`consultation-bot run` as a service manager would start it; it must give up by itself."""
    bot = BotProcess(api, workdir, **env)
    return subprocess.run([*prefix, sys.executable, "-m", "bot.cli", "run"], cwd=workdir, env=bot.env,
                          capture_output=True, text=True, timeout=60)


def check(case: str, level: str, result: subprocess.CompletedProcess[str], tokens: list[str], advice: str) -> None:
    """One line on stderr with the advice, exit code 1, and no piece of any token anywhere in the output."""
    output = result.stdout + result.stderr
    # At DEBUG the log records asked for come too (a last one may even land after the line): the rest is judged.
    lines = [line for line in output.splitlines() if line.strip() and not LOG_RECORD.match(line)]
    shown = sorted({piece for token in tokens for piece in fragments(token) if piece in output})
    outcomes.setdefault(case, {})[level] = (result.returncode, len(lines), len(shown))
    seen = outcomes[case]
    record(f"startup_{case}", SUMMARIES[case], log_levels="/".join(seen),
           exit_codes="/".join(str(code) for code, _, _ in seen.values()),
           lines_of_output="/".join(str(count) for _, count, _ in seen.values()),
           token_pieces_shown=sum(pieces for _, _, pieces in seen.values()))
    assert result.returncode == 1, output
    assert len(lines) == 1, f"expected one line, got:\n{output}"
    assert lines[0].startswith("consultation-bot: "), output
    assert advice in lines[0], output
    if level != "DEBUG":
        assert len(output.strip().splitlines()) == 1, f"expected nothing but the line, got:\n{output}"
    assert "Traceback" not in output and "Unclosed" not in output
    assert not shown, f"pieces of the token were shown: {shown}"


@pytest.mark.parametrize("level", LEVELS)
def test_a_token_telegram_rejects_says_to_check_it_with_botfather(
    api: BotApiServer, tmp_path: Path, level: str
) -> None:
    typo = one_character_wrong(api.token)
    result = start_and_fail(api, tmp_path, [], BOT_TOKEN=typo, LOG_LEVEL=level)
    check("token_rejected", level, result, [api.token, typo], "Check the token with @BotFather")
    assert api.token.split(":")[0] in result.stderr, "the bot's id (not secret) tells which bot it was"


@pytest.mark.parametrize("level", LEVELS)
def test_telegram_unreachable_says_to_check_the_network(api: BotApiServer, tmp_path: Path, level: str) -> None:
    result = start_and_fail(api, tmp_path, [], TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed_port()}/bot",
                            LOG_LEVEL=level)
    check("telegram_unreachable", level, result, [api.token], "check the network, or TELEGRAM_API_BASE_URL")


@pytest.mark.parametrize("level", LEVELS)
def test_a_database_folder_that_cannot_be_written_says_so(api: BotApiServer, tmp_path: Path, level: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o555)  # root ignores this, so the bot runs without that override (setpriv), as a service would
    try:
        result = start_and_fail(api, tmp_path, NO_ROOT_OVERRIDE, DATABASE_URL=f"sqlite:///{folder}/consultation.db",
                                LOG_LEVEL=level)
    finally:
        folder.chmod(0o755)
    check("database_unwritable", level, result, [api.token], "DATABASE_URL")
    assert str(folder) in result.stderr, "the line names the folder"
    assert not api.requests(), "Telegram is not contacted before the database is known to work"
