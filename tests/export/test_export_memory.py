"""Exports stream: at 100,000 respondents peak memory is what it is at 20,000, and well under 200 MB.

Each export runs in a fresh process that reports its own peak resident memory (VmHWM). To stay near a minute
on two cores, two processes run side by side: the XLSX at 100,000 (openpyxl, at about 20 µs a cell, is the
slow part), and beside it all four formats at 20,000 and then the other three at 100,000.
Measured on an idle two-core machine: about 60 s in all, peaks of 46-50 MB at both sizes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.export.bulk import build_big_database

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "tests" / "artifacts"
BIG, SMALL = 100_000, 20_000
PEAK_LIMIT_MB = 200
GROWTH_LIMIT_MB = 20


def export_in_child(database: Path, folder: Path, formats: str) -> dict[str, object]:
    """One export in its own process; its peak memory and timings as reported by the child."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.export.memory_child", str(database), str(folder), formats],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.slow
def test_peak_memory_stays_flat_from_20k_to_100k_respondents(tmp_path: Path) -> None:
    started = time.monotonic()
    reports: dict[str, dict[str, object]] = {}

    def lane(*runs: tuple[str, Path, str]) -> threading.Thread:
        """Exports one after another in a background thread (each in its own process)."""

        def work() -> None:
            for name, database, formats in runs:
                reports[name] = export_in_child(database, tmp_path / name, formats)

        thread = threading.Thread(target=work)
        thread.start()
        return thread

    small, big = tmp_path / "small.db", tmp_path / "big.db"
    build_big_database(big, BIG)
    built = time.monotonic() - started
    first = lane(("xlsx_100k", big, "xlsx"))  # the longest: started first
    build_big_database(small, SMALL)
    second = lane(("all_20k", small, "csv,xlsx,jsonl,html"), ("others_100k", big, "csv,jsonl,html"))
    first.join()
    second.join()
    summary = {"build_100k_seconds": round(built, 1), "total_seconds": round(time.monotonic() - started, 1),
               **reports}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "export-memory.json").write_text(json.dumps(summary, indent=2))

    assert {name: report["respondents"] for name, report in reports.items()} == {
        "xlsx_100k": BIG, "others_100k": BIG, "all_20k": SMALL}
    peak = {name: int(str(report["peak_kb"])) / 1024 for name, report in reports.items()}
    assert max(peak.values()) < PEAK_LIMIT_MB, summary
    growth = max(peak["xlsx_100k"], peak["others_100k"]) - peak["all_20k"]
    assert growth < GROWTH_LIMIT_MB, summary
