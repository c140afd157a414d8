"""A database of six tenants who took conversations/consultations/examples/every-kind.toml by different routes,
built the way the bot builds it: engine steps saved with Database.apply_step (builders.Tenant).

ANSWERS below is what each tenant ended with, and build() checks storage holds exactly that. In short: A is
satisfied and sees the "glad" info page; B is dissatisfied, had no repair and ticks "None of these"; C says
"Don't know" and gives a reason for the ticks; D skips the repair question and stops part-way; E had a poor
repair; F answers the repair questions and then, from the review, says there was no repair, so the repair
satisfaction and feel-safe answers are routed out ("not shown") though they stay in the history.
Q numbers count only the eleven questions that take answers (the two info pages have none).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conversations.events import Press, Start, Text
from conversations.file.loader import load_consultation
from conversations.model import Consultation
from conversations.screens import buttons
from conversations.state import Answer
from storage import Database
from tests.export.builders import Tenant, database_url, nxt, opt, skip

FILE = Path(__file__).resolve().parents[2] / "conversations" / "consultations" / "examples" / "every-kind.toml"
DAY1 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
NOW = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)  # the morning after the close
AGREE, SUBMIT = Press(buttons.AGREE), Press(buttons.SUBMIT)
SKIPPED, NOT_SHOWN = "(skipped)", "(not shown)"
REFERENCES = {"A": "R-GOLD01", "B": "R-GOLD02", "C": "R-GOLD03", "D": "R-GOLD04", "E": "R-GOLD05", "F": "R-GOLD06"}
USERS = {"A": 2001, "B": 2002, "C": 2003, "D": 2004, "E": 2005, "F": 2006}
# Each tenant's current answers once the scripts below have run (checked against storage by _check): an option id,
# a multi's ticks, a number, a text question's words, SKIPPED or NOT_SHOWN; a question never reached is absent.
ANSWERS: dict[str, dict[str, object]] = {
    "A": {"overall": "very_satisfied", "repair_done": "yes", "repair_satisfaction": "fairly_satisfied",
          "repair_better": NOT_SHOWN, "services_used": ("repairs", "cleaning"), "cleaning_visits": 4,
          "listens": "agree", "household": 3, "feel_safe": "yes", "age_group": "35_to_64",
          "anything_else": "More trees"},
    "B": {"overall": "fairly_dissatisfied", "repair_done": "no", "repair_satisfaction": NOT_SHOWN,
          "repair_better": "Answer the phone", "services_used": ("none",), "cleaning_visits": NOT_SHOWN,
          "listens": "strongly_disagree", "household": 1, "feel_safe": NOT_SHOWN, "age_group": SKIPPED,
          "anything_else": SKIPPED},
    "C": {"overall": "dont_know", "repair_done": "yes", "repair_satisfaction": "very_dissatisfied",
          "repair_better": SKIPPED, "services_used": ("cleaning", "grounds", "rent_advice"), "cleaning_visits": 0,
          "listens": "neither", "household": 2, "feel_safe": "prefer_not", "age_group": "65_plus",
          "anything_else": SKIPPED},
    "D": {"overall": "very_satisfied", "repair_done": SKIPPED, "repair_satisfaction": NOT_SHOWN,
          "repair_better": NOT_SHOWN, "services_used": SKIPPED, "cleaning_visits": NOT_SHOWN, "listens": "agree"},
    "E": {"overall": "fairly_satisfied", "repair_done": "yes", "repair_satisfaction": "fairly_dissatisfied",
          "repair_better": "Fix the damp", "services_used": ("repairs",), "cleaning_visits": NOT_SHOWN,
          "listens": "agree", "household": 5, "feel_safe": "no", "age_group": "under_35", "anything_else": SKIPPED},
    "F": {"overall": "very_satisfied", "repair_done": "no", "repair_satisfaction": NOT_SHOWN,
          "repair_better": NOT_SHOWN, "services_used": ("grounds",), "cleaning_visits": NOT_SHOWN,
          "listens": "strongly_agree", "household": 2, "feel_safe": NOT_SHOWN, "age_group": "prefer_not",
          "anything_else": SKIPPED},
}
REASONS = {("A", "overall"): "Good service", ("C", "services_used"): "The cleaners rarely come"}
FINISHED = {"A", "B", "C", "E", "F"}  # D stopped part-way


def every_kind() -> Consultation:
    """The example of every kind of question (1 December 2026 to 31 January 2027, Europe/London)."""
    return load_consultation(FILE)


def done(question: str) -> Press:
    return Press(buttons.done_button_id(question))


def tick(*options: str) -> list[Press]:
    """Tick these options of services_used, then Done."""
    return [*(opt("services_used", option) for option in options), done("services_used")]


def words(tenant: str, question: str) -> Text:
    """The words ANSWERS says this tenant typed for a text question."""
    return Text(str(ANSWERS[tenant][question]))


async def build(db: Database, consultation: Consultation) -> None:
    """Six tenants over six days, then checks that each ended where ANSWERS says."""
    start = (Start("letter"), AGREE, nxt("start_page"))
    a = Tenant(db, consultation, USERS["A"], DAY1)
    await a.script(
        *start, opt("overall", "very_satisfied"), Text(REASONS["A", "overall"]), nxt("overall"),
        opt("repair_done", "yes"), opt("repair_satisfaction", "fairly_satisfied"), *tick("repairs", "cleaning"),
        skip("services_used"), Text("4"), opt("listens", "agree"), nxt("glad_page"), Text("3"),
        opt("feel_safe", "yes"), opt("age_group", "35_to_64"), words("A", "anything_else"), nxt("anything_else"),
        SUBMIT)
    b = Tenant(db, consultation, USERS["B"], DAY1 + timedelta(days=1))
    await b.script(
        *start, opt("overall", "fairly_dissatisfied"), skip("overall"), opt("repair_done", "no"),
        words("B", "repair_better"), nxt("repair_better"), *tick("none"), skip("services_used"),
        opt("listens", "strongly_disagree"), Text("1"), skip("age_group"), skip("anything_else"), SUBMIT)
    c = Tenant(db, consultation, USERS["C"], DAY1 + timedelta(days=2))
    await c.script(
        *start, opt("overall", "dont_know"), skip("overall"), opt("repair_done", "yes"),
        opt("repair_satisfaction", "very_dissatisfied"), skip("repair_better"),
        *tick("cleaning", "grounds", "rent_advice"), Text(REASONS["C", "services_used"]), nxt("services_used"),
        Text("0"), opt("listens", "neither"), Text("2"), opt("feel_safe", "prefer_not"), opt("age_group", "65_plus"),
        skip("anything_else"), SUBMIT)
    d = Tenant(db, consultation, USERS["D"], DAY1 + timedelta(days=3))
    await d.script(
        *start, opt("overall", "very_satisfied"), skip("overall"), skip("repair_done"), skip("services_used"),
        opt("listens", "agree"))
    e = Tenant(db, consultation, USERS["E"], DAY1 + timedelta(days=4))
    await e.script(
        *start, opt("overall", "fairly_satisfied"), skip("overall"), opt("repair_done", "yes"),
        opt("repair_satisfaction", "fairly_dissatisfied"), words("E", "repair_better"), nxt("repair_better"),
        *tick("repairs"), skip("services_used"), opt("listens", "agree"), Text("5"), opt("feel_safe", "no"),
        opt("age_group", "under_35"), skip("anything_else"), SUBMIT)
    f = Tenant(db, consultation, USERS["F"], DAY1 + timedelta(days=5))
    await f.script(
        *start, opt("overall", "very_satisfied"), skip("overall"), opt("repair_done", "yes"),
        opt("repair_satisfaction", "very_satisfied"), *tick("grounds"), skip("services_used"),
        opt("listens", "strongly_agree"), nxt("glad_page"), Text("2"), opt("feel_safe", "yes"),
        opt("age_group", "prefer_not"), skip("anything_else"),
        Press(buttons.change_button_id("repair_done")), opt("repair_done", "no"), SUBMIT)
    await _check(db, consultation)
    history = [a.answer for a in await db.answer_history(USERS["F"], consultation.id)
               if a.question_id == "repair_satisfaction"]
    assert [answer.choice for answer in history] == ["very_satisfied", None], "F's first answer stays as history"


def as_table(answer: Answer) -> object:
    """A stored answer in the form ANSWERS uses."""
    if not answer.shown:
        return NOT_SHOWN
    if answer.skipped:
        return SKIPPED
    if answer.choices:
        return answer.choices
    if answer.number is not None:
        return answer.number
    return answer.choice or answer.text


async def _check(db: Database, consultation: Consultation) -> None:
    """Fail loudly if a script went astray (a press the engine took as stale would otherwise pass unseen): storage
    must hold exactly ANSWERS, the reasons, and who finished."""
    for tenant, user_id in USERS.items():
        loaded = await db.load_state(user_id, consultation.id)
        assert (loaded.state.stage.value == "submitted") == (tenant in FINISHED), (tenant, loaded.state.stage)
        stored = {a.question_id: a.answer for a in await db.current_answers(user_id, consultation.id)}
        assert {qid: as_table(answer) for qid, answer in stored.items()} == ANSWERS[tenant], tenant
        reasons = {(tenant, qid): a.text for qid, a in stored.items() if a.text and (a.choice or a.choices)}
        assert reasons == {key: text for key, text in REASONS.items() if key[0] == tenant}, tenant


async def build_database(path: Path | str) -> Database:
    """An open database at `path` (a SQLite file, or a PostgreSQL URL) holding the six tenants."""
    db = await Database.open(database_url(path))
    await build(db, every_kind())
    return db


def relabelled(consultation: Consultation, labels: dict[tuple[str, str], str], units: dict[str, str]
               ) -> Consultation:
    """The same consultation with some option labels and units changed (ids kept, so the answers still match)."""
    questions = []
    for question in consultation.questions:
        options = tuple(replace(option, label=labels.get((question.id, option.id), option.label))
                        for option in question.options)
        questions.append(replace(question, options=options, unit=units.get(question.id, question.unit)))
    return replace(consultation, questions=tuple(questions))
