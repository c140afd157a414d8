"""One table of ratios, and RESULTS.md: the table, the machine it was measured on, and what each run saw."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
INVESTIGATION = Path(__file__).resolve().parent / "INVESTIGATION.md"  # --only profile / whatif
QUICK_RESULTS = Path(__file__).resolve().parent / "QUICK.md"  # --quick
POSTGRES_RESULTS = Path(__file__).resolve().parent / "POSTGRES.md"  # --only postgres: RESULTS.md is the full run's
ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
RAW = Path(__file__).resolve().parent / "results.json"  # what RESULTS.md was made from, for --report


@dataclass
class Row:
    """One line of the table: a ratio (or a count), its target, and whether it was met."""

    measure: str
    figure: str
    target: str
    met: bool | None  # None: no target, reported only
    how: str = ""

    @property
    def verdict(self) -> str:
        return "report" if self.met is None else ("met" if self.met else "MISSED")


@dataclass
class Section:
    """What one benchmark found: its rows, and the raw numbers behind them (markdown)."""

    name: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def note(self, line: str) -> None:
        self.details.append(line)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def median(values: list[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; enough for a latency table."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on; the ratios hold only for a machine like it."""
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=False).stdout.strip()
    return [
        ("uname -a", uname),
        ("CPU", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("memory", _memory()),
        ("Python", sys.version.split()[0]),
        ("python-telegram-bot", _package("python-telegram-bot")),
        ("httpx / httpcore / aiosqlite", f"{_package('httpx')} / {_package('httpcore')} / {_package('aiosqlite')}"),
        ("SQLite (library)", sqlite3.sqlite_version),
        ("psycopg / psycopg-pool", f"{_package('psycopg')} / {_package('psycopg-pool')}"),
        ("sniffio", _package("sniffio")),
    ]


def default_settings() -> str:
    """The limits every run uses: the bot's own defaults (benchmarks/processes.py sets none of them)."""
    from bot.settings import Settings

    defaults = Settings(bot_token="")
    return (f"TELEGRAM_SEND_RATE={defaults.send_rate:g}, TELEGRAM_CHAT_SEND_RATE={defaults.chat_send_rate:g}, "
            f"BROADCAST_RATE={defaults.broadcast_rate:g}, LOG_LEVEL={defaults.log_level}")


def table(rows: list[Row]) -> str:
    """The markdown table printed to the terminal and written to RESULTS.md."""
    lines = ["| measure | figure | target | verdict |", "|---|---|---|---|"]
    lines += [f"| {r.measure} | {r.figure} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def header(started: float, load_before: str, argv: list[str]) -> dict[str, str]:
    """The facts about this run that go above the table."""
    return {
        "command": " ".join(["python -m benchmarks", *argv]),
        "when": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "minutes": f"{(time.monotonic() - started) / 60:.1f}",
        "load": f"{load_before} / {load_average()}",
        **{f"machine:{key}": value for key, value in machine()},
    }


def write_results(sections: list[Section], facts: dict[str, str], path: Path = RESULTS) -> str:
    """RESULTS.md from scratch; analysis.md (the profiles' reading, written by hand) is appended as it is."""
    rows = [row for section in sections for row in section.rows]
    out = [
        "# Benchmark results",
        "",
        f"Generated by `{facts['command']}` on {facts['when']} in {facts['minutes']} minutes, against the local Bot "
        "API server (tests/botapi, real HTTP on 127.0.0.1). A ratio compares two runs made in this same invocation; "
        "times in ms are the absolute targets issue 12 sets. Every run uses the settings a user gets: "
        f"{default_settings()}.",
        "",
        table(rows),
        "",
        "## Machine",
        "",
        *[f"- **{key.split(':', 1)[1]}**: {value}" for key, value in facts.items() if key.startswith("machine:")],
        f"- **load average** before / after: {facts['load']} (other work on the machine shows here)",
        "",
    ]
    for section in sections:
        out += [f"## {section.name} ({section.seconds:.0f} s)", ""]
        out += [f"- {r.measure}: **{r.figure}** (target {r.target}, {r.verdict}). {r.how}".rstrip()
                for r in section.rows]
        out += ["", *section.details, ""]
    if ANALYSIS.exists() and path == RESULTS:
        out += [ANALYSIS.read_text().rstrip(), ""]
    text = "\n".join(out)
    path.write_text(text)
    return text


def save_raw(sections: list[Section], header: dict[str, str], path: Path = RAW) -> None:
    """Keep the measured sections, so RESULTS.md can be rewritten (e.g. after editing analysis.md) without rerunning."""
    path.write_text(json.dumps({"header": header, "sections": [asdict(s) for s in sections]}, indent=1,
                               ensure_ascii=False))


def load_raw(path: Path = RAW) -> tuple[list[Section], dict[str, str]]:
    data = json.loads(path.read_text())
    sections = [Section(s["name"], [Row(**r) for r in s["rows"]], s["details"], s["seconds"]) for s in data["sections"]]
    return sections, data["header"]
