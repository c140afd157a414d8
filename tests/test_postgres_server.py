"""The throwaway PostgreSQL server the storage tests run on: it starts, gives each test a database, and goes away."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests import conftest
from tests.postgres_server import INSTALL_HINT, PostgresError, PostgresServer, find_bin_dir

pytestmark = pytest.mark.postgres


def test_the_session_server_listens_on_loopback_with_fsync_on(postgres_server: PostgresServer) -> None:
    assert postgres_server.running
    with postgres_server.connect() as conn:
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'listen_addresses', 'server_encoding', 'port')"
            ).fetchall()
        )
    assert settings == {
        "fsync": "on",  # the durability tests need a server that really syncs
        "synchronous_commit": "on",
        "listen_addresses": "127.0.0.1",
        "server_encoding": "UTF8",
        "port": str(postgres_server.port),
    }
    assert postgres_server.admin_url == f"postgresql://postgres@127.0.0.1:{postgres_server.port}/postgres"


def test_each_test_gets_an_empty_database_of_its_own(postgres_url: str) -> None:
    assert postgres_url.rsplit("/", 1)[1].startswith("t_")
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE big (id BIGINT PRIMARY KEY)")
        conn.execute("INSERT INTO big VALUES (%s)", (2**40,))
        assert conn.execute("SELECT id FROM big").fetchone() == (2**40,)


def test_a_database_is_created_used_and_dropped_even_with_a_connection_open(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("Odd name; with quote'")
    assert url.endswith("/Odd%20name%3B%20with%20quote%27")
    conn = psycopg.connect(url, autocommit=True)
    assert conn.execute("SELECT current_database()").fetchone() == ("Odd name; with quote'",)
    postgres_server.drop_database("Odd name; with quote'")  # cuts the open connection rather than waiting on it
    conn.close()
    with postgres_server.connect() as admin:
        left = admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s", ("Odd name; with quote'",))
        assert left.fetchone() == (0,)
    postgres_server.drop_database("Odd name; with quote'")  # a second drop is a no-op


def test_a_server_of_its_own_starts_and_stops_leaving_nothing_behind() -> None:
    server = PostgresServer(conftest.installed_postgres())
    with server:
        base, port = server.base, server.port
        assert base is not None and base.is_dir() and str(base).startswith("/tmp/")
        if os.geteuid() == 0:  # initdb and the server ran as postgres, over a directory postgres owns
            assert Path(base, "data").owner() == "postgres"
            assert Path(base, "socket").owner() == "postgres"
        url = server.create_database("mine")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    assert not server.running
    assert not base.exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "nothing listens on the port any more"
    server.stop()  # stopping twice is harmless


def test_a_server_that_cannot_start_says_why_and_leaves_no_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(**options: str) -> str:
        made.append(Path(real_mkdtemp(**options)))
        return str(made[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    server = PostgresServer(conftest.installed_postgres(), settings={"shared_buffers": "lots"})
    with pytest.raises(PostgresError, match=r"pg_ctl start failed[\s\S]*server log:[\s\S]*shared_buffers"):
        server.start()
    assert server.base is None and not server.running
    assert len(made) == 1 and not made[0].exists()


def test_the_newest_installed_version_is_chosen(tmp_path: Path) -> None:
    for version, tools in {"9.6": ("initdb", "pg_ctl"), "13": ("initdb", "pg_ctl"), "16": ("initdb",)}.items():
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        for tool in tools:
            (bin_dir / tool).write_text("#!/bin/sh\n")
            (bin_dir / tool).chmod(0o755)
    (tmp_path / "README").write_text("not a version")
    assert find_bin_dir(tmp_path) == tmp_path / "13" / "bin"  # 16 has no pg_ctl
    assert find_bin_dir(tmp_path / "absent") is None


@pytest.mark.parametrize(
    ("environment", "outcome"),
    [
        ({}, pytest.skip.Exception),
        ({"CI": "true"}, pytest.fail.Exception),
        ({"REQUIRE_POSTGRES": "1"}, pytest.fail.Exception),
    ],
)
def test_without_postgresql_the_tests_skip_except_in_ci_where_they_fail(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], outcome: type[BaseException]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("REQUIRE_POSTGRES", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(conftest, "find_bin_dir", lambda: None)
    with pytest.raises(outcome, match="PostgreSQL is not installed"):
        conftest.installed_postgres()
    assert INSTALL_HINT.endswith("apt-get install postgresql")
