"""A database whose first question has been analysed and reviewed, built through the real storage API: tenants
step through the engine (Database.apply_step), a hand-made machine run is saved (store.save_themes/save_codes),
then staff's workbook edits are applied (edits.apply_edits): a deletion, a merge, confirmations, a second coder.

Q1's eleven written answers, by tenant (themes as they end up; T3 deleted, T4 merged into T1):
  A  machine T1+T2, staff confirmed T1+T2, second coder T1   (finished; the others are partial)
  B  machine T4 -> T1 after the merge                        (a long answer: its quote is shortened)
  C  machine T2                    D  machine T2+T3 -> T2    E  needs reading; staff confirmed "no theme fits"
  F  non-answer ("no")             G  machine T2, staff confirmed T1, second coder T1
  H  campaign, machine T2          I  campaign (same words as H), machine T2
  J  needs reading (no theme fitted); mentions black mould, so the damp and mould alert flags it
  K  answered after the run: not analysed
So T2 carries 5 answers and T1 3 (T2 is listed first); needs reading 2 (J, K); no theme fits 1 (E); non-answers
1 (F); confirmed 3 of 11 (27%). Machine against staff on the confirmed answers: A 1, E 1 (both empty), G 0, so
F1 0.67. Second coder on A, E and G. Q2's reasons (A to D) are never analysed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conversations.events import Press, Start, Text
from conversations.model import Consultation
from conversations.screens import buttons
from storage import Database
from storage.themes import store
from storage.themes.edits import AnswerEdit, QuestionEdits, ThemeEdit, WorkbookEdits, apply_edits
from storage.themes.model import Analysis, Campaign, Suggestion, ThemeSummary
from tests.export.builders import DAY1, Q1, Q2, Q3, Q4, Q5, Tenant, bundled, database_url, nxt, opt, skip

RUN_AT = datetime(2020, 11, 20, 12, 0, tzinfo=UTC)
STAFF = 900001
LONG = ("Local builders know our estates and the people who live on them, and they come back when something "
        "goes wrong, which the big national contractors never do; please write into every contract that a "
        "share of the work goes to firms from Herefordshire and Shropshire, and publish each year how much "
        "of the money spent stayed in the two counties, so tenants can see whether the plan is working.")
CAMPAIGN = "Stop the cuts to the repairs budget now"
WORDS = {
    "A": "Use local builders and fix repairs faster",
    "B": LONG,
    "C": "Repairs take far too long to be done",
    "D": "Quicker repairs please, the wait is months",
    "E": "My neighbour's cat is called Biscuit",
    "F": "no",
    "G": "Repairs should be faster",
    "H": CAMPAIGN,
    "I": CAMPAIGN,
    "J": "The plan is long and I did not read it all; there is black mould in my bathroom",
    "K": "I answered after the themes were suggested",
}
REASONS = {"A": "Local firms care about quality", "B": "Keeps money in the county", "C": "Best value matters more",
           "D": "Not sure it is fair to others"}
MACHINE = {"A": ("T1", "T2"), "B": ("T4",), "C": ("T2",), "D": ("T2", "T3"), "G": ("T2",), "H": ("T2",),
           "I": ("T2",)}
THEMES = (
    ThemeSummary("T1", "Local firms", "Use builders from the area", ("local", "builders"), (), 2),
    ThemeSummary("T2", "Faster repairs", "Repairs take too long", ("repairs", "faster"), (), 5),
    ThemeSummary("T3", "Chaff theme", "Staff deleted it", ("chaff",), (), 1),
    ThemeSummary("T4", "Buy local", "Staff merged it into Local firms", ("county",), (), 1),
)
QUOTES = {"T1": ("B", "A", "G", "C"), "T2": ("C", "D", "missing", "G"), "T3": ("D",), "T4": ("B",)}


async def _tenants(db: Database, consultation: Consultation, letters: str, first_day: int) -> None:
    """Each tenant answers Q1 in their own words; A to D give a reason with their Q2 choice; A sends it all."""
    agree = Press(buttons.AGREE)
    for index, letter in enumerate(letters):
        tenant = Tenant(db, consultation, 3000 + ord(letter), DAY1 + timedelta(days=first_day, hours=index))
        await tenant.script(Start(), agree, Text(WORDS[letter]), nxt(Q1))
        if letter in REASONS:
            await tenant.script(opt(Q2, "agree" if letter in "AB" else "disagree"), Text(REASONS[letter]), nxt(Q2))
        if letter == "A":
            await tenant.script(skip(Q3), opt(Q4, "agree"), nxt(Q4), skip(Q5), Press(buttons.SUBMIT))


async def answer_ids(db: Database, consultation: Consultation) -> dict[str, int]:
    """Each tenant's Q1 answer row id, by letter (those who have answered so far; H and I wrote the same words)."""
    left = sorted((a.answer_id, a.text) for a in await store.written_answers(db.reader, consultation.id, Q1))
    ids: dict[str, int] = {}
    for letter, words in WORDS.items():
        found = next((item for item in left if item[1] == words), None)
        if found is not None:
            ids[letter] = found[0]
            left.remove(found)
    return ids


def analysis(ids: dict[str, int]) -> Analysis:
    """The machine's run over A to J, as storage.themes.analyse would hand it over."""
    key = {letter: str(answer_id) for letter, answer_id in ids.items()}
    quoted = {theme: tuple(key.get(letter, "999999") for letter in letters) for theme, letters in QUOTES.items()}
    return Analysis(
        themes=tuple(ThemeSummary(t.id, t.name, t.description, t.key_phrases, quoted[t.id], t.count) for t in THEMES),
        suggestions={key[letter]: tuple(Suggestion(theme, 0.8) for theme in themes)
                     for letter, themes in MACHINE.items()},
        needs_reading=(key["E"], key["J"]), non_answers=(key["F"],),
        duplicate_of={key["I"]: key["H"]}, campaigns=(Campaign(CAMPAIGN, (key["H"], key["I"])),),
    )


def edits(ids: dict[str, int]) -> WorkbookEdits:
    """Staff's workbook: T3 deleted, T4 merged into T1, A, E and G confirmed, and a second coder on them."""
    def answer(letter: str, confirmed: set[str], second: set[str]) -> AnswerEdit:
        return AnswerEdit(ids[letter], f"R-{letter}", frozenset(confirmed), frozenset(second))

    return WorkbookEdits((QuestionEdits(Q1, 1, themes=(
        ThemeEdit("T3", "Chaff theme", "", delete=True), ThemeEdit("T4", "Buy local", "", merge_into="T1")),
        answers=(answer("A", {"T1", "T2"}, {"T1"}), answer("E", set(), set()), answer("G", {"T1"}, {"T1"}))),))


async def build(db: Database, consultation: Consultation) -> dict[str, int]:
    """Tenants A to J, the machine's run, staff's edits, then tenant K; returns Q1's answer ids by letter."""
    await _tenants(db, consultation, "ABCDEFGHIJ", 0)
    ids = await answer_ids(db, consultation)
    coding = await store.load(db.reader, consultation.id, Q1)
    run = analysis(ids)
    async with db.transaction() as conn:
        await store.save_themes(conn, consultation.id, Q1, run, fresh=True, now=RUN_AT)
        await store.save_codes(conn, consultation.id, Q1, run, coding, now=RUN_AT)
    async with db.transaction() as conn:
        await apply_edits(conn, consultation.id, edits(ids), STAFF, RUN_AT + timedelta(hours=1))
    await _tenants(db, consultation, "K", 20)
    return await answer_ids(db, consultation)


async def build_database(path: Path | str) -> dict[str, int]:
    """The themed database at `path` (a SQLite file or a PostgreSQL URL; closed again); Q1's answer ids by letter."""
    db = await Database.open(database_url(path))
    try:
        return await build(db, bundled())
    finally:
        await db.close()
