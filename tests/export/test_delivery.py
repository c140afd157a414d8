"""/export's sending: small files as they are, big ones zipped when that helps, and none over Telegram's limit."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest

from bot.runtime import Runtime
from bot.settings import Settings
from bot.staff.admin_handlers import ZIP_OVER, deliver
from storage import Database
from storage.export import ExportFile
from tests.export.builders import bundled

ADMIN = 900001


@dataclass
class RecordingBot:
    """Stands in for telegram.Bot: keeps what would have been sent."""

    documents: list[tuple[str, bytes, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    refuse: bool = False

    async def send_document(self, chat_id: int, document: Path, filename: str, caption: str, **_: Any) -> None:
        if self.refuse:
            raise BadRequest("Request Entity Too Large")
        self.documents.append((filename, document.read_bytes(), caption))

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.messages.append(text)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = Runtime(settings=Settings(bot_token=""), consultation=bundled())
    runtime.database = await Database.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield runtime
    await runtime.database.close()


def export_file(folder: Path, name: str, fmt: str, data: bytes) -> ExportFile:
    path = folder / name
    path.write_bytes(data)
    return ExportFile(fmt, path, len(data))


async def test_a_small_file_is_sent_as_it_is(runtime: Runtime, tmp_path: Path) -> None:
    bot = RecordingBot()
    file = export_file(tmp_path, "report.html", "html", b"<!DOCTYPE html><p>hello</p>")
    assert await deliver(bot, runtime, ADMIN, ADMIN, file)  # type: ignore[arg-type]
    assert bot.documents == [("report.html", b"<!DOCTYPE html><p>hello</p>", runtime.say("export_caption_html"))]


async def test_a_big_csv_is_zipped_because_that_makes_it_smaller(runtime: Runtime, tmp_path: Path) -> None:
    bot = RecordingBot()
    data = b"reference,status\r\n" + b"R-000001,finished\r\n" * (ZIP_OVER // 10)
    assert await deliver(bot, runtime, ADMIN, ADMIN, export_file(tmp_path, "responses.csv", "csv", data))  # type: ignore[arg-type]
    (name, sent, caption), = bot.documents
    assert name == "responses.csv.zip" and len(sent) < len(data) // 10
    assert caption.endswith("(zipped to make it smaller)")
    with zipfile.ZipFile(tmp_path / "responses.csv.zip") as archive:
        assert archive.read("responses.csv") == data


async def test_a_file_over_the_limit_is_not_sent_and_the_admin_is_told_the_command_line(
    runtime: Runtime, tmp_path: Path
) -> None:
    bot = RecordingBot()
    file = export_file(tmp_path, "responses.xlsx", "xlsx", b"PK" + bytes(5000))
    assert not await deliver(bot, runtime, ADMIN, ADMIN, file, limit=4000)  # type: ignore[arg-type]
    assert bot.documents == []
    (message,) = bot.messages
    assert "responses.xlsx" in message and "50 MB" in message
    assert "consultation-bot export --out exports --only xlsx" in message
    (entry,) = await runtime.db.audit_entries(1)
    assert (entry.actor_id, entry.action, entry.outcome) == (ADMIN, "export", "too large")


async def test_a_file_telegram_refuses_is_reported_with_the_command_line(runtime: Runtime, tmp_path: Path) -> None:
    bot = RecordingBot(refuse=True)
    file = export_file(tmp_path, "report.html", "html", b"<p>x</p>")
    assert not await deliver(bot, runtime, ADMIN, ADMIN, file)  # type: ignore[arg-type]
    assert "consultation-bot export --out exports --only html" in bot.messages[0]
    (entry,) = await runtime.db.audit_entries(1)
    assert entry.outcome == "not sent"
