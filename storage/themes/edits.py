"""Staff's edits from an analysis workbook, applied in one transaction, each change in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import audit
from storage.timestamps import to_db

# The question's reviewed answers, for the codes that change with a theme (parameters: consultation, question).
QUESTION_ANSWERS = "SELECT answer_id FROM theme_reviews WHERE consultation_id = ? AND question_id = ?"


@dataclass(frozen=True)
class ThemeEdit:
    """A Themes row that changes something: a new theme, new wording, a merge or a deletion."""

    theme_id: str
    name: str
    description: str
    new: bool = False
    reworded: bool = False
    merge_into: str | None = None
    delete: bool = False


@dataclass(frozen=True)
class AnswerEdit:
    """An Answers row that changes something: the themes staff confirmed, or a second coder's themes."""

    answer_id: int
    reference: str
    confirmed: frozenset[str] | None = None  # None: as before; empty: "no theme fits"
    second: frozenset[str] | None = None


@dataclass(frozen=True)
class QuestionEdits:
    """One question's changes, theme ids already resolved (a merged theme's answers name its target)."""

    question_id: str
    place: int
    themes: tuple[ThemeEdit, ...] = ()
    answers: tuple[AnswerEdit, ...] = ()


@dataclass(frozen=True)
class WorkbookEdits:
    """Everything a checked workbook asks for; rows whose answer has since been erased are only counted."""

    questions: tuple[QuestionEdits, ...]
    gone: int = 0

    @property
    def changes(self) -> int:
        """How many rows change something."""
        return sum(len(q.themes) + len(q.answers) for q in self.questions)


async def _code(conn: aiosqlite.Connection, answer_id: int, coder: str, themes: frozenset[str]) -> None:
    """Replace one coder's themes on an answer."""
    await conn.execute("DELETE FROM theme_codes WHERE answer_id = ? AND coder = ?", (answer_id, coder))
    await conn.executemany("INSERT INTO theme_codes (answer_id, coder, theme_id) VALUES (?, ?, ?)",
                           [(answer_id, coder, theme) for theme in sorted(themes)])


async def _answer(conn: aiosqlite.Connection, consultation_id: str, question_id: str, edit: AnswerEdit,
                  actor_id: int | None, at: str) -> list[str]:
    """Staff's codes on one answer; returns what to audit."""
    await conn.execute(
        "INSERT INTO theme_reviews (answer_id, consultation_id, question_id, verdict, machine_at) "
        "VALUES (?, ?, ?, 'needs_reading', ?) ON CONFLICT (answer_id) DO NOTHING",
        (edit.answer_id, consultation_id, question_id, at))
    done = []
    if edit.confirmed is not None:
        await _code(conn, edit.answer_id, "staff", edit.confirmed)
        await conn.execute("UPDATE theme_reviews SET confirmed_by = ?, confirmed_at = ?, ask_rank = NULL "
                           "WHERE answer_id = ?", (actor_id, at, edit.answer_id))
        done.append(f"{edit.reference} confirmed as {', '.join(sorted(edit.confirmed)) or 'no theme'}")
    if edit.second is not None:
        await _code(conn, edit.answer_id, "second", edit.second)
        await conn.execute("UPDATE theme_reviews SET second_by = ?, second_at = ? WHERE answer_id = ?",
                           (actor_id, at, edit.answer_id))
        done.append(f"{edit.reference} second-coded as {', '.join(sorted(edit.second)) or 'no theme'}")
    return done


async def _theme(conn: aiosqlite.Connection, consultation_id: str, question_id: str, edit: ThemeEdit,
                 at: str) -> list[str]:
    """A theme added, reworded, merged or deleted; returns what to audit."""
    key = (consultation_id, question_id, edit.theme_id)
    done = []
    if edit.new:
        await conn.execute(
            "INSERT INTO themes (consultation_id, question_id, theme_id, name, description, made_by, named_by, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'staff', 'staff', ?, ?)", (*key, edit.name,
                                                                                    edit.description, at, at))
        done.append(f"theme {edit.theme_id} added as '{edit.name}'")
    elif edit.reworded:
        await conn.execute("UPDATE themes SET name = ?, description = ?, named_by = 'staff', updated_at = ? "
                           "WHERE consultation_id = ? AND question_id = ? AND theme_id = ?",
                           (edit.name, edit.description, at, *key))
        done.append(f"theme {edit.theme_id} renamed '{edit.name}'")
    answers = QUESTION_ANSWERS
    if edit.merge_into is not None:
        await conn.execute(
            f"INSERT INTO theme_codes (answer_id, coder, theme_id, confidence) SELECT answer_id, coder, ?, "
            f"confidence FROM theme_codes WHERE theme_id = ? AND answer_id IN ({answers}) ON CONFLICT DO NOTHING",
            (edit.merge_into, edit.theme_id, consultation_id, question_id))
        await conn.execute(f"DELETE FROM theme_codes WHERE theme_id = ? AND answer_id IN ({answers})",
                           (edit.theme_id, consultation_id, question_id))
        await conn.execute("UPDATE themes SET merged_into = ?, updated_at = ? "
                           "WHERE consultation_id = ? AND question_id = ? AND theme_id = ?",
                           (edit.merge_into, at, *key))
        done.append(f"theme {edit.theme_id} merged into {edit.merge_into}")
    elif edit.delete:
        held = [int(row[0]) for row in await conn.execute_fetchall(
            f"SELECT answer_id FROM theme_codes WHERE coder = 'staff' AND theme_id = ? AND answer_id IN ({answers})",
            (edit.theme_id, consultation_id, question_id))]
        await conn.execute(f"DELETE FROM theme_codes WHERE theme_id = ? AND answer_id IN ({answers})",
                           (edit.theme_id, consultation_id, question_id))
        # An answer staff gave only this theme goes back to the machine, rather than reading "no theme fits".
        await conn.executemany(
            "UPDATE theme_reviews SET confirmed_by = NULL, confirmed_at = NULL WHERE answer_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM theme_codes k WHERE k.answer_id = ? AND k.coder = 'staff')",
            [(answer_id, answer_id) for answer_id in held])
        await conn.execute("UPDATE themes SET deleted_at = ?, updated_at = ? "
                           "WHERE consultation_id = ? AND question_id = ? AND theme_id = ?", (at, at, *key))
        done.append(f"theme {edit.theme_id} deleted")
    return done


async def apply_edits(conn: aiosqlite.Connection, consultation_id: str, edits: WorkbookEdits, actor_id: int | None,
                      now: datetime) -> int:
    """Inside a write transaction: new themes, wording, answers' codes, then merges and deletions; one audit line
    per change, naming who (the actor) and when. Returns the number of audit lines written."""
    at = to_db(now)
    lines = 0
    for question in edits.questions:
        qid = question.question_id
        # New themes and wording first, so a merge or deletion always finds the theme it names.
        for edit in sorted(question.themes, key=lambda e: e.merge_into is not None or e.delete):
            for line in await _theme(conn, consultation_id, qid, edit, at):
                await audit.record(conn, now, actor_id, "themes", f"{consultation_id} {qid}: {line}", "ok")
                lines += 1
        for answer in question.answers:
            for line in await _answer(conn, consultation_id, qid, answer, actor_id, at):
                await audit.record(conn, now, actor_id, "themes", f"{consultation_id} {qid}: {line}", "ok")
                lines += 1
    return lines
