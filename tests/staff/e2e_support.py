"""End-to-end helpers for broadcasts: a staff member at the keyboard, a populated database, the server's log."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.botapi import BotApiServer, StoredMessage
from tests.e2e import harness
from tests.e2e.harness import STAFF_ID, BotProcess, Tenant, eventually, read_database
from tests.staff.population import Population, populate, populate_db

COUNT = re.compile(r"^(?P<label>.+) \((?P<count>[\d,]+)\)$")


class Staff(Tenant):
    """A staff member in their private chat with the bot."""

    def __init__(self, api: BotApiServer, user_id: int = STAFF_ID) -> None:
        super().__init__(api, user_id)

    def open_broadcast(self) -> dict[str, int]:
        """/broadcast; returns each audience button's label and the number on it."""
        new = self.says("/broadcast", expect="Who should get it?")
        menu = next(m for m in new if "Who should get it?" in (m.text or ""))
        counts = {}
        for text in menu.button_texts:
            match = COUNT.match(text)
            if match:
                counts[match["label"]] = int(match["count"].replace(",", ""))
        return counts

    def prepare(self, audience: str, text: str) -> int:
        """Choose the audience and type the message; returns the recipient count the preview shows."""
        self.taps_and_sees(audience, "Now type your message")
        new = self.says(text, expect="Send it now?")
        preview = next(m for m in new if "Send it now?" in (m.text or ""))
        match = re.search(r"Recipients: ([\d,]+)", preview.text or "")
        assert match, preview.text
        return int(match[1].replace(",", ""))

    def taps_and_sees(self, label: str, expect: str, timeout: float = 10) -> None:
        """Press a button whose message is then edited (not answered with a new one) to show `expect`."""
        message, data = self.find_exact_button(label)
        self.api.press_button(self.user_id, message.message_id, data)
        self.api.wait_for(lambda: expect in (self.api.message(self.user_id, message.message_id).text or ""),
                          timeout=timeout, what=f"the pressed message to show {expect!r}")

    def find_exact_button(self, label: str) -> tuple[StoredMessage, str]:
        """The newest button labelled exactly so (or so with a count after it)."""
        for message in reversed(self.messages()):
            for button in message.buttons:
                text = str(button.get("text", ""))
                if text == label or text.startswith(f"{label} ("):
                    return message, str(button["callback_data"])
        raise AssertionError(f"no button {label!r}; last message: {self.last_text()!r}")

    def confirm(self) -> None:
        """Tap Send (the message turns into the progress message; the report comes later)."""
        message, data = self.find_button("Send to")
        self.api.press_button(self.user_id, message.message_id, data)

    def wait_for_report(self, timeout: float = 60) -> dict[str, int]:
        """The final report's numbers."""
        def report_text() -> str:
            return next((m.text or "" for m in self.messages()[self.seen:] if "Broadcast finished" in (m.text or "")),
                        "")

        # Polled gently: waiting on the server's change signal would re-check after every one of thousands of sends.
        report = eventually(report_text, timeout, "the broadcast report")
        self.seen = len(self.messages())
        numbers = dict(re.findall(r"^([A-Za-z ]+): ([\d,]+)$", report, re.MULTILINE))
        result = {key.strip(): int(value.replace(",", "")) for key, value in numbers.items()}
        result["total"] = int(re.search(r"Of ([\d,]+) in all", report)[1].replace(",", ""))  # type: ignore[index]
        return result


def populated(bot: BotProcess, api: BotApiServer, counts: dict[str, int], **options: Any) -> Population:
    """Tenants written into the bot's database before it starts, and known to the server as chats."""
    if bot.on_sqlite:
        population = populate(Path(bot.database), counts, **options)
    else:
        population = read_database(bot, lambda db: populate_db(db, counts, **options))
    for user_id in population.everyone:
        api.add_chat(user_id)
    return population


def deliveries(api: BotApiServer, chats: set[int], containing: str = "") -> Counter[int]:
    """Messages (with this text) the server accepted (HTTP 200) per chat, from its own request log."""
    return Counter(r.params.get("chat_id") for r in api.requests("sendMessage")
                   if r.status == 200 and r.params.get("chat_id") in chats
                   and containing in str(r.params.get("text", "")))


def sent_so_far(bot: BotProcess) -> int:
    """Recipients the bot has recorded as delivered (cheap to poll, unlike copying the server's whole log)."""
    return int(query(bot, "SELECT count(*) FROM broadcast_recipients WHERE status = 'sent'")[0][0])


def query(bot: BotProcess, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the bot's database, SQLite or PostgreSQL, while it runs (readers never block it)."""
    return harness.query(bot, sql, *params)


def recipient_statuses(bot: BotProcess) -> Counter[str]:
    """broadcast_recipients rows by status."""
    return Counter({status: n for status, n in query(bot, "SELECT status, count(*) FROM broadcast_recipients "
                                                          "GROUP BY status")})


def wait_until_done(bot: BotProcess, timeout: float = 60) -> None:
    """Every broadcast job finished."""
    eventually(lambda: query(bot, "SELECT count(*) FROM broadcasts WHERE status = 'sending'")[0][0] == 0
               and query(bot, "SELECT count(*) FROM broadcasts")[0][0] > 0, timeout, "the broadcast to finish")


def timed_reply(tenant: Tenant, text: str, expect: str) -> float:
    """Seconds from a tenant's message to the bot's reply."""
    started = time.monotonic()
    tenant.says(text, expect=expect, timeout=10)
    return time.monotonic() - started
