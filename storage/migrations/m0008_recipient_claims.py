"""Who claimed a broadcast recipient (issue 15): the claimer name of the process that marked the row 'sending'.

With several workers on one PostgreSQL, a row at 'sending' may be another live worker's send in flight, or a dead
worker's. The name says whose it is, and storage/claimers.py says whether that process is still alive: only a dead
claimer's rows become 'unknown'. NULL for rows never claimed, and for rows claimed before this migration (their
claimer cannot be proved alive, so they count as a dead one's). The name is a process's, not a tenant's: nothing
personal, and it stays on the row after the send as the last worker that took it.
"""

SQL = """
-- The claimer that last marked the row 'sending' (storage/claimers.py), e.g. 'w1/4711/20201110T120000Z/9f3a0c1d'.
ALTER TABLE broadcast_recipients ADD COLUMN claimed_by TEXT;
"""

POSTGRES = """
ALTER TABLE broadcast_recipients ADD COLUMN claimed_by TEXT;
"""
