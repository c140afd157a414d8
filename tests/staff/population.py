"""Thousands of tenants written straight into a migrated database, fast, so broadcasts have someone to reach: a
SQLite file (populate, before the bot opens it) or an open database of either backend (populate_db)."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conversations.state import Answer, ConversationState, Phase, Stage
from storage import Database
from storage.steps import encode_state
from storage.timestamps import to_db

CONSULTATION = "connexus-procurement-2020"
AT = datetime(2020, 11, 10, 12, 0, tzinfo=UTC)
KINDS = ("new", "declined", "agreed_not_started", "part_way", "finished")


@dataclass
class Population:
    """Who was written, by kind, and who is opted out or blocked."""

    by_kind: dict[str, list[int]] = field(default_factory=dict)
    opted_out: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)

    def reachable(self, *kinds: str) -> set[int]:
        """Tenants of these kinds a broadcast may go to."""
        ids = {user_id for kind in kinds for user_id in self.by_kind.get(kind, [])}
        return ids - self.opted_out - self.blocked

    def expected(self, audience: str) -> set[int]:
        """What each audience should contain, worked out independently of the SQL under test."""
        return self.reachable(*{
            "started_not_finished": ("agreed_not_started", "part_way"),
            "finished": ("finished",),
            "agreed": ("agreed_not_started", "part_way", "finished"),
            "took_part": ("part_way", "finished"),
            "agreed_not_started": ("agreed_not_started",),
        }[audience])

    @property
    def everyone(self) -> list[int]:
        return [user_id for ids in self.by_kind.values() for user_id in ids]


def _state(kind: str, at: datetime) -> ConversationState:
    """A saved state that matches the kind, so a tenant written here can carry on talking to the real bot."""
    consent = at if kind in ("agreed_not_started", "part_way", "finished") else None
    if kind == "new":
        return ConversationState(stage=Stage.CONSENT, started_at=at)
    if kind == "declined":
        return ConversationState(stage=Stage.DECLINED, started_at=at)
    if kind == "agreed_not_started":
        return ConversationState(stage=Stage.QUESTION, position=0, phase=Phase.ASK, furthest=0, consent_at=consent,
                                 started_at=at)
    answers = {"q1_general": Answer(text="More local firms")}
    if kind == "part_way":
        return ConversationState(stage=Stage.QUESTION, position=1, phase=Phase.ASK, furthest=1, answers=answers,
                                 consent_at=consent, started_at=at)
    return ConversationState(stage=Stage.SUBMITTED, position=4, furthest=4, answers=answers, consent_at=consent,
                             started_at=at, submitted_at=at + timedelta(minutes=5))


RESPONDENTS = ("INSERT INTO respondents (user_id, reference, first_seen, consent_privacy_version, consent_given_at, "
               "reminders_opted_out, blocked) VALUES (?, ?, ?, ?, ?, ?, ?)")
CONVERSATIONS = ("INSERT INTO conversations (user_id, consultation_id, revision, state, stage, consultation_version, "
                 "privacy_version, started_at, consent_at, submitted_at, updated_at) "
                 "VALUES (?, ?, 1, ?, ?, '1', ?, ?, ?, ?, ?)")
ANSWERS = ("INSERT INTO answers (user_id, consultation_id, question_id, choice, text, skipped, answered_at, "
           "consultation_version, is_current) VALUES (?, ?, ?, ?, ?, 0, ?, '1', 1)")
Rows = list[tuple[object, ...]]


def _rows(counts: dict[str, int], start_id: int, opted_out_every: int, blocked_every: int, consultation_id: str,
          at: datetime) -> tuple[Population, Rows, Rows, Rows]:
    """Who to write, and their respondents, conversations and answers rows."""
    population = Population()
    respondents: Rows = []
    conversations: Rows = []
    answers: Rows = []
    user_id = start_id
    for kind in KINDS:
        for _ in range(counts.get(kind, 0)):
            user_id += 1
            index = user_id - start_id
            opted = bool(opted_out_every) and index % opted_out_every == 0
            blocked = bool(blocked_every) and index % blocked_every == 1
            state = _state(kind, at)
            population.by_kind.setdefault(kind, []).append(user_id)
            if opted:
                population.opted_out.add(user_id)
            if blocked:
                population.blocked.add(user_id)
            consent = to_db(state.consent_at) if state.consent_at else None
            respondents.append((user_id, f"R-T{user_id}", to_db(at), "2020-11-04" if consent else None, consent,
                                int(opted), int(blocked)))
            conversations.append((user_id, consultation_id, encode_state(state), state.stage.value,
                                  "2020-11-04" if consent else None, to_db(at), consent,
                                  to_db(state.submitted_at) if state.submitted_at else None, to_db(at)))
            if state.answers:
                answers.append((user_id, consultation_id, "q1_general", None, "More local firms", to_db(at)))
    return population, respondents, conversations, answers


def populate(path: Path, counts: dict[str, int], start_id: int = 7_000_000, opted_out_every: int = 0,
             blocked_every: int = 0, consultation_id: str = CONSULTATION, at: datetime = AT) -> Population:
    """Write `counts[kind]` tenants of each kind into a SQLite file; every n-th is opted out / blocked when asked."""

    async def migrate() -> None:
        db = await Database.open(f"sqlite:///{path}")
        await db.close()

    asyncio.run(migrate())
    population, respondents, conversations, answers = _rows(counts, start_id, opted_out_every, blocked_every,
                                                            consultation_id, at)
    with sqlite3.connect(path) as conn:
        conn.executemany(RESPONDENTS, respondents)
        conn.executemany(CONVERSATIONS, conversations)
        conn.executemany(ANSWERS, answers)
    return population


async def populate_db(db: Database, counts: dict[str, int], start_id: int = 7_000_000, opted_out_every: int = 0,
                      blocked_every: int = 0, consultation_id: str = CONSULTATION, at: datetime = AT) -> Population:
    """populate(), into an open database of either backend, in one transaction."""
    population, respondents, conversations, answers = _rows(counts, start_id, opted_out_every, blocked_every,
                                                            consultation_id, at)
    async with db.transaction() as conn:
        await conn.executemany(RESPONDENTS, respondents)
        await conn.executemany(CONVERSATIONS, conversations)
        if answers:
            await conn.executemany(ANSWERS, answers)
    return population
