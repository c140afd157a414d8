"""The first schema: respondents, their conversations, answers with history, transcripts, dedup and audit."""

SQL = """
-- One row per tenant. No name or username: the reference is what exports show.
CREATE TABLE respondents (
    user_id INTEGER PRIMARY KEY,                 -- Telegram numeric id
    reference TEXT NOT NULL UNIQUE,              -- random, e.g. R-7KQ2M9
    first_seen TEXT NOT NULL,
    source TEXT CHECK (source IS NULL OR length(source) BETWEEN 1 AND 32),  -- /start payload, validated
    consent_privacy_version TEXT,
    consent_given_at TEXT,
    consent_withdrawn_at TEXT,
    reminders_opted_out INTEGER NOT NULL DEFAULT 0 CHECK (reminders_opted_out IN (0, 1)),
    blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1))
);

-- The engine's state per tenant and consultation, plus the columns exports and broadcasts filter on.
CREATE TABLE conversations (
    user_id INTEGER NOT NULL REFERENCES respondents (user_id) ON DELETE CASCADE,
    consultation_id TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1),   -- compare-and-set guard
    state TEXT NOT NULL,                               -- ConversationState.to_json()
    stage TEXT NOT NULL,
    consultation_version TEXT NOT NULL,                -- the wording last shown
    privacy_version TEXT,                              -- the notice agreed to
    started_at TEXT,
    consent_at TEXT,
    submitted_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, consultation_id)
);
CREATE INDEX conversations_by_consultation ON conversations (consultation_id, stage);

-- Every answer ever given; exactly one current row per question.
CREATE TABLE answers (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    consultation_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    choice TEXT,
    text TEXT,
    skipped INTEGER NOT NULL CHECK (skipped IN (0, 1)),
    answered_at TEXT NOT NULL,
    consultation_version TEXT NOT NULL,
    is_current INTEGER NOT NULL CHECK (is_current IN (0, 1)),
    FOREIGN KEY (user_id, consultation_id)
        REFERENCES conversations (user_id, consultation_id) ON DELETE CASCADE
);
CREATE INDEX answers_by_conversation ON answers (user_id, consultation_id, question_id, id);
CREATE UNIQUE INDEX answers_one_current ON answers (user_id, consultation_id, question_id) WHERE is_current = 1;
CREATE INDEX answers_current_by_consultation ON answers (consultation_id, question_id) WHERE is_current = 1;

-- Every message in and out, in order.
CREATE TABLE transcript (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    consultation_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    text TEXT NOT NULL,
    at TEXT NOT NULL,
    FOREIGN KEY (user_id, consultation_id)
        REFERENCES conversations (user_id, consultation_id) ON DELETE CASCADE
);
CREATE INDEX transcript_by_conversation ON transcript (user_id, consultation_id, id);
CREATE INDEX transcript_by_consultation ON transcript (consultation_id);

-- Telegram update ids already applied: a re-delivered update is a no-op. No user id, no content.
CREATE TABLE processed_updates (
    update_id INTEGER PRIMARY KEY,
    processed_at TEXT NOT NULL
);

-- Who did what. Append-only: the triggers refuse edits and deletions.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT 'ok'
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
"""

# The same step for PostgreSQL: Telegram ids and row ids BIGINT, times timestamptz (UTC), the same names throughout.
POSTGRES = """
CREATE TABLE respondents (
    user_id BIGINT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    first_seen timestamptz NOT NULL,
    source TEXT CHECK (source IS NULL OR length(source) BETWEEN 1 AND 32),
    consent_privacy_version TEXT,
    consent_given_at timestamptz,
    consent_withdrawn_at timestamptz,
    reminders_opted_out INTEGER NOT NULL DEFAULT 0 CHECK (reminders_opted_out IN (0, 1)),
    blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1))
);

CREATE TABLE conversations (
    user_id BIGINT NOT NULL REFERENCES respondents (user_id) ON DELETE CASCADE,
    consultation_id TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    state TEXT NOT NULL,
    stage TEXT NOT NULL,
    consultation_version TEXT NOT NULL,
    privacy_version TEXT,
    started_at timestamptz,
    consent_at timestamptz,
    submitted_at timestamptz,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, consultation_id)
);
CREATE INDEX conversations_by_consultation ON conversations (consultation_id, stage);

CREATE TABLE answers (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL,
    consultation_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    choice TEXT,
    text TEXT,
    skipped INTEGER NOT NULL CHECK (skipped IN (0, 1)),
    answered_at timestamptz NOT NULL,
    consultation_version TEXT NOT NULL,
    is_current INTEGER NOT NULL CHECK (is_current IN (0, 1)),
    FOREIGN KEY (user_id, consultation_id)
        REFERENCES conversations (user_id, consultation_id) ON DELETE CASCADE
);
CREATE INDEX answers_by_conversation ON answers (user_id, consultation_id, question_id, id);
CREATE UNIQUE INDEX answers_one_current ON answers (user_id, consultation_id, question_id) WHERE is_current = 1;
CREATE INDEX answers_current_by_consultation ON answers (consultation_id, question_id) WHERE is_current = 1;

CREATE TABLE transcript (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL,
    consultation_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    text TEXT NOT NULL,
    at timestamptz NOT NULL,
    FOREIGN KEY (user_id, consultation_id)
        REFERENCES conversations (user_id, consultation_id) ON DELETE CASCADE
);
CREATE INDEX transcript_by_conversation ON transcript (user_id, consultation_id, id);
CREATE INDEX transcript_by_consultation ON transcript (consultation_id);

CREATE TABLE processed_updates (
    update_id BIGINT PRIMARY KEY,
    processed_at timestamptz NOT NULL
);

CREATE TABLE audit_log (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    actor_id BIGINT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT 'ok'
);
CREATE INDEX audit_log_by_time ON audit_log (at);
-- SQLite's RAISE(ABORT) is a constraint error (sqlite3.IntegrityError); SQLSTATE 23000 makes this one
-- psycopg.IntegrityError, so callers catch the same kind of error on both backends.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- TRUNCATE skips row triggers, and SQLite has no such back door: refuse it too.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""
