"""The engine stays pure: nothing in conversations/ imports Telegram, SQL, asyncio I/O or the other packages."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"telegram", "sqlite3", "aiosqlite", "asyncio", "httpx", "aiohttp", "socket", "bot", "storage"}
PACKAGE = Path(__file__).resolve().parents[2] / "conversations"


def imported_roots(source: Path) -> set[str]:
    """Top-level names of every module a file imports."""
    roots = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_nothing_in_conversations_imports_telegram_sql_or_asyncio_io() -> None:
    offenders = {f.name: imported_roots(f) & FORBIDDEN for f in PACKAGE.rglob("*.py")}
    assert {name: bad for name, bad in offenders.items() if bad} == {}
    assert len(offenders) >= 10
