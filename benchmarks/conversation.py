"""Conversation throughput, durability cost and reply latency: the consultation bot beside the echo bot."""

from __future__ import annotations

import asyncio
import collections
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.processes import BotUnderTest, own_cpu_seconds
from benchmarks.report import Row, Section, median, percentile, ratio
from benchmarks.server import BenchServer
from benchmarks.tenants import CONSULTATION, Tenant, TenantLost

FIRST_USER = 10_000_000
TMPFS = Path("/dev/shm")


@dataclass
class Throughput:
    """One closed-loop run: every tenant waits for each reply before doing the next thing."""

    label: str
    tenants: int
    replies: int = 0
    seconds: float = 0.0
    finished: int = 0
    lost: int = 0
    bot_cpu: float = 0.0
    driver_cpu: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)
    submitted_in_db: int | None = None
    cut: bool = False

    @property
    def rate(self) -> float:
        return ratio(self.replies, self.seconds)

    def describe(self) -> str:
        calls = ", ".join(f"{m} {n}" for m, n in sorted(self.requests.items(), key=lambda kv: -kv[1]))
        db = "" if self.submitted_in_db is None else f"; {self.submitted_in_db} submitted in the database"
        cut = " (cut at the time limit)" if self.cut else ""
        return (
            f"{self.label}: {self.replies} replies to {self.tenants} tenants in {self.seconds:.1f} s = "
            f"**{self.rate:.1f} replies/s**{cut}; {self.finished} finished, {self.lost} lost{db}; "
            f"bot CPU {100 * ratio(self.bot_cpu, self.seconds):.0f}% of a core "
            f"({1000 * ratio(self.bot_cpu, self.replies):.1f} ms a reply), server+tenants "
            f"{100 * ratio(self.driver_cpu, self.seconds):.0f}%; Bot API calls: {calls}"
        )


def _submitted(database: Path, url: str | None = None) -> int:
    """Conversations the bot stored as submitted: the run is only valid if every tenant's answers are there."""
    query = "SELECT count(*) FROM conversations WHERE stage = 'submitted'"
    if url is not None:  # PostgreSQL (DATABASE_URL=postgresql://...)
        import psycopg

        with psycopg.connect(url) as pg:
            row = pg.execute(query).fetchone()
            return int(row[0]) if row else 0
    with sqlite3.connect(database) as conn:
        return int(conn.execute(query).fetchone()[0])


def _with_url(env: dict[str, str] | None, database_url: str | None) -> dict[str, str] | None:
    """The bot's environment with DATABASE_URL replaced (a PostgreSQL server instead of the work folder's file)."""
    return env if database_url is None else {**(env or {}), "DATABASE_URL": database_url}


async def closed_loop(label: str, echo: bool, tenants: int, workdir: Path, limit: float,
                      database: Path | None = None, env: dict[str, str] | None = None,
                      database_url: str | None = None) -> Throughput:
    """`tenants` people each take the whole consultation as fast as the bot answers (on `database_url` if given)."""
    result = Throughput(label, tenants)
    workdir.mkdir(parents=True, exist_ok=True)
    async with BenchServer() as server:
        bot = BotUnderTest(server, workdir, echo=echo, database=database, env=_with_url(env, database_url))
        await bot.start()
        try:
            people = [Tenant(server, FIRST_USER + i, echo=echo) for i in range(tenants)]
            server.clear_requests()
            cpu0, bot0, started = own_cpu_seconds(), bot.cpu_seconds(), time.monotonic()
            tasks = [asyncio.create_task(p.run()) for p in people]
            done, pending = await asyncio.wait(tasks, timeout=limit)
            result.seconds = time.monotonic() - started
            result.cut = bool(pending)
            for task in pending:
                task.cancel()
            result.bot_cpu, result.driver_cpu = bot.cpu_seconds() - bot0, own_cpu_seconds() - cpu0
            result.replies = sum(p.position for p in people)
            result.finished = sum(p.done for p in people)
            result.lost = sum(1 for t in done if t.exception() is not None)
            result.requests = dict(collections.Counter(r.method for r in server.requests()))
        finally:
            await bot.stop_async()
    if not echo:
        result.submitted_in_db = await asyncio.to_thread(_submitted, bot.database, database_url)
    return result


@dataclass
class Latency:
    """Open loop: one tenant message every 1/rate seconds whatever the bot is doing; latency to the whole reply."""

    label: str
    rate: float
    last: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    sent: int = 0
    extra_tenants: int = 0
    lost: int = 0

    def describe(self) -> str:
        ms = [1000 * percentile(self.last, p) for p in (0.5, 0.95, 0.99)]
        first = 1000 * percentile(self.first, 0.5)
        return (
            f"{self.label}: {len(self.last)} replies timed at {self.rate:.0f} messages/s; "
            f"whole reply p50 {ms[0]:.1f} ms, "
            f"p95 {ms[1]:.1f} ms, p99 {ms[2]:.1f} ms (first message of the reply p50 {first:.1f} ms); "
            f"{self.extra_tenants} extra tenants were needed because everyone was still waiting; {self.lost} lost"
        )


async def open_loop(label: str, echo: bool, workdir: Path, rate: float, seconds: float, warmup: float,
                    pool: int = 40, database: Path | None = None, database_url: str | None = None) -> Latency:
    """Messages at a fixed rate from a round-robin pool of tenants, each mid-way through the consultation."""
    result = Latency(label, rate)
    workdir.mkdir(parents=True, exist_ok=True)
    async with BenchServer() as server:
        bot = BotUnderTest(server, workdir, echo=echo, database=database, env=_with_url(None, database_url))
        await bot.start()
        try:
            next_id = FIRST_USER
            idle: collections.deque[Tenant] = collections.deque()
            for _ in range(pool):
                idle.append(Tenant(server, next_id, echo=echo))
                next_id += 1
            running: set[asyncio.Task[None]] = set()
            started = time.monotonic()

            async def one(tenant: Tenant, timed: bool) -> None:
                nonlocal next_id
                try:
                    first, last = await tenant.next_step()
                except TenantLost:
                    result.lost += 1
                    return
                if timed:
                    result.first.append(first)
                    result.last.append(last)
                if tenant.done:
                    tenant = Tenant(server, next_id, echo=echo)
                    next_id += 1
                idle.append(tenant)

            total = int(rate * (warmup + seconds))
            for k in range(total):
                delay = started + k / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not idle:
                    result.extra_tenants += 1
                    idle.append(Tenant(server, next_id, echo=echo))
                    next_id += 1
                task = asyncio.create_task(one(idle.popleft(), timed=k >= rate * warmup))
                running.add(task)
                task.add_done_callback(running.discard)
                result.sent += 1
            if running:
                await asyncio.wait(running, timeout=60)
        finally:
            await bot.stop_async()
    return result


async def startup_times(workdir: Path, rounds: int) -> tuple[list[float], list[float], float]:
    """Exec to first getUpdates, alternating the two bots; the consultation bot's very first start is kept apart."""
    echo_times: list[float] = []
    bot_times: list[float] = []
    first_ever = 0.0
    async with BenchServer() as server:
        for round_ in range(rounds + 1):
            for echo in (True, False):
                bot = BotUnderTest(server, workdir, echo=echo)
                try:
                    seconds = await bot.start()
                finally:
                    await bot.stop_async()
                if round_ == 0:  # warms the OS file cache; the bot's includes creating the database
                    first_ever = first_ever if echo else seconds
                    continue
                (echo_times if echo else bot_times).append(seconds)
    return echo_times, bot_times, first_ever


def _workdir(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path


async def throughput(base: Path, tenants: int = 500, limit: float = 300.0) -> Section:
    """Conversation throughput: the consultation bot against the echo bot, 500 tenants each."""
    section = Section("Conversation throughput")
    echo = await closed_loop("echo bot", True, tenants, _workdir(base, "echo"), limit)
    section.note("- " + echo.describe())
    bot = await closed_loop("consultation-bot", False, tenants, _workdir(base, "bot"), limit)
    section.note("- " + bot.describe())
    figure = ratio(bot.rate, echo.rate)
    section.rows.append(Row(
        "conversation throughput", f"{figure:.2f}", "≥ 0.8", figure >= 0.8 and not (bot.cut or echo.cut),
        f"{tenants} tenants × {len(CONSULTATION)} steps, replies/s of consultation-bot ({bot.rate:.1f}) ÷ echo bot "
        f"({echo.rate:.1f}); each tenant waits for the whole reply."))
    # The yardstick is python-telegram-bot as it installs (httpx); the bot sends over aiohttp (bot/delivery/).
    # The same echo bot on the bot's transport shows how much of the figure is the transport and how much the rest.
    same = await closed_loop("echo bot on aiohttp", True, tenants, _workdir(base, "echo-aiohttp"), limit,
                             env={"ECHO_TRANSPORT": "aiohttp"})
    section.note("- " + same.describe())
    like = ratio(bot.rate, same.rate)
    section.rows.append(Row(
        "conversation throughput, same transport", f"{like:.2f}", "report", None,
        f"replies/s of consultation-bot ({bot.rate:.1f}) ÷ the echo bot on aiohttp too ({same.rate:.1f})."))
    if bot.submitted_in_db != bot.finished:
        section.note("- **warning**: not every finished tenant's conversation was stored as submitted.")
    return section


async def durability(base: Path, tenants: int = 60, rounds: int = 2, light: float = 20.0,
                     seconds: float = 10.0, limit: float = 180.0) -> Section:
    """The same conversation with the database on disk (WAL, synchronous=FULL) and on tmpfs, interleaved.

    At saturation the commit's fsync runs in aiosqlite's thread while the event loop serves other tenants, so
    throughput hides it; the reply latency at a light load shows what it adds to each reply.
    """
    section = Section("Durability cost")
    shm_dir = Path(tempfile.mkdtemp(prefix="bench-", dir=TMPFS)) if TMPFS.is_dir() else _workdir(base, "shm")
    runs: dict[str, list[Throughput]] = {"disk": [], "tmpfs": []}
    try:
        for round_ in range(rounds):
            for where in runs:
                database = shm_dir / f"{round_}.db" if where == "tmpfs" else None
                run = await closed_loop(f"database on {where}", False, tenants, _workdir(base, f"{where}-{round_}"),
                                        limit, database=database)
                runs[where].append(run)
                section.note("- " + run.describe())
        waits = {}
        for where in runs:
            database = shm_dir / "light.db" if where == "tmpfs" else None
            waits[where] = await open_loop(f"database on {where}, {light:.0f} messages/s", False,
                                           _workdir(base, f"light-{where}"), light, seconds, 1.0, database=database)
            section.note("- " + waits[where].describe())
    finally:
        shutil.rmtree(shm_dir, ignore_errors=True)
    disk, tmpfs = median([r.rate for r in runs["disk"]]), median([r.rate for r in runs["tmpfs"]])
    section.rows.append(Row(
        "durability cost, throughput", f"{ratio(disk, tmpfs):.2f}", "report", None,
        f"{tenants} tenants × {len(CONSULTATION)} steps, {rounds} rounds interleaved: median replies/s on disk with "
        f"synchronous=FULL ({disk:.1f}) ÷ on tmpfs ({tmpfs:.1f})."))
    on_disk, on_tmpfs = percentile(waits["disk"].last, 0.5), percentile(waits["tmpfs"].last, 0.5)
    section.rows.append(Row(
        "durability cost, latency", f"{ratio(on_disk, on_tmpfs):.2f}", "report", None,
        f"reply p50 at {light:.0f} messages/s: {1000 * on_disk:.1f} ms on disk ÷ {1000 * on_tmpfs:.1f} ms on tmpfs "
        f"({1000 * (on_disk - on_tmpfs):+.1f} ms a reply)."))
    return section


async def latency(base: Path, rate: float = 50.0, seconds: float = 15.0, warmup: float = 2.0,
                  light: float = 20.0) -> Section:
    """p50/p95 message-to-reply at the fixed offered load, and at a light one that no bot here saturates."""
    section = Section("Reply latency")
    runs: dict[tuple[bool, float], Latency] = {}
    for offered, length in ((rate, seconds), (light, seconds * 2 / 3)):
        for echo in (True, False):
            label = f"{'echo bot' if echo else 'consultation-bot'} at {offered:.0f}/s"
            run = await open_loop(label, echo, _workdir(base, label.replace(" ", "-").replace("/", "")), offered,
                                  length, warmup)
            runs[(echo, offered)] = run
            section.note("- " + run.describe())
    for offered in (rate, light):
        ours, yardstick = runs[(False, offered)].last, runs[(True, offered)].last
        p50 = ratio(percentile(ours, 0.5), percentile(yardstick, 0.5))
        p95 = ratio(percentile(ours, 0.95), percentile(yardstick, 0.95))
        target = offered == rate
        section.rows.append(Row(
            f"reply latency at {offered:.0f}/s, p50", f"{p50:.2f}", "report", None,
            f"{1000 * percentile(ours, 0.5):.1f} ms ÷ {1000 * percentile(yardstick, 0.5):.1f} ms"))
        section.rows.append(Row(
            f"reply latency at {offered:.0f}/s, p95", f"{p95:.2f}", "≤ 1.5" if target else "report",
            p95 <= 1.5 if target else None,
            f"{1000 * percentile(ours, 0.95):.1f} ms ÷ {1000 * percentile(yardstick, 0.95):.1f} ms, to the last "
            f"message of the reply" + (" (the target's load)" if target else " (a load below both bots' capacity)")))
    return section


async def startup(base: Path, rounds: int = 3) -> Section:
    """Exec to the first getUpdates: the consultation bot opens its database and sets its menus first."""
    section = Section("Start-up")
    echo, bot, first = await startup_times(_workdir(base, "startup"), rounds)
    median_echo, median_bot = median(echo), median(bot)
    section.note(f"- echo bot: {', '.join(f'{s:.2f}' for s in echo)} s (median {median_echo:.2f} s)")
    section.note(f"- consultation-bot run: {', '.join(f'{s:.2f}' for s in bot)} s (median {median_bot:.2f} s); "
                 f"its first start on a new database (migrations included) took {first:.2f} s")
    figure = ratio(median_bot, median_echo)
    section.rows.append(Row("start-up", f"{figure:.2f}", "≤ 2", figure <= 2,
                            f"median of {rounds} starts each, alternating, after one warm-up start of each."))
    return section
