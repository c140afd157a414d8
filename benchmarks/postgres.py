"""PostgreSQL beside SQLite, in one run against one throwaway server: throughput, reply latency, the CSV export.

One PostgreSQL cluster (tests/postgres_server.py: Debian's initdb and pg_ctl, 127.0.0.1, fsync on, the stock
postgresql.conf otherwise) serves the whole section; every run gets a database of its own, as every SQLite run
gets a file of its own. The two backends take turns (A B B A), so drift on this shared machine falls on both:
- throughput: the closed loop of benchmarks/conversation.py, `consultation-bot run` with DATABASE_URL on each;
- reply latency: the open loop at 50 messages a second, pooled over the rounds;
- export: a 100,000-respondent SQLite database from benchmarks/fixtures, copied into PostgreSQL with COPY, then
  `consultation-bot export --only csv` from each against the database's own client (psql's \\copy, sqlite3 -csv)
  writing the same answers; peak RSS at 100,000 and 20,000 respondents on PostgreSQL (flat, as on SQLite);
- two webhook workers against one, on one PostgreSQL (benchmarks/webhooks.py), when webhook mode is there.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks import webhooks
from benchmarks.conversation import Latency, Throughput, closed_loop, open_loop
from benchmarks.export import DUMP, FIRST_USER, Timed, _run, export_csv, sqlite_dump
from benchmarks.fixtures import build
from benchmarks.report import Row, Section, median, percentile, ratio
from benchmarks.tenants import CONSULTATION
from storage import Database
from tests.postgres_server import PostgresError, PostgresServer

PSQL = shutil.which("psql")
SQLITE3 = shutil.which("sqlite3")


def _server() -> PostgresServer | str:
    """A started server, or why there is none (PostgreSQL not installed: `apt-get install postgresql`)."""
    try:
        return PostgresServer().start()
    except PostgresError as error:
        return str(error).splitlines()[0]


async def postgres(base: Path, tenants: int = 200, rounds: int = 2, rate: float = 50.0, seconds: float = 10.0,
                   warmup: float = 2.0, large: int = 100_000, small: int = 20_000, export_rounds: int = 2,
                   worker_tenants: int = 200, limit: float = 300.0) -> Section:
    """Every PostgreSQL row, with the SQLite figure it is divided by measured in the same run."""
    section = Section("PostgreSQL")
    base.mkdir(parents=True, exist_ok=True)
    server = await asyncio.to_thread(_server)
    if isinstance(server, str):
        section.note(f"- skipped: {server}")
        section.rows.append(Row("PostgreSQL", "n/a", "report", None, server))
        return section
    try:
        version = await asyncio.to_thread(_version, server)
        section.note(f"- server: {version}, started by tests/postgres_server.py on 127.0.0.1 (data directory on "
                     "the same disk as the SQLite files; fsync on; every other setting as initdb writes it: "
                     "shared_buffers 128 MB, max_connections 100); the bot's pool of 10 connections a worker; "
                     "SQLite files in WAL mode with synchronous=FULL, as the bot opens them")
        await _throughput(section, server, base / "throughput", tenants, rounds, limit)
        await _latency(section, server, base / "latency", rate, seconds, warmup, rounds)
        await _export(section, server, base / "export", large, small, export_rounds)
        await webhooks.two_against_one(section, server, base / "workers", worker_tenants, limit, rounds)
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(base, ignore_errors=True)
    return section


def _version(server: PostgresServer) -> str:
    with server.connect() as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0].split()[0] if row else '?'}"


def fresh(server: PostgresServer, name: str) -> str:
    """An empty database for one run (the bot migrates it on start, as on a new SQLite file)."""
    return server.create_database(name)


def _order(round_: int) -> tuple[str, str]:
    """A B B A: the backend that runs first alternates, so a drifting machine does not favour one of them."""
    return ("sqlite", "postgres") if round_ % 2 == 0 else ("postgres", "sqlite")


# -- throughput --------------------------------------------------------------------------------------------------

async def _throughput(section: Section, server: PostgresServer, base: Path, tenants: int, rounds: int,
                      limit: float) -> None:
    runs: dict[str, list[Throughput]] = {"sqlite": [], "postgres": []}
    for round_ in range(rounds):
        for backend in _order(round_):
            workdir = base / f"{backend}-{round_}"
            url = await asyncio.to_thread(fresh, server, f"throughput_{round_}") if backend == "postgres" else None
            run = await closed_loop(f"consultation-bot on {backend}, round {round_ + 1}", False, tenants, workdir,
                                    limit, database_url=url)
            runs[backend].append(run)
            section.note("- " + run.describe())
            if run.submitted_in_db != run.finished or run.lost:
                section.note(f"- **warning**: {run.label}: {run.finished} finished, {run.lost} lost, "
                             f"{run.submitted_in_db} stored as submitted")
    pg, lite = median([r.rate for r in runs["postgres"]]), median([r.rate for r in runs["sqlite"]])
    cut = any(r.cut for rs in runs.values() for r in rs)
    figure = ratio(pg, lite)
    section.rows.append(Row(
        "throughput per worker, PostgreSQL vs SQLite", f"{figure:.2f}", "report", None,
        f"{tenants} tenants × {len(CONSULTATION)} steps, closed loop, {rounds} rounds alternating: median replies/s "
        f"of one `consultation-bot run` on PostgreSQL ({pg:.1f}) ÷ on SQLite ({lite:.1f})"
        + (" (a run was cut at the time limit)" if cut else "") + "."))


# -- latency -----------------------------------------------------------------------------------------------------

async def _latency(section: Section, server: PostgresServer, base: Path, rate: float, seconds: float, warmup: float,
                   rounds: int) -> None:
    replies: dict[str, list[float]] = {"sqlite": [], "postgres": []}
    for round_ in range(rounds):
        for backend in _order(round_):
            url = await asyncio.to_thread(fresh, server, f"latency_{round_}") if backend == "postgres" else None
            run: Latency = await open_loop(f"consultation-bot on {backend} at {rate:.0f}/s, round {round_ + 1}",
                                           False, base / f"{backend}-{round_}", rate, seconds, warmup,
                                           database_url=url)
            replies[backend] += run.last
            section.note("- " + run.describe())
    pg, lite = percentile(replies["postgres"], 0.95), percentile(replies["sqlite"], 0.95)
    pg50, lite50 = percentile(replies["postgres"], 0.5), percentile(replies["sqlite"], 0.5)
    section.rows.append(Row(
        f"reply p95 at {rate:.0f}/s, PostgreSQL vs SQLite", f"{ratio(pg, lite):.2f} ({1000 * pg:.0f} vs "
        f"{1000 * lite:.0f} ms)", "report", None,
        f"open loop, {rate:.0f} messages/s for {seconds:.0f} s after {warmup:.0f} s unmeasured, {rounds} rounds "
        f"alternating, pooled ({len(replies['postgres'])} and {len(replies['sqlite'])} replies): p95 to the last "
        f"message of the reply {1000 * pg:.1f} ms ÷ {1000 * lite:.1f} ms (p50 {1000 * pg50:.1f} ÷ "
        f"{1000 * lite50:.1f} ms)."))


# -- export ------------------------------------------------------------------------------------------------------

def copy_into_postgres(database: Path, url: str) -> dict[str, int]:
    """Every table SQLite holds rows in, COPYed into the (migrated, empty) PostgreSQL database at `url`.

    Times are ISO text in SQLite and timestamptz in PostgreSQL, which COPY's text format parses; '' in a
    timestamptz column (broadcast_recipients.not_before, "at once") becomes -infinity, PostgreSQL's spelling.
    Tables the migrations filled on both sides are left as PostgreSQL has them. Identity columns are moved past
    the highest id copied, then VACUUM ANALYZE, as autovacuum would soon leave a freshly loaded database.
    """
    copied: dict[str, int] = {}
    with closing(sqlite3.connect(database)) as lite, psycopg.connect(url) as pg:
        tables = [name for (name,) in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
        for table in tables:  # creation order: a referenced table comes before the tables that reference it
            if lite.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is None:
                continue
            types = dict(pg.execute("SELECT column_name, data_type FROM information_schema.columns "
                                    "WHERE table_schema = current_schema() AND table_name = %s", (table,)).fetchall())
            name = sql.Identifier(table)
            if not types or pg.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(name)).fetchone() is not None:
                continue  # SQLite's own bookkeeping, or rows the migrations wrote on both sides
            columns = [str(c[1]) for c in lite.execute(f'PRAGMA table_info("{table}")')]
            missing = [c for c in columns if c not in types]
            if missing:
                raise RuntimeError(f"{table}: PostgreSQL has no column {', '.join(missing)}")
            stamps = [i for i, c in enumerate(columns) if types[c] == "timestamp with time zone"]
            fields = sql.SQL(", ").join(map(sql.Identifier, columns))
            count = 0
            with pg.cursor() as cursor, cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(name, fields)) as copy:
                for row in lite.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{table}"'):
                    if stamps and any(row[i] == "" for i in stamps):
                        row = tuple("-infinity" if i in stamps and v == "" else v for i, v in enumerate(row))
                    copy.write_row(row)
                    count += 1
            if "id" in columns:
                pg.execute(sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), max(id)) FROM {}").format(name),
                           (table,))
            copied[table] = count
        pg.commit()
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE")
    return copied


def psql_copy(url: str, out: Path, query: str = DUMP) -> Timed:
    """The yardstick: psql's client-side \\copy of the current answers joined to respondents, as CSV."""
    assert PSQL is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    timed = _run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url,
                  "-c", f"\\copy ({query}) TO '{out}' WITH (FORMAT csv, HEADER)"], None, env)
    return Timed(timed.seconds, timed.peak_kib, out.stat().st_size)  # psql writes the file itself


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "missing"


async def _database(server: PostgresServer, folder: Path, name: str, respondents: int
                    ) -> tuple[Path, str, dict[str, int]]:
    """The fixture's SQLite file and the same rows in a new PostgreSQL database, schema made by the bot's migrations."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "consultation.db"
    await build(database, respondents, FIRST_USER)
    url = await asyncio.to_thread(fresh, server, name)
    await (await Database.open(url)).close()
    copied = await asyncio.to_thread(copy_into_postgres, database, url)
    return database, url, copied


async def _export(section: Section, server: PostgresServer, base: Path, large: int, small: int, rounds: int) -> None:
    if PSQL is None or SQLITE3 is None:
        missing = " and ".join(n for n, p in (("psql", PSQL), ("sqlite3", SQLITE3)) if p is None)
        section.note(f"- export skipped: {missing} (the command-line client) not installed")
        section.rows.append(Row("export on PostgreSQL vs psql \\copy", "n/a", "report", None, f"{missing} missing"))
        return
    started = time.monotonic()
    database, url, copied = await _database(server, base / "large", "export_large", large)
    loaded = time.monotonic() - started
    section.note(f"- {large:,} respondents built in SQLite by benchmarks/fixtures and COPYed into PostgreSQL "
                 f"({', '.join(f'{t} {n:,}' for t, n in copied.items())}) in {loaded:.0f} s")
    await asyncio.to_thread(psql_copy, url, base / "warm.csv")  # both databases' pages in memory before timing
    await asyncio.to_thread(sqlite_dump, database, base / "warm-sqlite.csv")
    pg_exports: list[Timed] = []
    pg_dumps: list[Timed] = []
    lite_exports: list[Timed] = []
    lite_dumps: list[Timed] = []
    digests: set[str] = set()
    for round_ in range(rounds):
        for backend in _order(round_):
            out = base / f"{backend}-export-{round_}"
            if backend == "postgres":
                pg_exports.append(await asyncio.to_thread(export_csv, database, out, None, url))
                pg_dumps.append(await asyncio.to_thread(psql_copy, url, base / f"psql-{round_}.csv"))
            else:
                lite_exports.append(await asyncio.to_thread(export_csv, database, out))
                lite_dumps.append(await asyncio.to_thread(sqlite_dump, database, base / f"sqlite3-{round_}.csv"))
            digests.add(_digest(out / "responses.csv"))
    shutil.rmtree(base / "large", ignore_errors=True)
    _, small_url, _ = await _database(server, base / "small", "export_small", small)
    small_export = await asyncio.to_thread(export_csv, base / "small" / "consultation.db", base / "small-export",
                                           None, small_url)
    shutil.rmtree(base / "small", ignore_errors=True)

    def times(runs: list[Timed]) -> str:
        return ", ".join(f"{t.seconds:.2f}" for t in runs)

    pg_s, psql_s = median([t.seconds for t in pg_exports]), median([t.seconds for t in pg_dumps])
    lite_s, sqlite3_s = median([t.seconds for t in lite_exports]), median([t.seconds for t in lite_dumps])
    section.note(f"- export --only csv from PostgreSQL {times(pg_exports)} s (responses.csv "
                 f"{pg_exports[0].output_bytes / 1e6:.1f} MB); psql \\copy {times(pg_dumps)} s "
                 f"({pg_dumps[0].output_bytes / 1e6:.1f} MB)")
    section.note(f"- export --only csv from SQLite {times(lite_exports)} s; sqlite3 -csv {times(lite_dumps)} s "
                 f"({lite_dumps[0].output_bytes / 1e6:.1f} MB)")
    same = "the same bytes" if len(digests) == 1 else f"**different** files ({', '.join(sorted(digests))})"
    section.note(f"- responses.csv from PostgreSQL and from SQLite: {same} (sha256 {', '.join(sorted(digests))})")
    big_rss, small_rss = max(t.peak_kib for t in pg_exports), small_export.peak_kib
    section.note(f"- peak RSS of the export from PostgreSQL: {small_rss / 1024:.1f} MB at {small:,} respondents, "
                 f"{big_rss / 1024:.1f} MB at {large:,} (from SQLite at {large:,}: "
                 f"{max(t.peak_kib for t in lite_exports) / 1024:.1f} MB; psql: "
                 f"{max(t.peak_kib for t in pg_dumps) / 1024:.1f} MB)")
    section.note(f"- the export part took {time.monotonic() - started:.0f} s")
    figure, lite_figure = ratio(pg_s, psql_s), ratio(lite_s, sqlite3_s)
    section.rows.append(Row(
        "export on PostgreSQL vs psql \\copy", f"{figure:.2f}", "report", None,
        f"{large:,} respondents, {rounds} rounds alternating with SQLite: median {pg_s:.2f} s ÷ {psql_s:.2f} s, exec "
        f"to exit. The same run's SQLite export ÷ sqlite3 -csv: {lite_s:.2f} s ÷ {sqlite3_s:.2f} s = "
        f"{lite_figure:.2f} (its target ≤ 3); PostgreSQL's export ÷ SQLite's: {ratio(pg_s, lite_s):.2f}."))
    growth = ratio(big_rss, small_rss)
    section.rows.append(Row(
        "export peak RSS on PostgreSQL", f"{big_rss / 1024:.0f} MB vs {small_rss / 1024:.0f} MB", "flat",
        growth <= 1.2, f"at {large:,} vs {small:,} respondents (×{growth:.2f}); flat means within 20%, as on SQLite."))
