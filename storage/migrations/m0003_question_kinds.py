"""Every kind of answer (issue 13): a multi's ticks, a number, and the mark of a question routed out by show_if.

Columns are added, so a database written before keeps every answer as it was: choice, text and skipped keep their
meaning, and an old row reads as shown, with no ticks and no number.
"""

SQL = """
-- A multi question's ticked option ids, comma separated, in the options' order (ids never hold a comma).
ALTER TABLE answers ADD COLUMN choices TEXT;
-- A number question's whole number.
ALTER TABLE answers ADD COLUMN number INTEGER;
-- 0: the tenant was not shown this question (show_if was false): a current row that counts as no answer.
ALTER TABLE answers ADD COLUMN shown INTEGER NOT NULL DEFAULT 1 CHECK (shown IN (0, 1));
"""

# The same step for PostgreSQL; the number is BIGINT, as a tenant may type any whole number SQLite's INTEGER holds.
POSTGRES = """
ALTER TABLE answers ADD COLUMN choices TEXT;
ALTER TABLE answers ADD COLUMN number BIGINT;
ALTER TABLE answers ADD COLUMN shown INTEGER NOT NULL DEFAULT 1 CHECK (shown IN (0, 1));
"""
