"""At Telegram's real limits (the default settings): how long a tenant waits from a tap to the next screen.

Two people the issue names: a brisk tenant who taps the moment the buttons show, and 200 tenants who read for 2 s
between inputs. Each step is timed from the tenant's input to the arrival at the server of the message that is
the next screen; the server's own log also gives the Bot API message calls (sends and edits) per input.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.processes import BotUnderTest
from benchmarks.report import Row, Section, percentile, ratio
from benchmarks.server import BenchServer
from benchmarks.tenants import CONSULTATION, Tenant, TenantLost

FIRST_USER = 40_000_000
MESSAGE_CALLS = ("send", "edit")


@dataclass
class Paced:
    """What a run of tenants saw: seconds from each input to its next screen, and the calls to their chats."""

    label: str
    tenants: int
    waits: list[float] = field(default_factory=list)
    inputs: int = 0
    message_calls: int = 0
    finished: int = 0
    lost: int = 0
    seconds: float = 0.0

    @property
    def calls_per_input(self) -> float:
        return ratio(self.message_calls, self.inputs)

    def describe(self) -> str:
        ms = {p: 1000 * percentile(self.waits, p) for p in (0.5, 0.95, 0.99)}
        return (f"{self.label}: {len(self.waits):,} steps by {self.tenants} tenants in {self.seconds:.1f} s; tap to "
                f"next screen p50 {ms[0.5]:.1f} ms, p95 {ms[0.95]:.1f} ms, p99 {ms[0.99]:.1f} ms, "
                f"max {1000 * max(self.waits, default=float('nan')):.1f} ms; {self.finished} finished, "
                f"{self.lost} lost; {self.message_calls:,} message calls for {self.inputs:,} inputs "
                f"({self.calls_per_input:.2f} an input)")


def count_message_calls(server: BenchServer, users: set[int]) -> int:
    """sendMessage and edit* calls the server answered to these tenants' chats."""
    return sum(1 for r in server.requests() if r.method.startswith(MESSAGE_CALLS) and r.status == 200
               and r.params.get("chat_id") in users)


async def take_part(server: BenchServer, result: Paced, user_id: int, think: float, start_after: float) -> None:
    """One tenant through the whole consultation, reading `think` seconds before each input."""
    await asyncio.sleep(start_after)
    tenant = Tenant(server, user_id)
    try:
        while not tenant.done:
            _first, last = await tenant.next_step()
            result.waits.append(last)
            result.inputs += 1
            if think:
                await asyncio.sleep(think)
        result.finished += 1
    except TenantLost:
        result.lost += 1


async def run_tenants(label: str, workdir: Path, tenants: int, think: float, one_at_a_time: bool) -> Paced:
    """Start the bot at the defaults and run the tenants (one after another, or side by side spread over `think`)."""
    result = Paced(label, tenants)
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(12)
    users = {FIRST_USER + n for n in range(tenants)}
    async with BenchServer() as server:
        bot = BotUnderTest(server, workdir)
        await bot.start()
        try:
            server.clear_requests()
            started = time.monotonic()
            if one_at_a_time:
                for user_id in sorted(users):
                    await take_part(server, result, user_id, think, 0.0)
            else:
                await asyncio.gather(*(take_part(server, result, user_id, think, rng.uniform(0, think))
                                       for user_id in sorted(users)))
            result.seconds = time.monotonic() - started
            await asyncio.sleep(0.5)  # let any late call land before counting
            result.message_calls = count_message_calls(server, users)
        finally:
            await bot.stop_async()
    return result


async def pace(base: Path, brisk_tenants: int = 10, readers: int = 200, think: float = 2.0) -> Section:
    """The brisk tenant and the readers, at the default settings."""
    section = Section("Replies at Telegram's limits (default settings)")
    brisk = await run_tenants("brisk tenant", base / "brisk", brisk_tenants, 0.0, one_at_a_time=True)
    section.note(f"- {brisk.describe()} (one tenant at a time, each tapping the moment the buttons show)")
    p95 = percentile(brisk.waits, 0.95)
    section.rows.append(Row(
        "brisk tenant, tap to next screen p95", f"{1000 * p95:.1f} ms", "≤ 50 ms",
        p95 <= 0.050 and brisk.lost == 0,
        f"{brisk_tenants} tenants one after another, each through the whole consultation ({len(CONSULTATION)} "
        f"steps) tapping the moment the buttons show; p50 {1000 * percentile(brisk.waits, 0.5):.1f} ms."))
    human = await run_tenants(f"{readers} tenants reading {think:g} s", base / "readers", readers, think,
                              one_at_a_time=False)
    section.note(f"- {human.describe()}")
    p95, worst = percentile(human.waits, 0.95), max(human.waits, default=float("inf"))
    section.rows.append(Row(
        f"{readers} tenants reading {think:g} s, p95 / max", f"{1000 * p95:.0f} / {1000 * worst:.0f} ms",
        "≤ 100 / 500 ms", p95 <= 0.100 and worst <= 0.500 and human.finished == readers,
        f"{readers} tenants side by side, each reading {think:g} s between inputs (starts spread over {think:g} s); "
        f"{human.finished} of {readers} finished."))
    calls = ratio(brisk.message_calls + human.message_calls, brisk.inputs + human.inputs)
    section.rows.append(Row(
        "message calls per input", f"{calls:.2f}", "≤ 1.1", calls <= 1.1,
        f"sendMessage and edit* calls to the tenants' chats ÷ their inputs, whole consultations, from the server's "
        f"log: brisk {brisk.calls_per_input:.2f}, readers {human.calls_per_input:.2f}."))
    return section
