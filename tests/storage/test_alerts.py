"""Alerts in storage: each answer whose words match an [[alerts]] entry is flagged in the transaction that stores it,
for every kind of text answer; flags count only on current answers, go with an erasure or a purge, and /stats lists
them first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conversations.alerts import flags_for
from conversations.events import Event, Press, Start, Text
from conversations.file.loader import load_consultation
from conversations.flow.engine import step
from conversations.model import Consultation
from conversations.screens import buttons
from conversations.screens.markup import plain
from storage import Database, StepRecord, changed_answers
from storage.export.figures import stats_message
from storage.stats import gather_stats
from tests.storage.builders import INTEGRITY_ERRORS, run_sql

EVERY_KIND = Path(__file__).resolve().parents[2] / "conversations" / "consultations" / "examples" / "every-kind.toml"
BUNDLED_DAY = datetime(2020, 11, 10, 12, 0, tzinfo=UTC)
EVERY_KIND_DAY = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TENANT = 31_337


def opt(question: str, option: str) -> Press:
    return Press(buttons.option_button_id(question, option))


@dataclass
class Tenant:
    """One tenant through the real engine, saved as the bot saves a step: flags computed from the changed answers."""

    db: Database
    consultation: Consultation
    user_id: int
    at: datetime

    async def send(self, *events: Event) -> None:
        for event in events:
            self.at += timedelta(minutes=1)
            loaded = await self.db.load_state(self.user_id, self.consultation.id)
            result = step(self.consultation, loaded.state, event, self.at)
            changed = changed_answers(result.state, result.changed)
            assert await self.db.apply_step(StepRecord(
                user_id=self.user_id, consultation_id=self.consultation.id,
                consultation_version=self.consultation.version, privacy_version=self.consultation.privacy_version,
                update_id=None, expected_revision=loaded.revision, state=result.state, changed=changed,
                transcript=(), at=self.at, flags=flags_for(self.consultation, changed)))


def bundled() -> Consultation:
    return load_consultation()


def every_kind() -> Consultation:
    return load_consultation(EVERY_KIND)


async def started(db: Database, consultation: Consultation, user_id: int = TENANT) -> Tenant:
    """A tenant who has agreed and is at the first question."""
    day = BUNDLED_DAY if consultation.id == bundled().id else EVERY_KIND_DAY
    tenant = Tenant(db, consultation, user_id, day)
    await tenant.send(Start(), Press(buttons.AGREE))
    if consultation.questions[0].id == "start_page":
        await tenant.send(Press(buttons.next_button_id("start_page")))
    return tenant


def flag_rows(db: Database) -> list[tuple[int, str, str]]:
    """Every flag in the file, current or not: (answer id, alert id, question id)."""
    rows = run_sql(db, "SELECT answer_id, alert_id, question_id FROM alert_flags ORDER BY answer_id")
    return [(int(str(a)), str(b), str(c)) for a, b, c in rows]


# ---------------------------------------------------------------- flagged as it is stored, every kind of text answer

KINDS: dict[str, tuple[Callable[[], Consultation], str, list[Event]]] = {
    "a text question's answer": (bundled, "q1_general", [Text("There is black mould in my bedroom")]),
    "the reason after a choice": (bundled, "q2_local_suppliers",
                                  [Press(buttons.next_button_id("q1_general")), opt("q2_local_suppliers", "agree"),
                                   Text("A local firm's man threatened my son")]),
    "the reason after a scale": (every_kind, "overall", [opt("overall", "very_dissatisfied"),
                                                         Text("Damp in every room and nobody comes")]),
    "the reason after a multi": (every_kind, "services_used",
                                 [opt("overall", "fairly_satisfied"), Press(buttons.skip_button_id("overall")),
                                  opt("repair_done", "no"), opt("services_used", "repairs"),
                                  Press(buttons.done_button_id("services_used")), Text("Repairs never fix the mould")]),
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_alerts_are_flagged_at_the_moment_of_storing_for_every_kind_of_text_answer(db: Database, kind: str
                                                                                         ) -> None:
    make, question_id, events = KINDS[kind]
    consultation = make()
    tenant = await started(db, consultation)
    await tenant.send(*events[:-1])
    assert await db.flagged_answers(consultation.id) == []
    await tenant.send(events[-1])  # the step that stores the words is the step that flags them

    flagged = await db.flagged_answers(consultation.id)
    answer = next(a for a in await db.current_answers(TENANT, consultation.id) if a.question_id == question_id)
    respondent = await db.respondent(TENANT)
    assert respondent is not None and len(flagged) == 1
    expected = "asb" if question_id == "q2_local_suppliers" else "damp_mould"
    assert (flagged[0].reference, flagged[0].question_id, flagged[0].alert_id) == (
        respondent.reference, question_id, expected)
    last = events[-1]
    assert isinstance(last, Text) and flagged[0].text == answer.answer.text == last.text
    assert flagged[0].flagged_at == answer.answered_at == tenant.at


async def test_an_answer_is_not_stored_without_its_flag(db: Database) -> None:
    consultation = bundled()
    tenant = await started(db, consultation)
    run_sql(db, "CREATE TRIGGER no_flags BEFORE INSERT ON alert_flags BEGIN SELECT RAISE(ABORT, 'no'); END",
            "CREATE FUNCTION no_flags() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'no' USING ERRCODE = 'integrity_constraint_violation'; END $$; "
            "CREATE TRIGGER no_flags BEFORE INSERT ON alert_flags FOR EACH ROW EXECUTE FUNCTION no_flags()")
    with pytest.raises(INTEGRITY_ERRORS):
        await tenant.send(Text("Mould on the walls"))
    assert await db.current_answers(TENANT, consultation.id) == [], "the answer went with its flag: one transaction"
    run_sql(db, "DROP TRIGGER no_flags", "DROP TRIGGER no_flags ON alert_flags")
    await tenant.send(Text("Mould on the walls"))
    assert [a.alert_id for a in await db.flagged_answers(consultation.id)] == ["damp_mould"]


async def test_an_answer_without_alert_words_is_not_flagged(db: Database) -> None:
    consultation = bundled()
    tenant = await started(db, consultation)
    await tenant.send(Text("Buy from local firms and fix kitchens faster"))
    assert flag_rows(db) == []


async def test_a_changed_answer_that_no_longer_matches_keeps_its_flag_only_in_history(db: Database) -> None:
    consultation = bundled()
    tenant = await started(db, consultation)
    await tenant.send(Text("Damp everywhere"), *(Press(buttons.skip_button_id(q.id)) for q in consultation.questions))
    await tenant.send(Press(buttons.change_button_id("q1_general")), Text("Actually it's fine now"))
    current = next(a for a in await db.current_answers(TENANT, consultation.id) if a.question_id == "q1_general")
    assert "Damp" not in (current.answer.text or "")
    assert await db.flagged_answers(consultation.id) == []
    assert [c.answers for c in await db.alert_counts(consultation.id, ("damp_mould",))] == [0]
    assert [row[1] for row in flag_rows(db)] == ["damp_mould"], "the old row keeps its flag, as history"


async def test_a_text_answer_sent_in_several_messages_is_flagged_once_as_it_stands(db: Database) -> None:
    consultation = bundled()
    tenant = await started(db, consultation)
    await tenant.send(Text("There is mould"), Text("and I smell gas in the hall"))
    flagged = await db.flagged_answers(consultation.id)
    assert sorted(f.alert_id for f in flagged) == ["damp_mould", "safety"]
    (text,) = {f.text for f in flagged}  # one current answer, holding both messages
    assert "There is mould" in text and "smell gas" in text


async def test_counts_per_alert_name_the_newest_references_first(db: Database) -> None:
    consultation = bundled()
    references = []
    for number in range(5):
        tenant = await started(db, consultation, TENANT + number)
        tenant.at += timedelta(hours=number)
        await tenant.send(Text(f"Mould, number {number}"))
        respondent = await db.respondent(TENANT + number)
        assert respondent is not None
        references.append(respondent.reference)
    ids = tuple(a.id for a in consultation.alerts)
    counts = {c.alert_id: c for c in await db.alert_counts(consultation.id, ids)}
    assert list(counts) == list(ids), "in the file's order"
    assert counts["damp_mould"].answers == 5 and counts["damp_mould"].newest == tuple(reversed(references))[:3]
    assert counts["safety"].answers == 0 and counts["safety"].newest == ()
    assert [f.reference for f in await db.flagged_answers(consultation.id, limit=2)] == references[::-1][:2]


# ---------------------------------------------------------------- erasure and retention take the flags too


async def test_an_erased_tenants_flags_are_gone(db: Database) -> None:
    consultation = bundled()
    await (await started(db, consultation)).send(Text("Black mould and my neighbour harasses me"))
    await (await started(db, consultation, TENANT + 1)).send(Text("Damp"))
    assert len(flag_rows(db)) == 3
    assert await db.erase_respondent(TENANT)
    assert [row[1] for row in flag_rows(db)] == ["damp_mould"], "only the neighbour's flag is left"
    assert [f.alert_id for f in await db.flagged_answers(consultation.id)] == ["damp_mould"]


async def test_a_retention_purge_takes_the_flags_too(db: Database) -> None:
    consultation = bundled()
    await (await started(db, consultation)).send(Text("Mould"))
    report = await db.purge_expired(consultation.id, consultation.closes_at, 0,
                                    consultation.closes_at + timedelta(days=1))
    assert report.due and report.answers == 1
    assert flag_rows(db) == []


# ---------------------------------------------------------------- opting in, and /stats


async def test_staff_opt_in_and_out_of_alert_messages_and_each_change_is_audited(db: Database) -> None:
    now = BUNDLED_DAY
    assert await db.set_alert_messages(900002, "c", True, now)
    assert not await db.set_alert_messages(900002, "c", True, now), "already on"
    assert await db.set_alert_messages(900001, "c", True, now)
    assert await db.alert_subscribers("c") == [900001, 900002]
    assert await db.alert_subscribers("another") == []
    assert await db.set_alert_messages(900002, "c", False, now)
    assert await db.alert_subscribers("c") == [900001]
    lines = [(e.actor_id, e.action, e.detail) for e in await db.audit_entries() if e.action == "alerts"]
    assert lines[0] == (900002, "alerts", "c: alert messages off") and len(lines) == 4


async def test_stats_list_the_alerts_first_with_counts_and_the_newest_references(db: Database) -> None:
    consultation = bundled()
    await (await started(db, consultation)).send(Text("Mould in the flat"))
    respondent = await db.respondent(TENANT)
    assert respondent is not None
    text = plain(stats_message(consultation, await gather_stats(db, consultation), BUNDLED_DAY))
    assert text.index("Alerts") < text.index("Started:") < text.index("Per question")
    assert f"Damp and mould: 1 · newest {respondent.reference}" in text
    assert "Self-harm or suicide: none" in text
    assert len(text) < 4096
