"""Where the bot's CPU goes, sampled with py-spy (GIL-holding samples only: Python work, not waits or SQLite).

`python -m benchmarks --only profile` (investigation, not part of a full run): the consultation bot under the
conversation load, the bot during a broadcast, and the export command, each summarised by cause.
"""

from __future__ import annotations

import asyncio
import collections
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.broadcast import _deliver
from benchmarks.export import FIRST_USER as EXPORT_USER
from benchmarks.fixtures import build, consultation
from benchmarks.processes import PROJECT, BotUnderTest
from benchmarks.report import Section
from benchmarks.server import BenchServer
from benchmarks.tenants import Tenant

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
RATE = 100  # samples a second

# First match wins, tested against the whole stack of a sample.
CONVERSATION = (
    ("getUpdates: checking each update is readable (TolerantBot._readable)", ("_readable",)),
    ("getUpdates: the call and python-telegram-bot's parsing", ("get_updates", "Updater._start_polling")),
    ("removing the previous buttons", ("remove_buttons", "edit_message_reply_markup")),
    ("answerCallbackQuery", ("answer_callback_query",)),
    ("sendMessage", ("send_html", "send_message")),
    ("engine step + storage (load, step, commit)", ("tenant_step", "aiosqlite")),
    ("rest of the update handling", ("process_update",)),
    ("event loop and the rest", ("",)),
)
BROADCAST = (
    ("sendMessage: HTTP client (aiohttp)", ("aiohttp",)),
    ("sendMessage: PTB request building and parsing", ("send_message",)),
    ("storage: claim/record chunks, progress tallies", ("recipients", "broadcasts", "aiosqlite", "Progress")),
    ("pacer and rate limiter", ("Pacer", "FairRateLimiter")),
    ("getUpdates", ("get_updates",)),
    ("event loop and the rest", ("",)),
)
EXPORT = (
    ("imports (openpyxl etc., even for --only csv)", ("_find_and_load",)),
    ("consultation totals (read_stats)", ("read_stats", "_questions", "_sources")),
    ("CSV lines: local times and joining", ("CsvLines", "local_text")),
    ("rows from SQLite", ("flat_responses", "stream (")),
    ("csv.writer and file writes", ("write_csv",)),
    ("handing chunks between aiosqlite's thread and the loop", ("aiosqlite",)),
    ("event loop and the rest", ("",)),
)


def summarise(raw: Path, categories: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, float]]:
    """Share of samples per category, from py-spy's raw (collapsed stack) output."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        total += int(number)
        for name, keys in categories:
            if any(key in stack for key in keys):
                counts[name] += int(number)
                break
    return [(name, 100 * counts[name] / total if total else 0.0) for name, _ in categories]


def _record(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([PY_SPY, "record", "--gil", "-r", str(RATE), "-f", "raw", "-o", str(out),
                             "-p", str(pid), "-d", str(max(1, round(seconds)))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _lines(title: str, shares: list[tuple[str, float]]) -> list[str]:
    return [f"- {title}:", *[f"  - {share:4.1f}% {name}" for name, share in shares if share >= 0.5]]


async def _conversation(base: Path, tenants: int, seconds: float) -> list[tuple[str, float]]:
    base.mkdir(parents=True, exist_ok=True)
    raw = base / "conversation.raw"
    async with BenchServer() as server:
        bot = BotUnderTest(server, base)
        await bot.start()
        try:
            people = [Tenant(server, 50_000_000 + i) for i in range(tenants)]
            spy = _record(bot.pid, raw, seconds)
            tasks = [asyncio.create_task(p.run()) for p in people]
            await asyncio.wait(tasks, timeout=seconds + 1)
            for task in tasks:
                task.cancel()
            await asyncio.to_thread(spy.wait)
        finally:
            await bot.stop_async()
    return summarise(raw, CONVERSATION)


async def _broadcast(base: Path, recipients: int, seconds: float) -> list[tuple[str, float]]:
    raw = base / "broadcast.raw"
    spies: list[subprocess.Popen[bytes]] = []
    original = BotUnderTest.start

    async def start_and_profile(self: BotUnderTest, timeout: float = 60) -> float:
        started = await original(self, timeout)
        spies.append(_record(self.pid, raw, seconds))
        return started

    BotUnderTest.start = start_and_profile  # type: ignore[method-assign]
    try:
        await _deliver(base / "broadcast", recipients, seconds + 2)
    finally:
        BotUnderTest.start = original  # type: ignore[method-assign]
    for spy in spies:
        await asyncio.to_thread(spy.wait)
    return summarise(raw, BROADCAST)


async def _export_phases(database: Path) -> list[str]:
    """Wall time of each part of `export --only csv`, in this process, on the same file (SQLite time included)."""
    from storage import Database
    from storage.export import rows
    from storage.export.csv_writer import write_csv
    from storage.stats import read_stats

    survey = consultation()
    importing = subprocess.run([sys.executable, "-c", "import time; t = time.perf_counter(); import openpyxl; "
                                "print(time.perf_counter() - t)"], capture_output=True, text=True, check=True)
    db = await Database.open(f"sqlite:///{database}")
    conn = await db.open_reader()
    try:
        started = time.monotonic()
        await read_stats(conn, survey, figures=False)
        stats_s = time.monotonic() - started
        started = time.monotonic()
        count = 0
        async for _response in rows.responses(conn, survey.id):
            count += 1
        rows_s = time.monotonic() - started
        started = time.monotonic()
        await write_csv(database.with_suffix(".csv"), conn, survey, False)
        csv_s = time.monotonic() - started
    finally:
        await conn.close()
        await db.close()
    return [f"- export phases, wall time: importing openpyxl {float(importing.stdout):.2f} s (not needed for csv); "
            f"read_stats (the head counts the command prints) {stats_s:.2f} s; reading {count:,} respondents with "
            f"their answers the general way (xlsx) {rows_s:.2f} s; reading and writing responses.csv {csv_s:.2f} s"]


async def _export(base: Path, respondents: int) -> tuple[list[tuple[str, float]], float, list[str]]:
    base.mkdir(parents=True, exist_ok=True)
    database, raw = base / "export.db", base / "export.raw"
    await build(database, respondents, EXPORT_USER)
    phases = await _export_phases(database)
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "DATABASE_URL": f"sqlite:///{database}"}
    started = time.monotonic()
    await asyncio.to_thread(subprocess.run, [PY_SPY, "record", "--gil", "-r", str(RATE), "-f", "raw", "-o", str(raw),
                                             "--", sys.executable, "-m", "bot.cli", "export", "--out",
                                             str(base / "out"), "--only", "csv"],
                            env=env, cwd=base, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return summarise(raw, EXPORT), time.monotonic() - started, phases


async def profile(base: Path, tenants: int = 200, seconds: float = 20.0, recipients: int = 5_000,
                  respondents: int = 100_000) -> Section:
    """Three profiles, summarised by cause."""
    section = Section("Profiles (py-spy, GIL-holding samples)")
    if not Path(PY_SPY).exists():
        section.note("- py-spy is not installed (`.venv/bin/pip install py-spy`); no profiles taken.")
        return section
    section.details += _lines(f"consultation-bot, {tenants} tenants taking the consultation, {seconds:.0f} s",
                              await _conversation(base / "conversation", tenants, seconds))
    section.details += _lines(f"consultation-bot broadcasting at BROADCAST_RATE=500, {seconds:.0f} s",
                              await _broadcast(base, recipients, seconds))
    shares, took, phases = await _export(base / "export", respondents)
    section.details += _lines(f"`consultation-bot export --only csv`, {respondents:,} respondents "
                              f"({took:.0f} s under py-spy)", shares)
    section.details += phases
    return section
