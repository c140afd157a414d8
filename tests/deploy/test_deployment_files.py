"""The deployment files (Dockerfile, deploy/) read the way Docker, Compose, Caddy, nginx and systemd read them.

There is no Docker daemon here, so the files are parsed instead: the compose file with PyYAML and Compose's own
${VAR} rules, the Dockerfile and the Caddyfile with small parsers, the systemd unit with configparser. Every
environment variable a file names must be one the bot (or the image it is given to) reads, so a typo fails here.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml  # the dev extra

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
WORKERS = ("worker1", "worker2")

# Settings the webhook work adds (issue 15); they may not be in bot/settings.py yet.
WEBHOOK_SETTINGS = {"DATABASE_URL", "WEBHOOK_URL", "WEBHOOK_LISTEN", "WEBHOOK_PORT", "WEBHOOK_SECRET"}
# Read by Compose and Caddy only: the workers' WEBHOOK_URL is built from them, so the proxy cannot disagree.
DEPLOY_ONLY = {"WEBHOOK_HOST", "WEBHOOK_PATH"}
# Read by the postgres:15 image.
POSTGRES_IMAGE = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
# Read by Python and pip themselves.
INTERPRETER = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"}

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN")
BOT_TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
NAME = r"[A-Za-z_][A-Za-z0-9_]*"


# --- reading the files ------------------------------------------------------------------------------------------


def env_file_keys(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments and blank lines skipped), as Compose and systemd read them."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


class MissingVariable(Exception):
    """Compose's ${VAR:?message}: `docker compose up` stops with the message."""


_INTERPOLATION = re.compile(rf"\$\$|\$\{{({NAME})(?:(:?[-?])([^}}]*))?\}}|\$({NAME})")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err} and $$ (a literal $)."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        present = name in env
        empty = not env.get(name)
        if operator in (":-", "-") and (empty if operator == ":-" else not present):
            return argument
        if operator in (":?", "?") and (empty if operator == ":?" else not present):
            raise MissingVariable(f"{name}: {argument}")
        return env.get(name, "")

    return _INTERPOLATION.sub(one, value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment:`, in either of Compose's two spellings, as raw (uninterpolated) strings."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.partition("=")[::2] for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def filled_env() -> dict[str, str]:
    """deploy/.env.example as someone would fill it in (placeholders for the secrets it leaves empty)."""
    env = env_file_keys(DEPLOY / ".env.example")
    env.update(BOT_TOKEN="123456789:" + "A" * 35, POSTGRES_PASSWORD="pw-from-env", WEBHOOK_SECRET="secret-from-env")
    return env


def resolved_environment(name: str) -> dict[str, str]:
    env = filled_env()
    return {key: interpolate(value, env) for key, value in environment(services()[name]).items()}


def command(service: dict[str, Any]) -> list[str]:
    raw = service.get("command", [])
    return shlex.split(raw) if isinstance(raw, str) else list(raw)


def strings_in(node: Any) -> Iterator[str]:
    """Every string value (and mapping key) in a parsed YAML document: comments are not in it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)
    elif isinstance(node, str):
        yield node


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (INSTRUCTION, arguments), grouped by FROM; continuation lines joined."""
    stages: list[list[tuple[str, str]]] = []
    pieces: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker drops comment lines, inside a continued instruction too
        if stripped.endswith("\\"):
            pieces.append(stripped[:-1].strip())
            continue
        instr, _, arguments = " ".join([*pieces, stripped]).partition(" ")
        pieces = []
        if instr.upper() == "FROM":
            stages.append([])
        stages[-1].append((instr.upper(), arguments.strip()))
    return stages


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1]


def instruction(name: str) -> list[str]:
    return [arguments for instr, arguments in final_stage() if instr == name]


def exec_form(arguments: str) -> list[str]:
    """A JSON-array instruction (CMD, or HEALTHCHECK's CMD after its options)."""
    return json.loads(arguments[arguments.index("[") :])


@dataclass
class Block:
    """One Caddyfile directive: its words and, if it has braces, what is inside."""

    words: list[str]
    children: list[Block] = field(default_factory=list)

    def find(self, *words: str) -> list[Block]:
        return [child for child in self.children if child.words[: len(words)] == list(words)]


def caddyfile() -> Block:
    """A small Caddyfile reader: words per line, `{` opens a block, `}` closes it, `#` starts a comment."""
    root = Block(["(root)"])
    stack = [root]
    for line in (DEPLOY / "Caddyfile").read_text().splitlines():
        words = line.split("#", 1)[0].split() if not line.strip().startswith("#") else []
        if not words:
            continue
        if words == ["}"]:
            stack.pop()
            continue
        opens = words[-1] == "{"
        block = Block(words[:-1] if opens else words)
        stack[-1].children.append(block)
        if opens:
            stack.append(block)
    assert stack == [root], "the Caddyfile's braces do not balance"
    return root


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, empty_lines_in_values=False)
    parser.optionxform = str  # type: ignore[method-assign]  # systemd's keys are case-sensitive
    parser.read_string((DEPLOY / "consultation-bot.service").read_text())
    return parser


def readme_deploying_section() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Deploying\b.*?(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, "README.md has no '## Deploying' section"
    return match.group(0)


def names_the_bot_reads() -> set[str]:
    """Every setting name bot/settings.py mentions, every key of .env.example, and the webhook settings."""
    settings = (ROOT / "bot" / "settings.py").read_text()
    quoted = set(re.findall(r"[\"']([A-Z][A-Z0-9]*_[A-Z0-9_]+)[\"']", settings))
    return quoted | set(env_file_keys(ROOT / ".env.example")) | WEBHOOK_SETTINGS


# --- docker compose: PostgreSQL, two workers, the proxy -----------------------------------------------------------


def test_two_webhook_workers_run_against_the_postgres_service() -> None:
    all_services = services()
    postgres = {key: interpolate(value, filled_env()) for key, value in environment(all_services["postgres"]).items()}
    assert all_services["postgres"]["image"] == "postgres:15"
    for name in WORKERS:
        assert command(all_services[name]) == ["consultation-bot", "run", "--webhook"], name
        url = urlsplit(resolved_environment(name)["DATABASE_URL"])
        assert url.scheme == "postgresql", name
        assert url.hostname == "postgres" and url.port == 5432, name
        assert url.username == postgres["POSTGRES_USER"], name
        assert url.password == postgres["POSTGRES_PASSWORD"] == "pw-from-env", name
        assert url.path == "/" + postgres["POSTGRES_DB"], name


def test_both_workers_get_the_same_webhook_url_and_secret_and_listen_on_8080_in_their_container() -> None:
    seen = []
    for name in WORKERS:
        env = resolved_environment(name)
        assert env["WEBHOOK_URL"] == "https://bot.example.org/telegram", name
        assert env["WEBHOOK_SECRET"] == "secret-from-env", name
        assert env["WEBHOOK_LISTEN"] == "0.0.0.0", name
        assert env["WEBHOOK_PORT"] == "8080", name
        seen.append((env["WEBHOOK_URL"], env["WEBHOOK_SECRET"]))
    assert seen[0] == seen[1]


def test_workers_start_only_once_postgres_is_healthy_and_restart_unless_stopped() -> None:
    all_services = services()
    for name in WORKERS:
        worker = all_services[name]
        assert worker["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert worker["restart"] == "unless-stopped", name
        assert worker["env_file"] in (".env", [".env"]), name
        assert worker["build"] in ("..", {"context": ".."}), name
    postgres_check = " ".join(all_services["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in postgres_check


def test_workers_report_their_health_from_healthz_on_their_webhook_port() -> None:
    for name in WORKERS:
        check = services()[name]["healthcheck"]
        test = " ".join(check["test"])
        assert check["test"][0] == "CMD", name
        assert "http://127.0.0.1:8080/healthz" in test, name
        assert "curl" not in test and "wget" not in test, f"{name}: the slim image has neither"


def test_postgres_keeps_its_data_in_a_named_volume() -> None:
    document = compose()
    volumes = services()["postgres"]["volumes"]
    named = [volume.split(":")[0] for volume in volumes if volume.endswith(":/var/lib/postgresql/data")]
    assert named and named[0] in document["volumes"]


def test_only_the_proxy_publishes_ports_and_it_serves_https() -> None:
    for name, service in services().items():
        if name != "proxy":
            assert "ports" not in service, f"{name} publishes ports; only the proxy should"
    published = [str(port).split(":")[0] for port in services()["proxy"]["ports"]]
    assert "443" in published


def test_no_secret_is_written_into_the_compose_file() -> None:
    required = re.compile(rf"^\$\{{{NAME}(:?\?[^}}]*)?\}}$")
    for name, service in services().items():
        for key, value in environment(service).items():
            assert not BOT_TOKEN_SHAPE.search(value), f"{name}.{key} holds a bot token"
            if SECRET_NAME.search(key):
                assert required.match(value), f"{name}.{key} should come from deploy/.env as ${{{key}}}"
            if key == "DATABASE_URL":
                password = urlsplit(interpolate(value, {**filled_env(), "POSTGRES_PASSWORD": "only-here"})).password
                assert password == "only-here", f"{name}.DATABASE_URL should take its password from POSTGRES_PASSWORD"
        assert "BOT_TOKEN" not in environment(service), f"{name}: the token comes from the env_file"
    example = env_file_keys(DEPLOY / ".env.example")
    for key in ("BOT_TOKEN", "WEBHOOK_SECRET", "POSTGRES_PASSWORD"):
        assert example[key] == "", f"deploy/.env.example should leave {key} for the reader to fill in"


def test_compose_refuses_to_start_without_the_secrets() -> None:
    for secret in ("POSTGRES_PASSWORD", "WEBHOOK_SECRET"):
        env = {**filled_env(), secret: ""}
        with pytest.raises(MissingVariable, match=secret):
            for name in WORKERS:
                for value in environment(services()[name]).values():
                    interpolate(value, env)


def test_the_proxy_sends_the_update_path_to_both_workers_and_nothing_else() -> None:
    proxy = services()["proxy"]
    assert proxy["image"] == "caddy:2"
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    proxy_env = resolved_environment("proxy")
    worker_url = urlsplit(resolved_environment("worker1")["WEBHOOK_URL"])
    assert (proxy_env["WEBHOOK_HOST"], proxy_env["WEBHOOK_PATH"]) == (worker_url.hostname, worker_url.path)

    (site,) = caddyfile().children
    assert site.words == ["{$WEBHOOK_HOST}"]
    (updates,) = site.find("handle", "{$WEBHOOK_PATH}")
    (proxying,) = updates.find("reverse_proxy")
    upstreams = proxying.words[1:]
    assert sorted(upstreams) == [f"{name}:8080" for name in WORKERS]
    assert all(upstream.split(":")[0] in services() for upstream in upstreams)
    assert proxying.find("health_uri", "/healthz")
    (fallback,) = [block for block in site.find("handle") if block.words == ["handle"]]
    assert fallback.find("respond", "404"), "anything but the update path (/healthz too) should get 404"


def test_every_environment_variable_the_files_name_is_one_something_reads() -> None:
    allowed = names_the_bot_reads() | DEPLOY_ONLY | POSTGRES_IMAGE | INTERPRETER
    used: dict[str, set[str]] = {}

    def note(where: str, names: set[str]) -> None:
        for name in names:
            used.setdefault(name, set()).add(where)

    for name, service in services().items():
        note(f"compose {name}.environment", set(environment(service)))
    for text in strings_in(compose()):
        note("compose ${...}", set(re.findall(rf"\$\{{?({NAME})", text)))
    note("deploy/.env.example", set(env_file_keys(DEPLOY / ".env.example")))
    note("Caddyfile", set(re.findall(rf"\{{\$({NAME})", (DEPLOY / "Caddyfile").read_text())))
    for instr, arguments in final_stage() + dockerfile_stages()[0]:
        if instr == "ENV":
            note("Dockerfile ENV", {pair.split("=")[0] for pair in arguments.split()})
        note(f"Dockerfile {instr}", set(re.findall(rf"\$\{{?({NAME})", arguments)))
        note(f"Dockerfile {instr}", set(re.findall(rf"environ(?:\.get\(|\[)\s*['\"]({NAME})", arguments)))
    for line in unit()["Service"].get("Environment", "").split():
        note("systemd Environment=", {line.split("=")[0]})

    unknown = {name: sorted(places) for name, places in used.items() if name not in allowed}
    assert not unknown, f"names nothing reads (a typo?): {unknown}"
    assert {"WEBHOOK_PORT", "WEBHOOK_SECRET", "DATABASE_URL", "BOT_TOKEN"} <= set(used)


# --- the Dockerfile ------------------------------------------------------------------------------------------------


def test_the_image_is_python_311_slim_and_installs_the_bot_without_the_dev_extra() -> None:
    assert all(stage[0] == ("FROM", stage[0][1]) and stage[0][1].startswith("python:3.11-slim")
               for stage in dockerfile_stages())
    installs = " ".join(arguments for instr, arguments in final_stage() if "pip install" in arguments)
    assert installs and "[dev]" not in installs and "-e " not in installs


def test_the_image_runs_the_bot_as_a_non_root_user_that_owns_its_data_folder() -> None:
    steps = final_stage()
    order = [instr for instr, _ in steps]
    users = [arguments for instr, arguments in steps if instr == "USER"]
    assert users, "the image should switch to a USER"
    assert users[-1] not in ("root", "0") and not users[-1].startswith(("root:", "0:"))
    assert max(i for i, instr in enumerate(order) if instr == "USER") < order.index("CMD")
    setup = " ".join(arguments for instr, arguments in steps if instr == "RUN")
    assert "useradd" in setup and f" {users[-1]}" in setup
    assert f"chown {users[-1]}" in setup and "/app/data" in setup
    assert instruction("WORKDIR")[-1] == "/app"  # so sqlite:///data/consultation.db is /app/data/consultation.db
    assert exec_form(instruction("CMD")[-1]) == ["consultation-bot", "run"]


def test_the_image_declares_its_volume_port_stop_signal_and_healthcheck() -> None:
    assert "/app/data" in instruction("VOLUME")[-1]
    assert instruction("EXPOSE") == ["8080"]
    assert instruction("STOPSIGNAL") == ["SIGTERM"]
    (healthcheck,) = instruction("HEALTHCHECK")
    assert "/healthz" in healthcheck and "WEBHOOK_PORT" in healthcheck and "curl" not in healthcheck
    assert not any(pair.startswith("WEBHOOK_PORT=") for args in instruction("ENV") for pair in args.split()), (
        "WEBHOOK_PORT baked into the image would make the healthcheck fail in long-polling mode"
    )


class _Healthz(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _run_image_healthcheck(env: dict[str, str]) -> int:
    (healthcheck,) = instruction("HEALTHCHECK")
    argv = exec_form(healthcheck)
    assert argv[0] == "python"
    return subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30).returncode


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_image_healthcheck_follows_healthz_in_webhook_mode(status: int, healthy: bool) -> None:
    handler = type("Handler", (_Healthz,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code = _run_image_healthcheck({"WEBHOOK_PORT": str(server.server_address[1])})
    finally:
        server.shutdown()
        server.server_close()
    assert (code == 0) is healthy


def test_the_image_healthcheck_fails_when_nothing_answers_on_the_webhook_port() -> None:
    with HTTPServer(("127.0.0.1", 0), _Healthz) as server:
        port = server.server_address[1]  # bound, then closed: nothing listens there
    assert _run_image_healthcheck({"WEBHOOK_PORT": str(port)}) != 0


def test_the_image_healthcheck_passes_in_long_polling_mode() -> None:
    assert _run_image_healthcheck({}) == 0


def test_the_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for pattern in (".env", "deploy/.env", ".venv/", "data/", ".git/", "tests/"):
        assert pattern in ignored, pattern
    copied = " ".join(arguments for stage in dockerfile_stages() for instr, arguments in stage if instr == "COPY")
    assert "COPY . " not in f"COPY {copied}" and ".env" not in copied


# --- systemd and nginx ----------------------------------------------------------------------------------------------


def test_the_systemd_unit_runs_the_bot_as_its_own_user_and_restarts_on_failure() -> None:
    service = unit()["Service"]
    assert shlex.split(service["ExecStart"])[0].endswith("/consultation-bot")
    assert shlex.split(service["ExecStart"])[1:] == ["run"]
    assert service["User"] not in ("root", "0")
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/consultation-bot/env"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 10
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_systemd_unit_is_hardened_and_may_write_only_its_data_folder() -> None:
    service = unit()["Service"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes"}.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"].split() == [service["WorkingDirectory"]]


def test_the_nginx_example_proxies_only_the_update_path_to_both_workers() -> None:
    text = "\n".join(line.split("#", 1)[0] for line in (DEPLOY / "nginx.conf.example").read_text().splitlines())
    upstream = re.search(r"upstream (\w+) \{(.*?)\}", text, flags=re.S)
    assert upstream and len(re.findall(r"^\s*server \S+:\d+", upstream.group(2), flags=re.M)) == 2
    locations = re.findall(r"location ([^{]+)\{", text)
    assert [location.strip() for location in locations] == ["= /telegram", "/"]
    assert f"proxy_pass http://{upstream.group(1)};" in text
    assert "listen 443 ssl" in text
    assert re.search(r"location / \{\s*return 404;", text), "/healthz and the rest should not be public"


# --- the README -------------------------------------------------------------------------------------------------------


def test_the_readme_deploying_section_names_every_deployment_file() -> None:
    section = readme_deploying_section()
    files = ["Dockerfile", "deploy/docker-compose.yml", "deploy/Caddyfile", "deploy/.env.example",
             "deploy/consultation-bot.service", "deploy/nginx.conf.example"]
    for name in files:
        assert (ROOT / name).is_file(), name
        assert name in section, f"README's Deploying section does not mention {name}"
    for words in ("WEBHOOK_SECRET", "secrets.token_urlsafe", "setWebhook", "/healthz", "migrate-db"):
        assert words in section, words
