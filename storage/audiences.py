"""Who a broadcast or reminder is for, as SQL over conversations (c) and respondents (p); no user input in SQL."""

from __future__ import annotations

import aiosqlite

STAFF_AUDIENCES = ("started_not_finished", "finished", "agreed", "took_part")
REMINDER_AUDIENCES = ("started_not_finished", "agreed_not_started")
AFTER_CLOSE_ONLY = frozenset({"took_part"})

_ANY_ANSWER = "SELECT 1 FROM answers a WHERE a.user_id = c.user_id AND a.consultation_id = c.consultation_id"
PREDICATES: dict[str, str] = {
    # agreed to the privacy notice but not sent their answers
    "started_not_finished": "c.consent_at IS NOT NULL AND c.submitted_at IS NULL",
    "finished": "c.consent_at IS NOT NULL AND c.submitted_at IS NOT NULL",
    "agreed": "c.consent_at IS NOT NULL",
    # sent their answers, or gave at least one (a partial response counts for "you said, we did")
    "took_part": (
        f"c.consent_at IS NOT NULL AND (c.submitted_at IS NOT NULL OR "
        f"EXISTS ({_ANY_ANSWER} AND a.is_current = 1 AND a.skipped = 0))"
    ),
    # agreed, and not a single answer (nor skip) yet
    "agreed_not_started": f"c.consent_at IS NOT NULL AND c.submitted_at IS NULL AND NOT EXISTS ({_ANY_ANSWER})",
}
# Never counted, never sent to: turned reminders off, or blocked the bot. Erased tenants have no rows at all.
REACHABLE = "p.reminders_opted_out = 0 AND p.blocked = 0"


def predicate(audience: str) -> str:
    """The SQL condition for one audience; an unknown name is a programming error, not a tenant's."""
    try:
        return PREDICATES[audience]
    except KeyError:
        raise ValueError(f"unknown audience {audience!r}; expected one of {sorted(PREDICATES)}") from None


def members_sql(audience: str) -> str:
    """SELECT of the user ids in an audience; one parameter: the consultation id."""
    return (
        "SELECT c.user_id FROM conversations c JOIN respondents p ON p.user_id = c.user_id "
        f"WHERE c.consultation_id = ? AND {REACHABLE} AND ({predicate(audience)})"
    )


async def count(conn: aiosqlite.Connection, consultation_id: str, audience: str) -> int:
    """How many tenants a message to this audience would reach right now."""
    rows = list(await conn.execute_fetchall(f"SELECT count(*) FROM ({members_sql(audience)}) AS audience",
                                            (consultation_id,)))
    return int(rows[0][0])
