"""/themes against the real bot process: the workbook out, edited as Excel would, back in, reassigned, audited."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from storage import AuditEntry, Database
from tests.botapi import BotApiServer
from tests.e2e.harness import ADMIN_ID, STAFF_ID, BotProcess, Tenant, read_database
from tests.e2e.test_export import audit

pytestmark = pytest.mark.e2e
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORDS = [
    "Repairs take far too long, I waited months for the boiler",
    "The boiler repair took weeks and nobody came",
    "Repairs are slow and contractors miss appointments",
    "Use local firms so money stays in the community",
    "Local businesses should get the contracts and local jobs",
    "Buy from local suppliers and small local companies",
    "Think about the environment, electric vans and less waste",
    "Greener suppliers and recycling to cut carbon",
    "Keep the rent down, value for money matters",
    "nothing",
    "There is black mould and damp in the bedroom, please fix it",
]


def workbooks(api: BotApiServer) -> list[bytes]:
    """Every analysis.xlsx the admin has been sent, oldest first."""
    return [d.data for d in api.documents(ADMIN_ID) if d.filename == "analysis.xlsx"]


def sheet(data: bytes, name: str) -> list[list[object]]:
    """A sheet's values, headings first."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [list(row) for row in book[name].iter_rows(values_only=True)]
    finally:
        book.close()


def edited(data: bytes, changes: dict[str, dict[tuple[int, str], str]]) -> bytes:
    """Cells changed and saved with openpyxl, as Excel would save them."""
    book = load_workbook(io.BytesIO(data))
    for name, cells in changes.items():
        headings = [c.value for c in book[name][1]]
        for (row, heading), value in cells.items():
            book[name].cell(row=row, column=headings.index(heading) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_of(rows: list[list[object]], words: str) -> int:
    """The Excel row number of an answer."""
    return next(n for n, row in enumerate(rows, start=1) if row[1] == words)


def themes_audit(bot: BotProcess) -> list[AuditEntry]:
    """The audit lines of staff's theme changes."""
    return [e for e in audit(bot) if e.action == "themes"]


def test_admin_reviews_themes_in_excel_and_staff_decisions_survive_the_next_run(
        api: BotApiServer, bot: BotProcess, tmp_path: Path) -> None:
    for number, words in enumerate(WORDS):
        tenant = Tenant(api, 7100 + number)
        tenant.says("/start", expect="Is it OK")
        tenant.taps("I agree", expect="Question 1 of 5")
        tenant.says(words, expect="send more")
    admin = Tenant(api, ADMIN_ID)
    admin.says("/themes", expect="The workbook is above", timeout=90)
    first = workbooks(api)[0]
    answers = sheet(first, "Q1 answers")
    assert sorted(str(r[1]) for r in answers[1:]) == sorted(WORDS)
    assert load_workbook(io.BytesIO(first), read_only=True).sheetnames[0] == "Alerts", "alerts come first"
    alerts = sheet(first, "Alerts")
    assert [r[2:] for r in alerts[1:]] == [["Damp and mould", WORDS[-1]]] and alerts[1][1] == "Q1"
    assert answers[1][1] == WORDS[-1] and "alert" in str(answers[1][5]), "the alerted answer is listed first"
    assert all(str(7100 + n) not in str(r) for r in answers for n in range(len(WORDS))), "no Telegram ids"
    boiler, slow, local = (row_of(answers, WORDS[i]) for i in (0, 2, 3))
    upload = edited(first, {
        "Q1 themes": {(2, "name"): "Repairs and waiting"},
        "Q1 answers": {(boiler, "confirmed themes"): "Repairs and waiting", (slow, "confirmed themes"): "T1",
                       (local, "confirmed themes"): "none"},
    })
    api.send_document(ADMIN_ID, "analysis.xlsx", upload, XLSX)
    admin.wait("Applied", timeout=90)
    names = [d.filename for d in api.documents(ADMIN_ID)]
    assert names.count("analysis.xlsx") == 2 and "report.html" in names and "answers.html" in names
    second = workbooks(api)[1]
    assert sheet(second, "Q1 themes")[1][1] == "Repairs and waiting"
    now = {r[1]: r for r in sheet(second, "Q1 answers")[1:]}
    assert str(now[WORDS[0]][3]).startswith("T1 Repairs and waiting") and now[WORDS[3]][3] == "none"
    assert all(now[w][3] in (None, "") for w in WORDS[4:]), "the rest stay the machine's, unconfirmed"
    lines = themes_audit(bot)
    assert {e.actor_id for e in lines} == {ADMIN_ID}
    assert sum("confirmed as" in e.detail for e in lines) == 3 and any("renamed" in e.detail for e in lines)

    def sources() -> set[str]:
        async def read(db: Database) -> set[str]:
            return {row[0] for row in await db.reader.execute_fetchall("SELECT DISTINCT coder FROM theme_codes")}
        return read_database(bot, read)

    assert sources() == {"machine", "staff"}, "each assignment records who made it"
    admin.says("/themes", expect="The workbook is above", timeout=90)
    third = {r[1]: r for r in sheet(workbooks(api)[2], "Q1 answers")[1:]}
    for words in (WORDS[0], WORDS[2], WORDS[3]):
        assert third[words][3] == now[words][3], "a later run never overwrites staff"
    assert sheet(workbooks(api)[2], "Q1 themes")[1][1] == "Repairs and waiting"


def test_a_broken_workbook_gets_a_line_per_problem_and_a_tenants_workbook_is_refused(
        api: BotApiServer, bot: BotProcess) -> None:
    for number, words in enumerate(WORDS[:4]):
        tenant = Tenant(api, 7300 + number)
        tenant.says("/start", expect="Is it OK")
        tenant.taps("I agree", expect="Question 1 of 5")
        tenant.says(words, expect="send more")
    admin = Tenant(api, ADMIN_ID)
    admin.says("/themes", expect="The workbook is above", timeout=90)
    book = load_workbook(io.BytesIO(workbooks(api)[0]))
    book["Q1 answers"].cell(row=1, column=4, value="my themes")
    book["Q1 themes"].cell(row=2, column=6, value="T99")
    out = io.BytesIO()
    book.save(out)
    api.send_document(ADMIN_ID, "analysis.xlsx", out.getvalue(), XLSX)
    reply = admin.wait("nothing was changed", timeout=60)
    text = reply[-1].text or ""
    assert "no column 'confirmed themes'" in text and "'T99' under 'merge into'" in text
    assert not themes_audit(bot)
    api.send_document(tenant.user_id, "analysis.xlsx", out.getvalue(), XLSX)
    tenant.wait("only for housing association staff")
    refused = [e for e in audit(bot) if e.action == "themes upload" and e.outcome == "refused"]
    assert {e.actor_id for e in refused} == {ADMIN_ID, tenant.user_id}
    staff = Tenant(api, STAFF_ID)  # /themes is for admins: staff and tenants are refused, and audited as for /export
    for person in (tenant, staff):
        person.says("/themes", expect="only for housing association staff")
    tries = [e for e in audit(bot) if e.action == "themes" and e.outcome == "refused"]
    assert sorted(e.actor_id or 0 for e in tries) == sorted([tenant.user_id, STAFF_ID])
    assert len(workbooks(api)) == 1, "nobody but the admin was sent a workbook"
