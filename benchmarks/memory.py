"""Memory: the bot's RSS with thousands of tenants part-way through, minus its RSS idle.

Every tenant goes through the real path (/start, agree, one answer: three updates, seven Bot API calls), so
whatever the bot keeps per tenant in memory (rate-limiter buckets, keyboard tracker, locks, PTB's own tables)
is there. The bot answers some tens of steps a second on two cores, so 10,000 tenants take longer than this
benchmark may: it adds tenants in batches until 10,000 or its time budget, and if the budget ends first it
projects to 10,000 from the growth per tenant over the batches it measured (and says so).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from benchmarks.processes import BotUnderTest
from benchmarks.report import Row, Section
from benchmarks.server import BenchServer
from benchmarks.tenants import PART_WAY, Tenant

FIRST_USER = 20_000_000
TARGET_TENANTS = 10_000
LIMIT_MB = 30.0


async def _part_way(server: BenchServer, first: int, count: int, concurrency: int) -> int:
    """`count` new tenants each send /start, agree and answer question 1 (at most `concurrency` at once)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(user_id: int) -> int:
        async with gate:
            tenant = Tenant(server, user_id, script=PART_WAY)
            replies = await tenant.run()
            server.inboxes.pop(user_id, None)
            return replies

    return sum(await asyncio.gather(*(one(first + i) for i in range(count))))


async def _settled_rss(bot: BotUnderTest, seconds: float = 1.0) -> int:
    """RSS once in-flight work has drained (KiB)."""
    await asyncio.sleep(seconds)
    return bot.memory_kib("VmRSS")


async def memory(base: Path, batch: int = 500, budget: float = 80.0, concurrency: int = 200,
                 min_batches: int = 3) -> Section:
    """RSS growth with tenants part-way, measured or projected to 10,000."""
    section = Section("Memory")
    base.mkdir(parents=True, exist_ok=True)
    points: list[tuple[int, int]] = []
    async with BenchServer() as server:
        bot = BotUnderTest(server, base)
        await bot.start()
        try:
            idle = await _settled_rss(bot, 2.0)
            points.append((0, idle))
            started, tenants = time.monotonic(), 0
            while tenants < TARGET_TENANTS and (tenants < min_batches * batch or time.monotonic() - started < budget):
                await _part_way(server, FIRST_USER + tenants, batch, concurrency)
                tenants += batch
                server.forget_requests()  # keeps the server's memory (and its searches) flat; not the bot's
                points.append((tenants, await _settled_rss(bot)))
            elapsed = time.monotonic() - started
            peak = bot.memory_kib("VmHWM")
        finally:
            await bot.stop_async()
    measured_n, measured_rss = points[-1]
    growth_mb = (measured_rss - idle) / 1024
    if measured_n >= TARGET_TENANTS:
        projected, how = growth_mb, f"measured with all {TARGET_TENANTS:,} tenants"
    else:  # least-squares slope over the batches after the first (the first also pays one-off warm-up)
        later = points[1:] if len(points) > 2 else points
        xs, ys = [p[0] for p in later], [p[1] for p in later]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / (
            sum((x - mean_x) ** 2 for x in xs) or 1)
        projected = growth_mb + slope * (TARGET_TENANTS - measured_n) / 1024
        how = (f"measured up to {measured_n:,} tenants in the time budget, then projected to {TARGET_TENANTS:,} "
               f"at {slope:.2f} KiB a tenant (slope over the batches)")
    section.note(f"- RSS idle {idle / 1024:.1f} MB; after each batch of {batch:,} tenants: "
                 + ", ".join(f"{n:,} → {rss / 1024:.1f} MB" for n, rss in points[1:]))
    section.note(f"- {measured_n:,} tenants part-way in {elapsed:.0f} s ({3 * measured_n / elapsed:.0f} steps/s, "
                 f"{concurrency} at once); peak RSS (VmHWM) {peak / 1024:.1f} MB")
    section.rows.append(Row("memory, 10,000 tenants part-way", f"{projected:.1f} MB", f"≤ {LIMIT_MB:.0f} MB",
                            projected <= LIMIT_MB, f"RSS minus RSS idle; {how}."))
    return section
