"""Alerts (issue 14): answers flagged because their words need a person, and the staff who asked to be told.

A flag belongs to one answer row and goes with it: erasing a tenant or purging a consultation deletes the answers,
and the cascade (and the explicit deletes in storage/respondents.py and storage/maintenance.py) take the flags too.
A changed answer is a new row; the old row keeps its flags as history, and only flags on current rows are counted.
"""

SQL = """
-- One row per answer and alert it matched, written in the same transaction as the answer. No text, no user id.
CREATE TABLE alert_flags (
    answer_id INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    alert_id TEXT NOT NULL,                      -- the [[alerts]] id in the consultation file
    consultation_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    flagged_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, alert_id)
) WITHOUT ROWID;
CREATE INDEX alert_flags_by_consultation ON alert_flags (consultation_id, flagged_at);

-- Staff who sent /alerts on: each gets a private message when an answer is flagged.
CREATE TABLE alert_subscribers (
    staff_id INTEGER NOT NULL,                   -- Telegram numeric id of the staff member
    consultation_id TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (staff_id, consultation_id)
) WITHOUT ROWID;
"""

# The same step for PostgreSQL (WITHOUT ROWID has no counterpart: every PostgreSQL table is a heap).
POSTGRES = """
CREATE TABLE alert_flags (
    answer_id BIGINT NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    alert_id TEXT NOT NULL,
    consultation_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    flagged_at timestamptz NOT NULL,
    PRIMARY KEY (answer_id, alert_id)
);
CREATE INDEX alert_flags_by_consultation ON alert_flags (consultation_id, flagged_at);

CREATE TABLE alert_subscribers (
    staff_id BIGINT NOT NULL,
    consultation_id TEXT NOT NULL,
    since timestamptz NOT NULL,
    PRIMARY KEY (staff_id, consultation_id)
);
"""
