"""The webhook inbox (issue 15): an update is stored here and committed before Telegram gets its 200.

A row lives only until the update is applied (then it is deleted: the update's words are not kept twice; whether
it was applied is kept, without content, in processed_updates). tenant_id says whose queue the row is in, so each
tenant's rows are taken in update_id order by one worker at a time; NULL for updates that belong to no user.
"""

SQL = """
CREATE TABLE update_inbox (
    update_id INTEGER PRIMARY KEY,               -- Telegram's update id: a redelivery inserts nothing
    tenant_id INTEGER,                           -- the user the update belongs to; NULL for none (a channel post)
    payload TEXT NOT NULL,                       -- the update's JSON as Telegram sent it
    received_at TEXT NOT NULL
);
CREATE INDEX update_inbox_by_tenant ON update_inbox (tenant_id, update_id);
"""

POSTGRES = """
CREATE TABLE update_inbox (
    update_id BIGINT PRIMARY KEY,
    tenant_id BIGINT,
    payload TEXT NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX update_inbox_by_tenant ON update_inbox (tenant_id, update_id);
"""
