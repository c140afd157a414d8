"""The bots under test as real processes (as in production), with their CPU time and memory read from /proc."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.server import BenchServer

PROJECT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def bot_env(server: BenchServer, database: Path, **extra: str) -> dict[str, str]:
    """Environment for `consultation-bot run` (and the echo bot): the local server and an open window; everything else
    at the defaults a user gets (LOG_LEVEL=INFO, Telegram's 30/s for bulk and 1/s a chat for unsolicited messages)."""
    now = datetime.now(UTC)
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith(("BOT_", "CONSULTATION_", "TELEGRAM_", "BROADCAST_", "DOTENV"))}
    return {
        **inherited,
        "PYTHONPATH": str(PROJECT),
        "BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "ADMIN_IDS": "900001",
        "STAFF_IDS": "900002",
        "CONSULTATION_OPENS_AT": (now - timedelta(days=1)).isoformat(),
        "CONSULTATION_CLOSES_AT": (now + timedelta(days=30)).isoformat(),
        **extra,
    }


class BotUnderTest:
    """`consultation-bot run` or the echo bot, started in a work folder and stopped with SIGTERM."""

    def __init__(self, server: BenchServer, workdir: Path, echo: bool = False, database: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.server = server
        self.workdir = workdir
        self.echo = echo
        self.database = database or workdir / "consultation.db"
        self.env = bot_env(server, self.database, **(env or {}))
        self.log_path = workdir / ("echo.log" if echo else "bot.log")
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def name(self) -> str:
        return "echo bot" if self.echo else "consultation-bot run"

    @property
    def command(self) -> list[str]:
        module = "benchmarks.echo_bot" if self.echo else "bot.cli"
        return [sys.executable, "-m", module, *([] if self.echo else ["run"])]

    async def start(self, timeout: float = 60) -> float:
        """Start it and await its first getUpdates; returns the seconds from exec to that request."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        polled = self.server.expect_poll()
        with self.log_path.open("ab") as log:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(self.command, cwd=self.workdir, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        try:
            at = await asyncio.wait_for(polled, timeout)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.name} did not poll within {timeout}s:\n{self.log()}") from None
        return at - self.started_at

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as a service manager would; kill -9 only if it hangs."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    async def stop_async(self, timeout: float = 20) -> int:
        """Stop without blocking the loop the server runs on (the bot's last requests need it)."""
        return await asyncio.to_thread(self.stop, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def memory_kib(self, field: str = "VmRSS") -> int:
        """VmRSS (resident now) or VmHWM (peak) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"{field} not in /proc/{self.pid}/status")


def own_cpu_seconds() -> float:
    """CPU used by this process: the Bot API server and the simulated tenants share it."""
    times = os.times()
    return times.user + times.system
