"""What report.html and answers.html read about one question's themes: counts done by SQLite, answers streamed.

At 100,000 respondents a question has 100,000 written answers; nothing here brings them into Python at once.
The counts are aggregate queries; answers.html's rows come a chunk at a time (storage.export.rows.stream). Only
staff's codes on the answers they confirmed or second-coded (hundreds, bounded by staff time) are read whole,
for the agreement figures.

Each current written answer falls in exactly one group, in this order of precedence:
- a theme: it carries at least one live theme (staff's once confirmed, otherwise the machine's); it is listed
  under the first of them in the order given (the report's: most answers first);
- non-answer: the machine's verdict was 'non_answer' and it carries no theme;
- no theme fits: staff confirmed it with no theme (they read it and decided);
- needs reading: everything else: not analysed yet, or no theme fitted well enough.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import aiosqlite

from storage import dialect
from storage.export.rows import stream
from storage.themes.store import StoredTheme, WrittenAnswer

NEEDS_READING, NO_FIT, NON_ANSWER = 1_000_001, 1_000_002, 1_000_003  # groups after every theme's place



def _answers(joins: str = "", review: str = "LEFT JOIN") -> str:
    """FROM ... WHERE for a current written answer of someone who agreed (as storage.themes.store.CURRENT counts
    them), with its review (`review` 'JOIN' for reviewed answers only) and any further joins."""
    return ("FROM answers a JOIN conversations c ON c.user_id = a.user_id AND c.consultation_id = a.consultation_id "
            "AND c.consent_at IS NOT NULL JOIN respondents r ON r.user_id = a.user_id "
            f"{review} theme_reviews v ON v.answer_id = a.id {joins}"
            "WHERE a.consultation_id = ? AND a.question_id = ? AND a.is_current = 1 AND a.shown = 1 "
            "AND coalesce(a.text, '') != ''")


ANSWERS = _answers()
# The coder whose themes count on an answer: staff once they confirmed it, otherwise the machine.
FINAL_CODER = "k.coder = CASE WHEN v.confirmed_at IS NULL THEN 'machine' ELSE 'staff' END"
FIRST_PLACE = (f"(SELECT min(rk.place) FROM theme_codes k JOIN ranked rk ON rk.theme_id = k.theme_id "
               f"WHERE k.answer_id = a.id AND {FINAL_CODER})")
GROUP = (f"coalesce({FIRST_PLACE}, CASE WHEN v.verdict = 'non_answer' THEN {NON_ANSWER} "
         f"WHEN v.confirmed_at IS NOT NULL THEN {NO_FIT} ELSE {NEEDS_READING} END)")


def _ranked(theme_ids: Sequence[str]) -> tuple[str, list[object]]:
    """A WITH clause naming each live theme's place (1, 2, ...); an empty table when there are none."""
    if not theme_ids:
        return "WITH ranked(theme_id, place) AS (SELECT CAST(NULL AS TEXT), CAST(NULL AS INTEGER) WHERE 1 = 0) ", []
    values = ", ".join("(?, ?)" for _ in theme_ids)
    params: list[object] = [part for place, theme in enumerate(theme_ids, start=1) for part in (theme, place)]
    return f"WITH ranked(theme_id, place) AS (VALUES {values}) ", params


@dataclass(frozen=True)
class QuestionTotals:
    """One question's written answers counted by group, with how many staff confirmed and second-coded."""

    written: int = 0
    reviewed: int = 0  # with a review row: analysed by the machine or decided by staff
    confirmed: int = 0
    second_coded: int = 0  # confirmed by staff and coded by a second member of staff as well
    groups: dict[int, int] = field(default_factory=dict)  # a theme's place, or NEEDS_READING, NO_FIT, NON_ANSWER

    @property
    def needs_reading(self) -> int:
        return self.groups.get(NEEDS_READING, 0)

    @property
    def no_fit(self) -> int:
        return self.groups.get(NO_FIT, 0)

    @property
    def non_answers(self) -> int:
        return self.groups.get(NON_ANSWER, 0)


@dataclass(frozen=True)
class CodedAnswer:
    """A written answer for answers.html: its group, its live themes' places (first is the group), and the choice
    it was the reason for."""

    group: int
    places: tuple[int, ...]
    reference: str
    text: str
    finished: bool
    choice: str | None


@dataclass(frozen=True)
class Agreement:
    """Codes on the answers staff decided: machine and staff on the confirmed ones, staff and second coder on
    those both coded (answer id as text -> theme ids)."""

    confirmed: tuple[str, ...]
    machine: dict[str, set[str]]
    staff: dict[str, set[str]]
    second_coded: tuple[str, ...]
    second: dict[str, set[str]]


def _split(text: str, sep: str) -> tuple[str, ...]:
    """A stored list back to a tuple, empty pieces dropped (as storage.themes.store reads it)."""
    return tuple(piece.strip() for piece in text.split(sep) if piece.strip())


async def themes(conn: aiosqlite.Connection, consultation_id: str, question_id: str) -> list[StoredTheme]:
    """The question's theme rows in stored order (deleted and merged ones too: callers keep the live ones)."""
    rows = await conn.execute_fetchall(
        "SELECT theme_id, name, description, key_phrases, quotes, made_by, named_by, merged_into, deleted_at "
        "FROM themes WHERE consultation_id = ? AND question_id = ? ORDER BY created_at, length(theme_id), theme_id",
        (consultation_id, question_id))
    return [StoredTheme(row[0], row[1], row[2], _split(row[3], ";"), tuple(int(q) for q in _split(row[4], ",")),
                        row[5], row[6], row[7], row[8] is not None) for row in rows]


async def theme_counts(conn: aiosqlite.Connection, consultation_id: str, question_id: str,
                       theme_ids: Sequence[str]) -> dict[str, int]:
    """How many current written answers carry each live theme (the final themes; an answer counts once per theme).

    Codes on themes no longer live are counted too and dropped here: a join on the theme list would make SQLite
    walk the answers once per theme."""
    rows = await conn.execute_fetchall(
        "SELECT k.theme_id, count(*) " + _answers(f"JOIN theme_codes k ON k.answer_id = a.id AND {FINAL_CODER} ",
                                                  review="JOIN") + " GROUP BY k.theme_id",
        (consultation_id, question_id))
    found = {str(row[0]): int(row[1]) for row in rows}
    return {theme: found.get(theme, 0) for theme in theme_ids}


async def totals(conn: aiosqlite.Connection, consultation_id: str, question_id: str,
                 theme_ids: Sequence[str]) -> QuestionTotals:
    """Every current written answer counted by group (themes in the order given), in one pass."""
    ranked, params = _ranked(theme_ids)
    rows = await conn.execute_fetchall(
        ranked + f"SELECT {GROUP} AS grp, count(*), count(v.answer_id), count(v.confirmed_at), "
        "count(CASE WHEN v.confirmed_at IS NOT NULL AND v.second_at IS NOT NULL THEN 1 END) " + ANSWERS
        + " GROUP BY grp",
        (*params, consultation_id, question_id))
    groups = {int(row[0]): int(row[1]) for row in rows}
    return QuestionTotals(written=sum(groups.values()), reviewed=sum(int(row[2]) for row in rows),
                          confirmed=sum(int(row[3]) for row in rows),
                          second_coded=sum(int(row[4] or 0) for row in rows), groups=groups)


async def coded_answers(conn: aiosqlite.Connection, consultation_id: str, question_id: str,
                        theme_ids: Sequence[str]) -> AsyncIterator[CodedAnswer]:
    """Every current written answer, group by group (themes in the order given, then needs reading, no theme fits,
    non-answers), oldest first within a group; streamed. SQLite sorts by group (spilling to disk if it must)."""
    ranked, params = _ranked(theme_ids)
    places = (f"(SELECT {dialect.of(conn).string_agg('rk.place')} FROM theme_codes k "
              f"JOIN ranked rk ON rk.theme_id = k.theme_id "
              f"WHERE k.answer_id = a.id AND {FINAL_CODER})")
    sql = (ranked + f"SELECT {GROUP} AS grp, {places}, r.reference, a.text, c.submitted_at IS NOT NULL, a.choice "
           + ANSWERS + " ORDER BY grp, a.id")
    async for row in stream(conn, sql, (*params, consultation_id, question_id), plain=True):
        group = int(row[0])
        others = sorted(int(place) for place in str(row[1]).split(",")) if row[1] else []
        yield CodedAnswer(group, tuple(others), str(row[2]), str(row[3]), bool(row[4]), row[5])


async def quotes(conn: aiosqlite.Connection, consultation_id: str, question_id: str,
                 answer_ids: Sequence[int]) -> dict[int, WrittenAnswer]:
    """The quoted answers that are still current (an answer changed or erased since the run is not quoted)."""
    if not answer_ids:
        return {}
    marks = ", ".join("?" for _ in answer_ids)
    rows = await conn.execute_fetchall(
        "SELECT a.id, r.reference, a.text, c.submitted_at IS NOT NULL " + ANSWERS + f" AND a.id IN ({marks})",
        (consultation_id, question_id, *answer_ids))
    return {int(row[0]): WrittenAnswer(int(row[0]), str(row[1]), str(row[2]), bool(row[3])) for row in rows}


async def campaigns(conn: aiosqlite.Connection, consultation_id: str, question_id: str, most: int = 10
                    ) -> list[tuple[str, int]]:
    """The same words sent by many (the analysis's campaigns): the words once, and how many sent them, most first."""
    rows = await conn.execute_fetchall(
        "SELECT (SELECT text FROM answers WHERE id = pick), n FROM (SELECT coalesce(v.duplicate_of, a.id) AS first, "
        "min(a.id) AS pick, count(*) AS n " + ANSWERS + " AND v.campaign = 1 GROUP BY first) AS sent "
        "ORDER BY n DESC, pick LIMIT ?", (consultation_id, question_id, most))
    return [(str(row[0]), int(row[1])) for row in rows]


async def agreement(conn: aiosqlite.Connection, consultation_id: str, question_id: str) -> Agreement:
    """Every coder's themes on the current answers staff confirmed (read whole: staff time bounds them)."""
    codes: dict[str, dict[str, set[str]]] = {coder: defaultdict(set) for coder in ("machine", "staff", "second")}
    confirmed: list[str] = []
    second: list[str] = []
    for row in await conn.execute_fetchall(
            "SELECT a.id, v.second_at IS NOT NULL " + ANSWERS + " AND v.confirmed_at IS NOT NULL ORDER BY a.id",
            (consultation_id, question_id)):
        confirmed.append(str(row[0]))
        if row[1]:
            second.append(str(row[0]))
    for row in await conn.execute_fetchall(
            "SELECT a.id, k.coder, k.theme_id " + _answers(
                "JOIN theme_codes k ON k.answer_id = a.id ", review="JOIN")
            + " AND v.confirmed_at IS NOT NULL", (consultation_id, question_id)):
        codes[str(row[1])][str(row[0])].add(str(row[2]))
    return Agreement(tuple(confirmed), dict(codes["machine"]), dict(codes["staff"]), tuple(second),
                     dict(codes["second"]))
