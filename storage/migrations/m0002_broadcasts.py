"""Broadcasts and reminders: staff drafts, one job per message sent to many, one row per recipient."""

SQL = """
-- A staff member's /broadcast being put together, one row each: a restart part-way through loses nothing.
CREATE TABLE broadcast_drafts (
    staff_id INTEGER PRIMARY KEY,                -- Telegram numeric id of the staff member
    token TEXT NOT NULL,                         -- in the buttons' data: an old keyboard cannot act on a new draft
    step TEXT NOT NULL CHECK (step IN ('audience', 'compose', 'preview')),
    audience TEXT,
    text TEXT,                                   -- HTML, exactly as it will be sent
    updated_at TEXT NOT NULL
);

-- One message to many tenants: a staff broadcast, or one of the consultation file's reminders.
CREATE TABLE broadcasts (
    id INTEGER PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('staff', 'reminder')),
    reminder_id TEXT,                            -- the [[reminders]] id; NULL for a staff broadcast
    staff_id INTEGER,                            -- who sent it; NULL for a reminder
    audience TEXT NOT NULL,
    text TEXT NOT NULL,
    resume_button INTEGER NOT NULL DEFAULT 0 CHECK (resume_button IN (0, 1)),
    total INTEGER NOT NULL DEFAULT 0,            -- recipients when the job was written
    status TEXT NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'done')),
    progress_chat_id INTEGER,                    -- the one message edited with "Sent 1,200 of 4,310"
    progress_message_id INTEGER,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    CHECK ((kind = 'reminder') = (reminder_id IS NOT NULL))
);
-- Each reminder goes out once per consultation, whatever happens to the process.
CREATE UNIQUE INDEX broadcasts_one_per_reminder ON broadcasts (consultation_id, reminder_id)
    WHERE reminder_id IS NOT NULL;
CREATE INDEX broadcasts_by_status ON broadcasts (status, id);

-- Written with the job, before the first send; erasing a tenant removes their rows (and their message).
CREATE TABLE broadcast_recipients (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES respondents (user_id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'skipped', 'unknown')),
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before TEXT NOT NULL DEFAULT '',         -- UTC time of the next try after a failure; '' = at once
    PRIMARY KEY (broadcast_id, user_id)
) WITHOUT ROWID;
CREATE INDEX broadcast_recipients_queue ON broadcast_recipients (broadcast_id, status, not_before);
CREATE INDEX broadcast_recipients_by_user ON broadcast_recipients (user_id);
"""
