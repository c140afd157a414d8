"""The command line a newcomer and a housing officer use: run, preview and check, as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None,
        ) -> subprocess.CompletedProcess[str]:
    """Run `consultation-bot ARGS` as a process, with no BOT_TOKEN unless given."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CONSULTATION_", "TELEGRAM_"))}
    base["PYTHONPATH"] = str(PROJECT)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
        env={**base, **(env or {})}, cwd=cwd or PROJECT / "tests", timeout=60,
    )


def test_run_without_a_token_says_how_to_set_one(tmp_path: Path) -> None:
    result = cli("run", cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "BOT_TOKEN" in lines[0] and "BotFather" in lines[0] and ".env" in lines[0]


def test_a_malformed_setting_stops_start_up_with_one_line_naming_it(tmp_path: Path) -> None:
    result = cli("run", env={"BOT_TOKEN": "123456:" + "A" * 35, "ADMIN_IDS": "@housing_officer"}, cwd=tmp_path)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "ADMIN_IDS" in result.stderr and "numeric" in result.stderr
    assert "A" * 35 not in result.stderr


def test_a_piped_preview_session_reaches_submitted(tmp_path: Path) -> None:
    # agree; Q1 words then Next; Q2 "yes", reason, Next; Q3 skip; Q4 button 3 (not sure) then skip; Q5 words, Next; send
    typed = "\n".join([
        "1", "More local builders please", "1",
        "yes", "It keeps jobs local", "1",
        "skip",
        "3", "skip",
        "No, thank you", "next",
        "send",
    ]) + "\n"
    result = cli("preview", "--at", "2020-11-10T12:00", stdin=typed, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Question 5 of 5" in result.stdout
    assert "Your answers" in result.stdout
    assert "The tenant reached 'submitted'." in result.stdout


def test_a_piped_preview_plays_every_kind_and_the_routing(tmp_path: Path) -> None:
    example = PROJECT / "conversations" / "consultations" / "examples" / "every-kind.toml"
    typed = "\n".join([
        "yes", "1",                 # agree; the info page's Next
        "2", "Mostly good", "1",    # overall: Fairly satisfied, a reason, Next
        "no",                       # no repair: the repairs scale is routed out
        "1", "2", "6", "skip",      # tick Repairs and Cleaning, Done, no reason
        "4 visits",                 # shown because Cleaning was ticked
        "2",                        # listens: Agree
        "2",                        # the info page shown to the satisfied: Next
        "3",                        # household (required, typed)
        "4",                        # age group: Prefer not to say
        "skip",                     # anything else
        "send",
    ]) + "\n"
    result = cli("preview", str(example), "--at", "2026-12-10T12:00", stdin=typed, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[2] ✔ Cleaning of shared areas" in out, "the ticks show on the options"
    assert "repairs service over the last 12 months" not in out, "routed out by 'no'"
    assert "✔ Repairs, ✔ Cleaning of shared areas" in out and "4 visits" in out and "3 people" in out
    assert "The tenant reached 'submitted'." in out


def test_preview_outside_the_window_shows_what_a_tenant_would_see(tmp_path: Path) -> None:
    result = cli("preview", "--at", "2020-12-25T10:00", stdin="", cwd=tmp_path)
    assert "closed on Monday 30 November 2020 at 5pm" in result.stdout


def test_check_summarises_the_bundled_consultation(tmp_path: Path) -> None:
    result = cli("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "5 questions" in result.stdout and "Reading ease" in result.stdout


def test_check_lists_every_problem_in_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "x"\ntimezone = "Nowhere/Land"\n', encoding="utf-8")
    result = cli("check", str(broken), cwd=tmp_path)
    assert result.returncode == 2
    assert "timezone: unknown time zone 'Nowhere/Land'" in result.stderr
    assert "questions: there are no questions" in result.stderr


def test_a_rehearsal_date_override_reopens_a_closed_consultation(tmp_path: Path) -> None:
    env = {"CONSULTATION_OPENS_AT": "2026-01-01T09:00", "CONSULTATION_CLOSES_AT": "2026-02-01T17:00"}
    result = cli("preview", "--at", "2026-01-10T12:00", stdin="", env=env, cwd=tmp_path)
    assert "Sunday 1 February 2026 at 5pm" in result.stdout


def test_the_tools_around_the_bot_start_without_loading_telegrams_library() -> None:
    """check, export, stats, backup and purge load only what they use: an export of 100,000 respondents peaked at
    61 MB instead of 38 MB when the command line imported python-telegram-bot and aiohttp on the way in."""
    probe = "import sys, bot.cli.main; print(sorted(m for m in ('telegram', 'aiohttp', 'httpx') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_running_bot_loads_the_analysis_libraries_only_when_themes_are_asked_for() -> None:
    """scikit-learn, numpy and openpyxl cost the bot about 22 MB of memory at start; only /themes and exports use
    them, so they load then."""
    probe = ("import sys, bot.app; "
             "print(sorted(m for m in ('sklearn', 'scipy', 'numpy', 'openpyxl') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
