"""Run one export in a fresh process and print its peak memory (VmHWM), so the test measures only the export."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from conversations.file.loader import load_consultation
from storage import Database
from storage.export import FORMATS, run_export


def peak_rss_kb() -> int:
    """The process's high-water mark of resident memory, from the kernel."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


async def main(database: Path, folder: Path, formats: tuple[str, ...]) -> dict[str, object]:
    consultation = load_consultation()
    started = time.monotonic()
    db = await Database.open(f"sqlite:///{database}")
    try:
        result = await run_export(db, consultation, folder, formats, identities=False, actor_id=None,
                                  via="memory test", now=datetime(2020, 12, 1, tzinfo=UTC))
    finally:
        await db.close()
    return {
        "seconds": round(time.monotonic() - started, 2),
        "cpu_seconds": round(time.process_time(), 2),
        "respondents": result.stats.agreed,
        "sizes": {file.path.name: file.size for file in result.files},
    }


if __name__ == "__main__":
    baseline = peak_rss_kb()
    chosen = tuple(sys.argv[3].split(",")) if len(sys.argv) > 3 else tuple(FORMATS)
    report = asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), chosen))
    print(json.dumps({**report, "baseline_kb": baseline, "peak_kb": peak_rss_kb()}))
