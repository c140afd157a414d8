"""`python -m benchmarks [--only NAME ...]`: run the benchmarks, print one table, write benchmarks/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks import broadcast, conversation, export, memory, pace, postgres, profiles, themes
from benchmarks.report import (
    INVESTIGATION,
    POSTGRES_RESULTS,
    QUICK_RESULTS,
    RESULTS,
    Section,
    header,
    load_average,
    load_raw,
    save_raw,
    table,
    write_results,
)

Benchmark = Callable[..., Awaitable[Section]]
BENCHMARKS: dict[str, Benchmark] = {
    "startup": conversation.startup,
    "throughput": conversation.throughput,
    "durability": conversation.durability,
    "latency": conversation.latency,
    "pace": pace.pace,
    "memory": memory.memory,
    "broadcast": broadcast.broadcast,
    "export": export.export,
    "postgres": postgres.postgres,  # a throwaway PostgreSQL server beside SQLite; skipped with a note if absent
    "themes": themes.themes,  # coded sets under ../shared/eval/themes, skipped with a note if absent
}
# --quick: the same benchmarks at smaller sizes (a smoke test in ~4 minutes; written to QUICK.md, not RESULTS.md).
QUICK: dict[str, dict[str, Any]] = {
    "throughput": {"tenants": 100},
    "durability": {"tenants": 30, "rounds": 1, "seconds": 5.0},
    "latency": {"seconds": 8.0},
    "pace": {"brisk_tenants": 3, "readers": 50},
    "memory": {"batch": 250, "budget": 20.0, "min_batches": 2},
    "broadcast": {"recipients": 600, "tenants": 30, "faulty_recipients": 200},
    "export": {"large": 20_000, "small": 5_000, "rounds": 1},
    "postgres": {"tenants": 60, "rounds": 1, "seconds": 4.0, "warmup": 1.0, "large": 20_000, "small": 5_000,
                 "export_rounds": 1, "worker_tenants": 40},
}
# Investigation only (`--only NAME`), not part of a full run: where the bot's CPU goes (INVESTIGATION.md).
EXTRA: dict[str, Benchmark] = {
    "profile": profiles.profile,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted({**BENCHMARKS, **EXTRA}), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join({**BENCHMARKS, **EXTRA})}")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (databases, bot logs)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes than the issue asks for, as a smoke test (writes benchmarks/QUICK.md)")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite RESULTS.md from the last full run (benchmarks/results.json), "
                             "e.g. after editing analysis.md")
    return parser


async def _run(names: list[str], base: Path, quick: bool) -> list[Section]:
    sections = []
    for name in names:
        print(f"-- {name} ...", flush=True)
        started = time.monotonic()
        options = QUICK.get(name, {}) if quick else {}
        section = await {**BENCHMARKS, **EXTRA}[name](base / name, **options)
        section.seconds = time.monotonic() - started
        for line in section.details:
            print(f"   {line}", flush=True)
        sections.append(section)
    return sections


def _target(names: list[str], quick: bool) -> Path:
    """INVESTIGATION.md, QUICK.md, POSTGRES.md for postgres on its own, else RESULTS.md (and results.json)."""
    if any(name in EXTRA for name in names):
        return INVESTIGATION
    if quick:
        return QUICK_RESULTS
    if names == ["postgres"]:  # on its own (a server to install, a section to rerun): beside the full run's table
        return POSTGRES_RESULTS
    return RESULTS


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.report:
        sections, facts = load_raw()
        write_results(sections, facts)
        print(table([row for section in sections for row in section.rows]))
        return 0
    names = args.only or list(BENCHMARKS)
    base = Path(tempfile.mkdtemp(prefix="consultation-bench-"))
    started, load_before = time.monotonic(), load_average()
    try:
        sections = asyncio.run(_run(names, base, args.quick))
    finally:
        if args.keep:
            print(f"work folder kept: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    target = _target(names, args.quick)
    facts = header(started, load_before, sys.argv[1:] if argv is None else argv)
    write_results(sections, facts, target)
    if target == RESULTS:
        save_raw(sections, facts)
    print()
    print(table([row for section in sections for row in section.rows]))
    print(f"\nwritten to {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target} "
          f"({(time.monotonic() - started) / 60:.1f} minutes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
