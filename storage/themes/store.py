"""The theme tables read and written: one question's themes, codes and reviews, and a machine run saved whole."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage.themes.model import Analysis
from storage.timestamps import to_db

CURRENT = (
    "FROM answers a JOIN conversations c ON c.user_id = a.user_id AND c.consultation_id = a.consultation_id "
    "AND c.consent_at IS NOT NULL JOIN respondents r ON r.user_id = a.user_id "
    "WHERE a.consultation_id = ? AND a.question_id = ? AND a.is_current = 1 AND a.shown = 1 "
    "AND coalesce(a.text, '') != ''"
)


@dataclass(frozen=True)
class WrittenAnswer:
    """A current written answer (or reason) to one question, by its row id and its respondent's reference."""

    answer_id: int
    reference: str
    text: str
    finished: bool


@dataclass(frozen=True)
class StoredTheme:
    """One theme row as kept; deleted and merged themes are kept so their ids are never reused."""

    id: str
    name: str
    description: str
    key_phrases: tuple[str, ...]
    quotes: tuple[int, ...]
    made_by: str
    named_by: str
    merged_into: str | None
    deleted: bool

    @property
    def live(self) -> bool:
        """Still a theme answers can carry."""
        return not self.deleted and self.merged_into is None


@dataclass(frozen=True)
class Review:
    """One answer's review: the machine's verdict and rank, and staff's confirmation."""

    verdict: str
    ask_rank: int | None
    duplicate_of: int | None
    campaign: bool
    confirmed_at: str | None
    second_at: str | None

    @property
    def confirmed(self) -> bool:
        """Staff have decided this answer's themes: the machine leaves it alone."""
        return self.confirmed_at is not None


@dataclass
class QuestionCoding:
    """Everything stored about one question's analysis, in memory (thousands of answers, not millions)."""

    answers: list[WrittenAnswer] = field(default_factory=list)
    themes: list[StoredTheme] = field(default_factory=list)
    machine: dict[int, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    staff: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    second: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    reviews: dict[int, Review] = field(default_factory=dict)

    @property
    def live_themes(self) -> list[StoredTheme]:
        """The themes answers can carry, in id order as stored."""
        return [t for t in self.themes if t.live]

    def final(self, answer_id: int) -> set[str]:
        """The themes that count: staff's once confirmed, otherwise the machine's."""
        review = self.reviews.get(answer_id)
        if review is not None and review.confirmed:
            return set(self.staff.get(answer_id, set()))
        return set(self.machine.get(answer_id, {}))

    @property
    def staff_touched(self) -> bool:
        """Whether staff made any decision here (then the machine keeps the themes and only reassigns)."""
        return any(r.confirmed for r in self.reviews.values()) or any(
            t.made_by == "staff" or t.named_by == "staff" or not t.live for t in self.themes)


def _split(text: str, sep: str) -> tuple[str, ...]:
    """A stored list back to a tuple, empty pieces dropped."""
    return tuple(piece.strip() for piece in text.split(sep) if piece.strip())


async def written_answers(conn: aiosqlite.Connection, consultation_id: str, question_id: str) -> list[WrittenAnswer]:
    """Every current written answer to the question, oldest first."""
    rows = await conn.execute_fetchall(
        "SELECT a.id, r.reference, a.text, c.submitted_at IS NOT NULL " + CURRENT + " ORDER BY a.id",
        (consultation_id, question_id))
    return [WrittenAnswer(int(row[0]), str(row[1]), str(row[2]), bool(row[3])) for row in rows]


async def load(conn: aiosqlite.Connection, consultation_id: str, question_id: str) -> QuestionCoding:
    """One question's answers, themes, codes and reviews (read inside the caller's transaction or snapshot)."""
    coding = QuestionCoding(answers=await written_answers(conn, consultation_id, question_id))
    rows = await conn.execute_fetchall(
        "SELECT theme_id, name, description, key_phrases, quotes, made_by, named_by, merged_into, deleted_at "
        "FROM themes WHERE consultation_id = ? AND question_id = ? "
        "ORDER BY made_by, created_at, length(theme_id), theme_id",
        (consultation_id, question_id))
    coding.themes = [
        StoredTheme(row[0], row[1], row[2], _split(row[3], ";"), tuple(int(q) for q in _split(row[4], ",")),
                    row[5], row[6], row[7], row[8] is not None) for row in rows]
    where = "WHERE v.consultation_id = ? AND v.question_id = ?"
    for row in await conn.execute_fetchall(
            "SELECT k.answer_id, k.coder, k.theme_id, k.confidence FROM theme_codes k "
            "JOIN theme_reviews v ON v.answer_id = k.answer_id " + where, (consultation_id, question_id)):
        answer_id, coder, theme_id = int(row[0]), row[1], row[2]
        if coder == "machine":
            coding.machine[answer_id][theme_id] = float(row[3] or 0.0)
        else:
            (coding.staff if coder == "staff" else coding.second)[answer_id].add(theme_id)
    for row in await conn.execute_fetchall(
            "SELECT answer_id, verdict, ask_rank, duplicate_of, campaign, confirmed_at, second_at FROM theme_reviews v "
            + where, (consultation_id, question_id)):
        coding.reviews[int(row[0])] = Review(row[1], row[2], row[3], bool(row[4]), row[5], row[6])
    return coding


async def save_themes(conn: aiosqlite.Connection, consultation_id: str, question_id: str, analysis: Analysis,
                      fresh: bool, now: datetime) -> None:
    """A run's themes: all new when `fresh` (no staff decision yet), otherwise phrases, quotes and the machine's
    own names refreshed, and staff wording left as it is."""
    at = to_db(now)
    if fresh:
        await conn.execute("DELETE FROM themes WHERE consultation_id = ? AND question_id = ?",
                           (consultation_id, question_id))
    for theme in analysis.themes:
        phrases, quotes = "; ".join(theme.key_phrases), ",".join(theme.quotes)
        if fresh:
            await conn.execute(
                "INSERT INTO themes (consultation_id, question_id, theme_id, name, description, key_phrases, quotes, "
                "made_by, named_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'machine', 'machine', ?, ?)",
                (consultation_id, question_id, theme.id, theme.name, theme.description, phrases, quotes, at, at))
        else:
            await conn.execute(
                "UPDATE themes SET key_phrases = ?, quotes = ?, updated_at = ?, "
                "name = CASE WHEN named_by = 'machine' THEN ? ELSE name END, "
                "description = CASE WHEN named_by = 'machine' THEN ? ELSE description END "
                "WHERE consultation_id = ? AND question_id = ? AND theme_id = ?",
                (phrases, quotes, at, theme.name, theme.description, consultation_id, question_id, theme.id))


async def save_codes(conn: aiosqlite.Connection, consultation_id: str, question_id: str, analysis: Analysis,
                     coding: QuestionCoding, now: datetime) -> None:
    """The machine's codes and verdicts for every answer staff have not confirmed; confirmed ones keep the
    machine's earlier codes (what agreement is measured on) and staff's own."""
    at = to_db(now)
    rank = {key: place for place, key in enumerate(analysis.ask_first, start=1)}
    campaign = {key for group in analysis.campaigns for key in group.keys}
    verdicts = {**dict.fromkeys(analysis.suggestions, "themed"), **dict.fromkeys(analysis.needs_reading,
                "needs_reading"), **dict.fromkeys(analysis.non_answers, "non_answer")}
    unchanged: list[tuple[int | None, int, int]] = []  # confirmed: only the duplicate and campaign marks move
    recoded: list[tuple[int, str, str, int | None, int | None, int, str]] = []
    codes: list[tuple[int, str, float]] = []
    for answer in coding.answers:
        key = str(answer.answer_id)
        review = coding.reviews.get(answer.answer_id)
        duplicate = analysis.duplicate_of.get(key)
        duplicate_of = int(duplicate) if duplicate and duplicate != key else None
        if review is not None and review.confirmed:
            unchanged.append((duplicate_of, int(key in campaign), answer.answer_id))
            continue
        recoded.append((answer.answer_id, consultation_id, question_id, rank.get(key), duplicate_of,
                        int(key in campaign), verdicts.get(key, "needs_reading")))
        codes += [(answer.answer_id, s.theme_id, round(s.confidence, 4)) for s in analysis.suggestions.get(key, ())]
    # A few statements for the whole question, not three an answer: tenants' steps wait for this write lock.
    await conn.executemany("UPDATE theme_reviews SET ask_rank = NULL, duplicate_of = ?, campaign = ? "
                           "WHERE answer_id = ?", unchanged)
    await conn.executemany("DELETE FROM theme_codes WHERE answer_id = ? AND coder = 'machine'",
                           [(row[0],) for row in recoded])
    await conn.executemany(
        "INSERT INTO theme_codes (answer_id, coder, theme_id, confidence) VALUES (?, 'machine', ?, ?)", codes)
    await conn.executemany(
        "INSERT INTO theme_reviews (answer_id, consultation_id, question_id, ask_rank, duplicate_of, campaign, "
        "verdict, machine_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (answer_id) DO UPDATE SET "
        "verdict = excluded.verdict, ask_rank = excluded.ask_rank, duplicate_of = excluded.duplicate_of, "
        "campaign = excluded.campaign, machine_at = excluded.machine_at",
        [(*row, at) for row in recoded])
