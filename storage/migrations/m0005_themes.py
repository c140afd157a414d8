"""Theme analysis of written answers (issue 14): themes per question, who coded each answer, and its review.

Codes and reviews hang off the answer row, so erasing a tenant (or a retention purge) takes them with it.
"""

SQL = """
-- A question's themes: suggested by the machine (T1, T2 ...) or added by staff (S1, S2 ...). A theme staff
-- deleted or merged stays as a row, so its id is never given to another theme.
CREATE TABLE themes (
    consultation_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    theme_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    key_phrases TEXT NOT NULL DEFAULT '',              -- '; ' between phrases
    quotes TEXT NOT NULL DEFAULT '',                   -- answer ids, ',' between: the representative answers
    made_by TEXT NOT NULL CHECK (made_by IN ('machine', 'staff')),
    named_by TEXT NOT NULL CHECK (named_by IN ('machine', 'staff')),  -- staff's wording is never replaced
    merged_into TEXT,
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (consultation_id, question_id, theme_id)
);

-- The themes on an answer and who gave them: the machine (with its confidence), staff, or a second coder.
CREATE TABLE theme_codes (
    answer_id INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    coder TEXT NOT NULL CHECK (coder IN ('machine', 'staff', 'second')),
    theme_id TEXT NOT NULL,
    confidence REAL,
    PRIMARY KEY (answer_id, coder, theme_id)
);

-- Per answer: the machine's verdict at its last run, and whether (and by whom) staff confirmed it. A confirmed
-- answer with no staff codes means "no theme fits". The machine never recodes a confirmed answer.
CREATE TABLE theme_reviews (
    answer_id INTEGER PRIMARY KEY REFERENCES answers (id) ON DELETE CASCADE,
    consultation_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('themed', 'needs_reading', 'non_answer')),
    ask_rank INTEGER,                                  -- 1: the answer the machine is least sure of
    duplicate_of INTEGER,                              -- the first answer with (nearly) the same words
    campaign INTEGER NOT NULL DEFAULT 0 CHECK (campaign IN (0, 1)),
    machine_at TEXT NOT NULL,
    confirmed_by INTEGER,
    confirmed_at TEXT,
    second_by INTEGER,
    second_at TEXT
);
CREATE INDEX theme_reviews_by_question ON theme_reviews (consultation_id, question_id);
"""

# The same step for PostgreSQL: answer ids and staff ids BIGINT, times timestamptz, the confidence double precision.
POSTGRES = """
CREATE TABLE themes (
    consultation_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    theme_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    key_phrases TEXT NOT NULL DEFAULT '',
    quotes TEXT NOT NULL DEFAULT '',
    made_by TEXT NOT NULL CHECK (made_by IN ('machine', 'staff')),
    named_by TEXT NOT NULL CHECK (named_by IN ('machine', 'staff')),
    merged_into TEXT,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (consultation_id, question_id, theme_id)
);

CREATE TABLE theme_codes (
    answer_id BIGINT NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    coder TEXT NOT NULL CHECK (coder IN ('machine', 'staff', 'second')),
    theme_id TEXT NOT NULL,
    confidence double precision,
    PRIMARY KEY (answer_id, coder, theme_id)
);

CREATE TABLE theme_reviews (
    answer_id BIGINT PRIMARY KEY REFERENCES answers (id) ON DELETE CASCADE,
    consultation_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('themed', 'needs_reading', 'non_answer')),
    ask_rank INTEGER,
    duplicate_of BIGINT,
    campaign INTEGER NOT NULL DEFAULT 0 CHECK (campaign IN (0, 1)),
    machine_at timestamptz NOT NULL,
    confirmed_by BIGINT,
    confirmed_at timestamptz,
    second_by BIGINT,
    second_at timestamptz
);
CREATE INDEX theme_reviews_by_question ON theme_reviews (consultation_id, question_id);
"""
