"""The bulk send rate shared by every worker (issue 15): one row hands out send slots, so BROADCAST_RATE holds across
all processes together, and a 429's pause reaches them all. Times are seconds on the database's own clock, so
workers on different machines agree without trusting each other's clocks. SQLite has one worker per file and paces
in memory; the table is there on both backends so the schemas stay the same."""

SQL = """
CREATE TABLE send_pace (
    name TEXT PRIMARY KEY,                       -- 'bulk': broadcasts and reminders
    next_slot REAL NOT NULL,                     -- the next free send moment (seconds since 1970, database clock)
    paused_until REAL NOT NULL                   -- after a 429: nobody sends before this
);
INSERT INTO send_pace (name, next_slot, paused_until) VALUES ('bulk', 0, 0);
"""

POSTGRES = """
CREATE TABLE send_pace (
    name TEXT PRIMARY KEY,
    next_slot double precision NOT NULL,
    paused_until double precision NOT NULL
);
INSERT INTO send_pace (name, next_slot, paused_until) VALUES ('bulk', 0, 0);
"""
