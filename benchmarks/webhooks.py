"""Two webhook workers against one on one PostgreSQL: `consultation-bot run --webhook`, as deploy/ runs it.

The local Bot API server (tests/botapi) posts each update as Telegram does (one in flight per tenant and kind,
up to setWebhook's max_connections, 40 by default, at once); with several workers it posts each to one of them
at random, as the proxy in front of them would (webhook_targets), so every tenant's updates reach both workers.
Each worker stores an update, acknowledges it, and whichever worker takes the tenant's lock applies it.
"""

from __future__ import annotations

import asyncio
import collections
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from benchmarks.conversation import FIRST_USER, Throughput, _submitted
from benchmarks.processes import BotUnderTest, own_cpu_seconds
from benchmarks.report import Row, Section, median, ratio
from benchmarks.server import BenchServer
from benchmarks.tenants import CONSULTATION, Tenant
from tests.postgres_server import PostgresServer, free_port

SECRET = "bench_webhook_secret_0123456789"
PATH = "/telegram"
TELEGRAM_MAX_CONNECTIONS = 40  # setWebhook's default, which the bot keeps


def missing() -> str | None:
    """Why webhook mode cannot be measured here, or None when `run --webhook` and the emulator's delivery exist."""
    if importlib.util.find_spec("bot.webhook.run") is None:
        return "webhook mode not yet on main (no bot/webhook/run.py)"
    if not hasattr(BenchServer, "_init_webhooks"):
        return "the local Bot API server cannot post webhooks yet (tests/botapi/webhooks.py)"
    return None


class WebhookWorker(BotUnderTest):
    """`consultation-bot run --webhook` on its own port; ready once it answers /healthz and has set the webhook."""

    def __init__(self, server: BenchServer, workdir: Path, database_url: str, name: str) -> None:
        self.port = free_port()
        super().__init__(server, workdir, env={
            "DATABASE_URL": database_url,
            "WEBHOOK_URL": f"http://127.0.0.1:{self.port}{PATH}",
            "WEBHOOK_PORT": str(self.port),
            "WEBHOOK_SECRET": SECRET,
            "WORKER_NAME": name,
        })

    @property
    def target(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "bot.cli", "run", "--webhook"]

    async def start(self, timeout: float = 60) -> float:
        """Start it; returns the seconds from exec to ready (its setWebhook seen and /healthz answering 200)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        before = self._set_webhooks()
        with self.log_path.open("ab") as log:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(self.command, cwd=self.workdir, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = self.started_at + timeout
        async with aiohttp.ClientSession(trust_env=False) as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} --webhook exited ({self.process.returncode}):\n{self.log()}")
                if self._set_webhooks() > before and await self._healthy(session):
                    return time.monotonic() - self.started_at
                await asyncio.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} --webhook was not ready within {timeout}s:\n{self.log()}")

    def _set_webhooks(self) -> int:
        return sum(1 for r in self.server.requests() if r.method == "setWebhook")

    async def _healthy(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"{self.target}/healthz", timeout=aiohttp.ClientTimeout(total=2)) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


async def webhook_loop(label: str, tenants: int, workdir: Path, limit: float, database_url: str,
                       workers: int) -> Throughput:
    """The closed loop of benchmarks/conversation.py, the updates posted to `workers` webhook workers."""
    result = Throughput(label, tenants)
    async with BenchServer() as server:
        server.webhook_concurrency = TELEGRAM_MAX_CONNECTIONS
        bots = [WebhookWorker(server, workdir / f"worker-{i + 1}", database_url, f"w{i + 1}") for i in range(workers)]
        try:
            for bot in bots:  # one after the other: the first migrates the new database
                await bot.start()
            server.webhook_targets = [bot.target for bot in bots]
            people = [Tenant(server, FIRST_USER + i) for i in range(tenants)]
            server.clear_requests()
            cpu0, bot0, started = own_cpu_seconds(), sum(b.cpu_seconds() for b in bots), time.monotonic()
            tasks = [asyncio.create_task(p.run()) for p in people]
            done, pending = await asyncio.wait(tasks, timeout=limit)
            result.seconds = time.monotonic() - started
            result.cut = bool(pending)
            for task in pending:
                task.cancel()
            result.bot_cpu = sum(b.cpu_seconds() for b in bots) - bot0
            result.driver_cpu = own_cpu_seconds() - cpu0
            result.replies = sum(p.position for p in people)
            result.finished = sum(p.done for p in people)
            result.lost = sum(1 for t in done if t.exception() is not None)
            result.requests = dict(collections.Counter(r.method for r in server.requests()))
            posts = collections.Counter(a.url for a in server.webhook_deliveries())
            result.requests.update({f"POST to worker {i + 1}": posts[b.target + PATH] for i, b in enumerate(bots)})
        finally:
            await asyncio.gather(*(bot.stop_async() for bot in bots))
    result.submitted_in_db = await asyncio.to_thread(_submitted, Path(), database_url)
    return result


async def two_against_one(section: Section, server: PostgresServer, base: Path, tenants: int, limit: float,
                          rounds: int = 2) -> None:
    """Throughput of two webhook workers sharing one PostgreSQL ÷ one webhook worker on it, A B B A."""
    reason = missing()
    if reason is not None:
        section.note(f"- two workers against one: not measured: {reason}")
        section.rows.append(Row("two webhook workers vs one", "n/a", "report", None, f"not measured: {reason}"))
        return
    runs: dict[int, list[Throughput]] = {1: [], 2: []}
    for round_ in range(rounds):
        for workers in ((1, 2) if round_ % 2 == 0 else (2, 1)):
            url = await asyncio.to_thread(server.create_database, f"workers_{workers}_{round_}")
            run = await webhook_loop(f"{workers} webhook worker{'s' if workers > 1 else ''}, round {round_ + 1}",
                                     tenants, base / f"{workers}-{round_}", limit, url, workers)
            runs[workers].append(run)
            section.note("- " + run.describe())
            if run.submitted_in_db != run.finished or run.lost:
                section.note(f"- **warning**: {run.label}: {run.finished} finished, {run.lost} lost, "
                             f"{run.submitted_in_db} stored as submitted")
    one, two = median([r.rate for r in runs[1]]), median([r.rate for r in runs[2]])
    cut = any(r.cut for rs in runs.values() for r in rs)
    section.rows.append(Row(
        "two webhook workers vs one, one PostgreSQL", f"{ratio(two, one):.2f}", "report", None,
        f"{tenants} tenants × {len(CONSULTATION)} steps, closed loop, each update posted to a worker at random, "
        f"{rounds} rounds alternating: median replies/s of two `run --webhook` workers ({two:.1f}) ÷ one "
        f"({one:.1f}) on this {os.cpu_count()}-core machine, which also runs the Bot API server, the tenants and "
        "PostgreSQL"
        + (" (a run was cut at the time limit)" if cut else "") + "."))
