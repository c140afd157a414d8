"""/export and /stats against the real bot process: admins get the files, everyone else is refused and audited."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from storage import AuditEntry
from tests.botapi import BotApiServer
from tests.e2e.harness import ADMIN_ID, STAFF_ID, BotProcess, Tenant, eventually, read_database

pytestmark = pytest.mark.e2e
# both_modes: the refusals and the full export; choosing formats and /stats stay in polling (time: make test)
NOT_ALLOWED = "only for housing association staff"
STRANGER_ID = 5550777
FILES = ["answers.html", "report.html", "responses.csv", "responses.xlsx", "transcripts.zip"]


def audit(bot: BotProcess) -> list[AuditEntry]:
    """The bot's audit log, newest first, read from its database."""
    return read_database(bot, lambda db: db.audit_entries(50))


@pytest.mark.both_modes
def test_a_tenant_a_staff_member_and_a_stranger_are_refused_export_and_each_try_is_audited(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start", expect="Is it OK")
    staff, stranger = Tenant(api, STAFF_ID), Tenant(api, STRANGER_ID)
    for person in (tenant, staff, stranger):
        person.says("/export", expect=NOT_ALLOWED)
    api.send_text(tenant.user_id, "/export", chat_type="group", chat_id=-100555)  # from a group: refused quietly

    def attempts() -> list[AuditEntry] | None:
        found = [e for e in audit(bot) if e.action == "export"]
        return found if len(found) >= 4 else None

    refused = eventually(attempts, what="four export attempts in the audit log")
    assert {entry.outcome for entry in refused} == {"refused"}
    assert sorted(entry.actor_id or 0 for entry in refused) == sorted(
        [tenant.user_id, STAFF_ID, STRANGER_ID, tenant.user_id])
    assert {entry.detail for entry in refused} == {"needs admin: not on the list", "needs admin: group chat"}
    assert api.documents() == []
    assert not any(e.action == "export" and e.outcome == "ok" for e in audit(bot))


@pytest.mark.both_modes
def test_the_admin_gets_every_file_pseudonymous_and_the_export_is_audited(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("=HYPERLINK(\"http://x.example\") and local builders, please", expect="send more")
    admin = Tenant(api, ADMIN_ID)
    admin.says("/export", expect="Export finished", timeout=60)
    documents = {d.filename: d for d in api.documents(ADMIN_ID)}
    assert sorted(documents) == FILES
    rows = list(csv.DictReader(io.StringIO(documents["responses.csv"].data.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["status"] == "partial"
    assert rows[0]["Q1 text"] == "'=HYPERLINK(\"http://x.example\") and local builders, please"
    assert rows[0]["reference"].startswith("R-") and "telegram_id" not in rows[0]
    for name in ("responses.csv", "report.html", "answers.html"):
        assert str(tenant.user_id).encode() not in documents[name].data
    with zipfile.ZipFile(io.BytesIO(documents["transcripts.zip"].data)) as archive:
        assert f"transcripts/{rows[0]['reference']}.txt" in archive.namelist()
    assert documents["report.html"].data.startswith(b"<!DOCTYPE html>")
    assert b"and local builders, please" in documents["answers.html"].data  # the words are in the appendix
    assert b"and local builders, please" not in documents["report.html"].data
    assert "1 respondents (0 finished, 1 partial)" in admin.last_text()
    done = [e for e in audit(bot) if e.action == "export" and e.outcome == "ok"]
    assert len(done) == 1 and done[0].actor_id == ADMIN_ID
    assert "formats=csv,xlsx,jsonl,html; identities=no; via=telegram" in done[0].detail


def test_the_admin_can_ask_for_some_files_and_is_told_the_formats_when_a_name_is_wrong(
    api: BotApiServer, bot: BotProcess
) -> None:
    admin = Tenant(api, ADMIN_ID)
    admin.says("/export pdf", expect="not an export format")
    assert api.documents(ADMIN_ID) == []
    admin.says("/export html", expect="Export finished", timeout=60)
    assert [d.filename for d in api.documents(ADMIN_ID)] == ["report.html", "answers.html"]


def test_staff_see_the_stats_and_a_tenant_and_a_stranger_are_refused(
    api: BotApiServer, bot: BotProcess, tenant: Tenant
) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    staff = Tenant(api, STAFF_ID)
    text = "\n".join(m.text or "" for m in staff.says("/stats", expect="how it is going"))
    for line in ("Started: 1", "Agreed to take part: 1", "Finished (sent their answers): 0",
                 "Partial (agreed, not sent yet): 1", "Reminders sent: 0", "Closes in 29 days"):
        assert line in text
    for person in (tenant, Tenant(api, STRANGER_ID)):
        person.says("/stats", expect=NOT_ALLOWED)
    refused = [e.actor_id for e in audit(bot) if e.action == "stats" and e.outcome == "refused"]
    assert sorted(refused) == sorted([tenant.user_id, STRANGER_ID])
