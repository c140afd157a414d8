"""The authorisation matrix: every staff and admin command and button, from everyone who might try it.

Only the right people succeed, in their own private chat, by typing the command themselves; every refusal is
audited. A staff member's broadcast keyboard does nothing for anyone else, even another admin.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from storage import AuditEntry
from tests.botapi import BotApiServer
from tests.e2e.harness import ADMIN_ID, STAFF_ID, BotProcess, Tenant, eventually, read_database
from tests.faults.conftest import assert_logs_clean
from tests.faults.figures import record

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.both_modes]
TENANT_ID, STRANGER_ID, GROUP_ID = 7100001, 7100002, -1007100
SUCCESS = {"broadcast": "Who should get it?", "stats": "how it is going"}
EXPECTED = {  # who succeeds with each command
    "broadcast": {"staff", "admin"},
    "stats": {"staff", "admin"},
    "export": {"admin"},
}


def audit(bot: BotProcess) -> list[AuditEntry]:
    """The bot's audit log, newest first."""
    return read_database(bot, lambda db: db.audit_entries(500))


def send_as(api: BotApiServer, who: str, command: str) -> int:
    """Send a command as one of the people in the matrix; returns the chat the answer would go to."""
    entity = [{"type": "bot_command", "offset": 0, "length": len(command) + 1}]
    if who == "group":
        api.send_text(STAFF_ID, f"/{command}", chat_type="group", chat_id=GROUP_ID)
        return GROUP_ID
    if who == "forwarded":  # the admin forwards someone else's message that happens to be the command
        origin = {"type": "user", "date": 1, "sender_user": {"id": STAFF_ID, "is_bot": False, "first_name": "S"}}
        api.send_message(ADMIN_ID, text=f"/{command}", entities=entity, forward_origin=origin)
        return ADMIN_ID
    user = {"tenant": TENANT_ID, "stranger": STRANGER_ID, "staff": STAFF_ID, "admin": ADMIN_ID}[who]
    api.send_text(user, f"/{command}")
    return user


def succeeded(api: BotApiServer, chat: int, command: str, before: int, documents_before: int) -> bool:
    """Did the command do its job in that chat (rather than refuse)?"""
    if command == "export":  # the four files, all of them, so none arrives late in the next case
        return len(api.documents(chat)) >= documents_before + 4
    return any(SUCCESS[command] in (m.text or "") for m in api.sent_messages(chat)[before:])


def test_only_the_right_people_can_use_staff_and_admin_commands_and_buttons(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], bot_mode: str
) -> None:
    bot = bot_factory().start()
    Tenant(api, TENANT_ID).says("/start", expect="Is it OK")
    for user in (STAFF_ID, ADMIN_ID):
        api.add_chat(user, "private")
    api.add_chat(GROUP_ID, "group")
    outcomes: dict[tuple[str, str], bool] = {}
    for command in ("broadcast", "stats", "export"):
        for who in ("tenant", "stranger", "staff", "admin", "group", "forwarded"):
            chat = {"group": GROUP_ID, "forwarded": ADMIN_ID, "tenant": TENANT_ID, "stranger": STRANGER_ID,
                    "staff": STAFF_ID, "admin": ADMIN_ID}[who]
            before, documents_before = len(api.sent_messages(chat)), len(api.documents(chat))
            audits_before = len(audit(bot))
            send_as(api, who, command)
            should = who in EXPECTED[command]
            if should:
                eventually(lambda c=chat, b=before, d=documents_before, cmd=command: succeeded(api, c, cmd, b, d),
                           timeout=30, what=f"{who} to succeed with /{command}")
            else:
                eventually(lambda n=audits_before: len(audit(bot)) > n, timeout=15,
                           what=f"{who}'s /{command} to be refused and audited")
            outcomes[(command, who)] = succeeded(api, chat, command, before, documents_before)
    wrong = {k: v for k, v in outcomes.items() if v != (k[1] in EXPECTED[k[0]])}
    refusals = [e for e in audit(bot) if e.outcome == "refused"]
    expected_refusals = sum(1 for (command, who) in outcomes if who not in EXPECTED[command])

    # A staff member's broadcast keyboard, pressed by anyone else, does nothing and is audited.
    keyboard = next(m for m in reversed(api.sent_messages(STAFF_ID)) if "Who should get it?" in (m.text or ""))
    data = keyboard.buttons[0]["callback_data"]
    pressers = [TENANT_ID, STRANGER_ID, ADMIN_ID]
    refused_before = len(refusals)
    for presser in pressers:  # the keyboard forwarded: each presses a copy in their own chat
        api.press_button(presser, api.sent_messages(presser)[-1].message_id, data)
    eventually(lambda: len([e for e in audit(bot) if e.outcome == "refused"]) >= refused_before + len(pressers),
               timeout=15, what="the forwarded-keyboard presses to be refused")
    staff_messages = [m.text for m in api.sent_messages(STAFF_ID)]
    assert bot.stop() == 0
    record("authorisation", "authorisation matrix (3 commands x 6 senders, plus a forwarded staff keyboard)",
           mode=bot_mode,
           attempts=len(outcomes), wrong_outcomes=len(wrong), refusals_audited=len(refusals),
           refusals_expected=expected_refusals, keyboard_presses_by_others=len(pressers),
           keyboard_presses_obeyed=sum("Now type your message" in (t or "") for t in staff_messages))
    assert wrong == {}
    assert len(refusals) >= expected_refusals
    assert not any("Now type your message" in (t or "") for t in staff_messages)
    assert_logs_clean(bot, [])
