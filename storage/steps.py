"""Loading a tenant's state and saving one engine step: state, answers, transcript and update id together."""

from __future__ import annotations

import json
import sqlite3

import aiosqlite

from conversations.state import ConversationState
from storage import dialect, respondents
from storage.records import LoadedState, StaleStateError, StepRecord
from storage.timestamps import to_db, to_db_or_none


def encode_state(state: ConversationState) -> str:
    """Compact JSON that keeps non-ASCII text readable in the file (and findable by the erasure test)."""
    return json.dumps(state.to_json(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode_state(text: str) -> ConversationState:
    """The state encode_state wrote."""
    return ConversationState.from_json(json.loads(text))


async def load(conn: aiosqlite.Connection, user_id: int, consultation_id: str) -> LoadedState:
    """One read: the saved state and revision, or a fresh state at revision 0; the reference when known."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT r.reference, c.state, c.revision FROM respondents r "
            "LEFT JOIN conversations c ON c.user_id = r.user_id AND c.consultation_id = ? "
            "WHERE r.user_id = ?",
            (consultation_id, user_id),
        )
    )
    if not rows:
        return LoadedState(ConversationState(), 0, None)
    row = rows[0]
    if row["state"] is None:
        return LoadedState(ConversationState(), 0, row["reference"])
    return LoadedState(decode_state(row["state"]), int(row["revision"]), row["reference"])


async def is_processed(conn: aiosqlite.Connection, update_id: int) -> bool:
    """True when this Telegram update was already applied."""
    rows = await conn.execute_fetchall("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,))
    return bool(list(rows))


async def apply(conn: aiosqlite.Connection, record: StepRecord) -> bool:
    """Inside an open write transaction: save one step, or return False for an update already applied."""
    await dialect.lock_tenant(conn, record.user_id)  # PostgreSQL: one step of a tenant at a time across workers
    # One round trip for both checks: was this update applied, and where is the saved state now?
    rows = list(
        await conn.execute_fetchall(
            "SELECT EXISTS (SELECT 1 FROM processed_updates WHERE update_id = ?) AS seen, "
            "c.revision, c.consent_at, c.privacy_version FROM (SELECT 1) AS one "
            "LEFT JOIN conversations c ON c.user_id = ? AND c.consultation_id = ?",
            (record.update_id, record.user_id, record.consultation_id),
        )
    )
    if rows[0]["seen"]:
        return False
    previous = rows[0] if rows[0]["revision"] is not None else None
    revision = int(previous["revision"]) if previous else 0
    if revision != record.expected_revision:
        why = "it no longer exists (erased or purged)" if previous is None else f"it is now at revision {revision}"
        raise StaleStateError(
            f"state of user {record.user_id} in {record.consultation_id} was loaded at revision "
            f"{record.expected_revision} but {why}: reload and run the step again"
        )
    if revision == 0:  # a conversation row implies its respondent row (foreign key)
        await respondents.ensure(conn, record.user_id, record.state.source, record.at)
    privacy_version = await _save_consent(conn, record, previous)
    await _save_state(conn, record, revision, privacy_version)
    await _save_answers(conn, record)
    await _save_transcript(conn, record)
    if record.update_id is not None:
        await _mark_processed(conn, record)
    return True


async def _save_consent(conn: aiosqlite.Connection, record: StepRecord, previous: sqlite3.Row | None) -> str | None:
    """Derive consent given/withdrawn from the state's consent_at; returns the privacy version now agreed."""
    before = previous["consent_at"] if previous else None
    now = to_db_or_none(record.state.consent_at)
    if now is not None and now != before:
        await respondents.record_consent(conn, record.user_id, record.state.consent_at, None, record.privacy_version)
        return record.privacy_version
    if now is None:
        if before is not None:
            await respondents.record_consent(conn, record.user_id, None, record.at, record.privacy_version)
        return None
    return previous["privacy_version"] if previous else None


async def _save_state(
    conn: aiosqlite.Connection, record: StepRecord, revision: int, privacy_version: str | None
) -> None:
    """Insert or compare-and-set the conversation row, with the columns exports filter on."""
    state = record.state
    values = (
        revision + 1, encode_state(state), state.stage.value, record.consultation_version, privacy_version,
        to_db_or_none(state.started_at), to_db_or_none(state.consent_at), to_db_or_none(state.submitted_at),
        to_db(record.at), record.user_id, record.consultation_id,
    )
    if revision == 0:
        await conn.execute(
            "INSERT INTO conversations (revision, state, stage, consultation_version, privacy_version, started_at, "
            "consent_at, submitted_at, updated_at, user_id, consultation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        return
    async with conn.execute(
        "UPDATE conversations SET revision = ?, state = ?, stage = ?, consultation_version = ?, privacy_version = ?, "
        "started_at = ?, consent_at = ?, submitted_at = ?, updated_at = ? "
        "WHERE user_id = ? AND consultation_id = ? AND revision = ?",
        (*values, revision),
    ) as cursor:
        if cursor.rowcount != 1:
            raise StaleStateError(f"state of user {record.user_id} changed under a held write lock")


async def _save_answers(conn: aiosqlite.Connection, record: StepRecord) -> None:
    """Each change is a new current row; the row it replaces stays as history (with any alert flags it had). None
    leaves no current row (a question routed back in, to be asked again)."""
    for question_id, answer in record.changed.items():
        key = (record.user_id, record.consultation_id, question_id)
        await conn.execute(
            "UPDATE answers SET is_current = 0 "
            "WHERE user_id = ? AND consultation_id = ? AND question_id = ? AND is_current = 1",
            key,
        )
        if answer is None:
            continue
        cursor = await conn.execute(
            "INSERT INTO answers (user_id, consultation_id, question_id, choice, text, skipped, choices, number, "
            "shown, answered_at, consultation_version, is_current) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
            "RETURNING id",
            (*key, answer.choice, answer.text, int(answer.skipped), ",".join(answer.choices) or None, answer.number,
             int(answer.shown), to_db(record.at), record.consultation_version),
        )
        row = await cursor.fetchone()
        assert row is not None  # RETURNING gives the new row's id
        answer_id = row[0]
        alerts = record.flags.get(question_id, ())
        if alerts:  # in the same transaction as the answer: flagged the moment it is stored, or not at all
            await conn.executemany(
                "INSERT INTO alert_flags (answer_id, alert_id, consultation_id, question_id, flagged_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(answer_id, alert_id, record.consultation_id, question_id, to_db(record.at))
                 for alert_id in dict.fromkeys(alerts)],
            )


async def _save_transcript(conn: aiosqlite.Connection, record: StepRecord) -> None:
    """The step's messages in order; the row id keeps the order across steps."""
    await conn.executemany(
        "INSERT INTO transcript (user_id, consultation_id, direction, text, at) VALUES (?, ?, ?, ?, ?)",
        [(record.user_id, record.consultation_id, ln.direction, ln.text, to_db(ln.at)) for ln in record.transcript],
    )


async def _mark_processed(conn: aiosqlite.Connection, record: StepRecord) -> None:
    """Last, so a failure anywhere before leaves the update free to be tried again."""
    await conn.execute(
        "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)", (record.update_id, to_db(record.at))
    )
