"""A throwaway PostgreSQL server for tests: Debian's initdb and pg_ctl, a data directory under /tmp, 127.0.0.1 only.

initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user (`runuser -u postgres`) over a
directory that user owns. The server keeps fsync on, as a real one would: the durability tests rely on it. Only
initdb skips its final sync (`--no-sync`), which is safe for a cluster that lives as long as one test session.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import psycopg
from psycopg import sql

POSTGRES_ROOT = Path("/usr/lib/postgresql")
INSTALL_HINT = (
    "PostgreSQL is not installed (initdb and pg_ctl under /usr/lib/postgresql/*/bin); apt-get install postgresql"
)
SYSTEM_USER = "postgres"  # who runs initdb and the server when the tests run as root
SUPERUSER = "postgres"  # the cluster's superuser (initdb -U), trusted on 127.0.0.1 and the socket
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections


class PostgresError(RuntimeError):
    """The throwaway server could not be set up, started or used; the message carries the server's log."""


def find_bin_dir(root: Path = POSTGRES_ROOT) -> Path | None:
    """The highest installed version's bin directory that has both initdb and pg_ctl, or None."""
    found: list[tuple[tuple[int, ...], Path]] = []
    if not root.is_dir():
        return None
    for version_dir in root.iterdir():
        if not re.fullmatch(r"\d+(\.\d+)*", version_dir.name):
            continue
        bin_dir = version_dir / "bin"
        if all(os.access(bin_dir / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            found.append((tuple(int(part) for part in version_dir.name.split(".")), bin_dir))
    return max(found)[1] if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (start() retries if another process takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def utf8_locale() -> str:
    """C.UTF-8 when this machine has it (Debian always does), otherwise plain C."""
    try:
        listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "C"
    names = {line.strip().lower().replace("-", "") for line in listed.splitlines()}
    return "C.UTF-8" if "c.utf8" in names else "C"


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, listening on 127.0.0.1:port and a private socket directory.

    `start()` runs initdb and `pg_ctl start -w`; `stop()` runs `pg_ctl stop -m fast` and removes the directory.
    `create_database(name)` gives a URL the storage layer can open; trust authentication, so no password.
    """

    def __init__(self, bin_dir: Path | None = None, settings: Mapping[str, str] | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise PostgresError(INSTALL_HINT)
        self.bin_dir = found
        self.settings = dict(settings or {})  # extra `-c name=value` server settings, e.g. max_connections
        self.port = 0
        self.base: Path | None = None  # holds data/, socket/ and server.log
        self._running = False
        self._as_root = os.geteuid() == 0

    # -- paths and URLs -------------------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._base / "data"

    @property
    def socket_dir(self) -> Path:
        return self._base / "socket"

    @property
    def log_path(self) -> Path:
        return self._base / "server.log"

    @property
    def _base(self) -> Path:
        if self.base is None:
            raise PostgresError("the server has not been started")
        return self.base

    @property
    def running(self) -> bool:
        return self._running

    def url(self, database: str) -> str:
        """postgresql://postgres@127.0.0.1:PORT/database."""
        if not self._running:
            raise PostgresError("the server is not running")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{quote(database, safe='')}"

    @property
    def admin_url(self) -> str:
        """The maintenance database `postgres`, for CREATE and DROP DATABASE."""
        return self.url("postgres")

    # -- life cycle -----------------------------------------------------------------------------------------------

    def start(self, attempts: int = 3) -> PostgresServer:
        """initdb a fresh cluster and start it on a free port; a port taken in between is retried on another."""
        if self._running:
            return self
        self.base = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp"))
        try:
            self.socket_dir.mkdir()
            if self._as_root:
                user = pwd.getpwnam(SYSTEM_USER)
                for path in (self._base, self.socket_dir):
                    os.chown(path, user.pw_uid, user.pw_gid)
            self._initdb()
            for attempt in range(1, attempts + 1):
                self.port = free_port()
                try:
                    self._pg_ctl_start()
                    break
                except PostgresError:
                    if attempt == attempts or "could not bind" not in self._log_text():
                        raise
            self._running = True
            atexit.register(self.stop)  # a session interrupted with ^C still leaves no server behind
        except BaseException:
            self._remove_directory()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown: connections are cut) and remove its directory; safe to call twice."""
        atexit.unregister(self.stop)
        if self.base is None:
            return
        if self._running:
            for mode in ("fast", "immediate"):
                if self._pg_ctl("stop", "-m", mode, "-t", str(START_TIMEOUT)).returncode == 0:
                    break
            self._running = False
        self._remove_directory()

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # -- databases ------------------------------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """CREATE DATABASE name (quoted as an identifier); returns its URL."""
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Cut every connection to the database, then drop it (if it exists)."""
        with self.connect() as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """A synchronous autocommit connection as the superuser (close it, or use it in a `with`)."""
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=10)

    # -- the commands ---------------------------------------------------------------------------------------------

    def _command(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bin_dir / tool), *args]
        return ["runuser", "-u", SYSTEM_USER, "--", *argv] if self._as_root else argv

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}  # no stray PGDATA etc.
        env["LC_ALL"] = "C"  # messages in English, whatever the test runner's locale
        try:
            return subprocess.run(
                argv, cwd=self._base, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise PostgresError(f"{' '.join(argv)} did not finish in {timeout} s{self._log_tail()}") from error

    def _initdb(self) -> None:
        argv = self._command(
            "initdb",
            "-D", str(self.data_dir),
            "-A", "trust",
            "-U", SUPERUSER,
            "--encoding=UTF8",
            f"--locale={utf8_locale()}",
            "--no-sync",
        )  # fmt: skip
        done = self._run(argv, timeout=120)
        if done.returncode != 0:
            raise PostgresError(f"initdb failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run(self._command("pg_ctl", "-D", str(self.data_dir), *args), timeout=START_TIMEOUT + 30)

    def _pg_ctl_start(self) -> None:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            **self.settings,
        }
        options = " ".join(f"-c {name}={value}" for name, value in settings.items())
        started = time.monotonic()
        done = self._pg_ctl("start", "-w", "-t", str(START_TIMEOUT), "-l", str(self.log_path), "-o", options)
        if done.returncode != 0:
            self._pg_ctl("stop", "-m", "immediate")  # in case it half started; harmless when it did not
            raise PostgresError(
                f"pg_ctl start failed ({done.returncode}) after {time.monotonic() - started:.1f} s on port "
                f"{self.port}:\n{done.stdout}{done.stderr}{self._log_tail()}"
            )

    def _log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, PostgresError):
            return ""

    def _log_tail(self, lines: int = 60) -> str:
        text = self._log_text()
        if not text:
            return "\n(no server log)"
        return "\nserver log:\n" + "\n".join(text.splitlines()[-lines:])

    def _remove_directory(self) -> None:
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None
