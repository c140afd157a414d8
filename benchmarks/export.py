"""Export: `consultation-bot export --only csv` against sqlite3's own CSV dump of the same answers, and its memory.

Both are separate processes reading the same file, timed from exec to exit; the export's peak RSS comes from
the process's own high-water mark, at two sizes, to show it stays flat as the consultation grows. The same is then
measured, for the report only, on conversations/consultations/examples/every-kind.toml (every kind of question).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.fixtures import EVERY_KIND, build
from benchmarks.processes import PROJECT
from benchmarks.report import Row, Section, median, ratio

FIRST_USER = 40_000_000
SQLITE3 = shutil.which("sqlite3")
DUMP = ("SELECT r.reference, r.source, a.question_id, a.choice, a.text, a.skipped, a.answered_at, "
        "a.consultation_version FROM answers a JOIN respondents r ON r.user_id = a.user_id "
        "WHERE a.is_current = 1 ORDER BY r.reference")
DUMP_EVERY_KIND = DUMP.replace("a.skipped,", "a.skipped, a.choices, a.number, a.shown,")  # every stored field


@dataclass
class Timed:
    """One process run: wall time from exec to exit, its own peak RSS, and its output size."""

    seconds: float
    peak_kib: int
    output_bytes: int


def _peak_kib(pid: int, stop: threading.Event, seen: list[int]) -> None:
    """Poll VmHWM (the process's own high-water mark, reset at exec) until it exits.

    wait4()'s ru_maxrss is no use here: on Linux it also counts the image of the parent it was forked from.
    """
    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    seen.append(int(line.split()[1]))
        except (OSError, ValueError):
            return
        stop.wait(0.02)


def _run(command: list[str], stdout: Path | None, env: dict[str, str] | None = None, cwd: Path | None = None) -> Timed:
    """Exec and wait, timing exec to exit, with the child's own peak RSS."""
    with (stdout.open("wb") if stdout else open(os.devnull, "wb")) as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env, cwd=cwd)
        stop, seen = threading.Event(), [0]
        watcher = threading.Thread(target=_peak_kib, args=(process.pid, stop, seen), daemon=True)
        watcher.start()
        _stdout, error = process.communicate()
        seconds = time.monotonic() - started
        stop.set()
        watcher.join()
    if process.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed ({process.returncode}): {error.decode(errors='replace')[-2000:]}")
    size = stdout.stat().st_size if stdout else 0
    return Timed(seconds, max(seen), size)


def export_csv(database: Path, out: Path, survey_file: Path | None = None, url: str | None = None) -> Timed:
    """The admin's command, exactly as the README gives it (with CONSULTATION_FILE for another consultation); from
    the SQLite file `database`, or from DATABASE_URL `url` (PostgreSQL; it then runs in `database`'s folder)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "DATABASE_URL": url or f"sqlite:///{database}",
           "LOG_LEVEL": "WARNING"}
    env = {k: v for k, v in env.items() if not k.startswith(("CONSULTATION_", "DOTENV"))}
    if survey_file is not None:
        env["CONSULTATION_FILE"] = str(survey_file)
    timed = _run([sys.executable, "-m", "bot.cli", "export", "--out", str(out), "--only", "csv"], None, env,
                 cwd=database.parent)
    csv = out / "responses.csv"
    return Timed(timed.seconds, timed.peak_kib, csv.stat().st_size if csv.exists() else 0)


def sqlite_dump(database: Path, out: Path, query: str = DUMP) -> Timed:
    """The floor: SQLite's own shell writing the current answers joined to respondents as CSV."""
    assert SQLITE3 is not None
    return _run([SQLITE3, "-csv", "-header", str(database), query], out)


def _warm(database: Path) -> None:
    """Read the file once so both commands start with it in the page cache."""
    with database.open("rb") as file:
        while file.read(1 << 20):
            pass


async def _measure(base: Path, respondents: int, rounds: int, dump: bool = True, survey_file: Path | None = None
                   ) -> tuple[list[Timed], list[Timed]]:
    """Build once, warm the cache, then alternate export and dump `rounds` times."""
    base.mkdir(parents=True, exist_ok=True)
    database = base / "consultation.db"
    await build(database, respondents, FIRST_USER, survey_file=survey_file)
    await asyncio.to_thread(_warm, database)
    exports: list[Timed] = []
    dumps: list[Timed] = []
    query = DUMP if survey_file is None else DUMP_EVERY_KIND
    for round_ in range(rounds):
        exports.append(await asyncio.to_thread(export_csv, database, base / f"export-{round_}", survey_file))
        if dump:
            dumps.append(await asyncio.to_thread(sqlite_dump, database, base / f"dump-{round_}.csv", query))
    shutil.rmtree(base, ignore_errors=True)
    return exports, dumps


async def export(base: Path, large: int = 100_000, small: int = 20_000, rounds: int = 2) -> Section:
    """Time ratio at the large size; peak RSS at both sizes; then the same for every kind of question (reported)."""
    section = Section("Export")
    if SQLITE3 is None:
        section.note("- sqlite3 (the command-line shell) is not installed: `apt-get install sqlite3`; skipped.")
        section.rows.append(Row("export time", "n/a", "≤ 3", None, "sqlite3 shell missing"))
        return section
    started = time.monotonic()
    big_exports, big_dumps = await _measure(base / "large", large, rounds)
    small_exports, _ = await _measure(base / "small", small, 1, dump=False)
    export_s, dump_s = median([t.seconds for t in big_exports]), median([t.seconds for t in big_dumps])
    big_rss, small_rss = max(t.peak_kib for t in big_exports), max(t.peak_kib for t in small_exports)
    runs = ", ".join(f"{t.seconds:.2f}" for t in big_exports)
    section.note(f"- {large:,} respondents × 5 answers: export --only csv {runs}"
                 f" s (responses.csv {big_exports[0].output_bytes / 1e6:.1f} MB); sqlite3 -csv "
                 f"{', '.join(f'{t.seconds:.2f}' for t in big_dumps)} s ({big_dumps[0].output_bytes / 1e6:.1f} MB)")
    section.note(f"- peak RSS of the export process: {small_rss / 1024:.1f} MB at {small:,} respondents, "
                 f"{big_rss / 1024:.1f} MB at {large:,} (sqlite3: {max(t.peak_kib for t in big_dumps) / 1024:.1f} MB)")
    section.note(f"- building the databases and running took {time.monotonic() - started:.0f} s")
    figure = ratio(export_s, dump_s)
    section.rows.append(Row("export time", f"{figure:.2f}", "≤ 3", figure <= 3,
                            f"{large:,} respondents: median {export_s:.2f} s ÷ {dump_s:.2f} s, exec to exit."))
    growth = ratio(big_rss, small_rss)
    section.rows.append(Row("export peak RSS", f"{big_rss / 1024:.0f} MB vs {small_rss / 1024:.0f} MB", "flat",
                            growth <= 1.2,
                            f"at {large:,} vs {small:,} respondents (×{growth:.2f}); flat means within 20%."))
    await _every_kind(section, base, large, small)
    return section


async def _every_kind(section: Section, base: Path, large: int, small: int) -> None:
    """every-kind.toml (scales, multis, numbers, routing, info pages) at both sizes, one round each: report only."""
    started = time.monotonic()
    big_exports, big_dumps = await _measure(base / "every-kind-large", large, 1, survey_file=EVERY_KIND)
    small_exports, _ = await _measure(base / "every-kind-small", small, 1, dump=False, survey_file=EVERY_KIND)
    big, dump, little = big_exports[0], big_dumps[0], small_exports[0]
    section.note(f"- every-kind.toml, {large:,} respondents × 11 answers (scales, multis, numbers, a third routed "
                 f"out of each show_if question): export --only csv {big.seconds:.2f} s (responses.csv "
                 f"{big.output_bytes / 1e6:.1f} MB); sqlite3 -csv {dump.seconds:.2f} s "
                 f"({dump.output_bytes / 1e6:.1f} MB); peak RSS {little.peak_kib / 1024:.1f} MB at {small:,}, "
                 f"{big.peak_kib / 1024:.1f} MB at {large:,}; {time.monotonic() - started:.0f} s in all")
    figure = ratio(big.seconds, dump.seconds)
    section.rows.append(Row("export time, every kind of question", f"{figure:.2f}", "report", None,
                            f"every-kind.toml at {large:,} respondents: {big.seconds:.2f} s ÷ {dump.seconds:.2f} s, "
                            f"one round; peak RSS ×{ratio(big.peak_kib, little.peak_kib):.2f} from {small:,}."))
