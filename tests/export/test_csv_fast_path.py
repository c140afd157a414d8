"""The CSV's fast path (SQLite writes the answers as CSV, times by the hour) writes exactly what the general path
does: the same bytes as csv.writer, for any text and every kind of question."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conversations.model import DONT_KNOW
from storage.export import rows
from storage.export.cells import (
    FORMULA_TRIGGERS,
    csv_field_sql,
    local,
    local_text,
    neutralise,
    neutralised_sql,
)
from storage.export.columns import Table
from storage.export.csv_writer import csv_field
from storage.export.csv_writer import text as text_field
from storage.export.flat_sql import Params, answer_fields
from storage.export.rows import Cell
from storage.timestamps import to_db
from tests.export.conftest import export_to
from tests.export.every_kind import every_kind, relabelled

ZONES = [ZoneInfo("Europe/London"), ZoneInfo("Australia/Adelaide"), ZoneInfo("America/St_Johns")]


def test_a_consultation_too_big_to_join_gets_the_same_csv_the_slow_way(
    golden_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(export_to(golden_db, tmp_path / "fast", identities=True, formats=("csv",)))
    monkeypatch.setattr(rows, "MAX_FLAT_QUESTIONS", 0)  # as if the consultation had more questions than joins
    asyncio.run(export_to(golden_db, tmp_path / "general", identities=True, formats=("csv",)))
    fast = (tmp_path / "fast" / "responses.csv").read_bytes()
    assert fast == (tmp_path / "general" / "responses.csv").read_bytes()
    assert fast.count(b"\r\n") >= 4, "the golden tenants are all there"


@settings(max_examples=300, deadline=None)
@given(instant=st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2022, 12, 31), timezones=st.just(UTC)),
       zone=st.sampled_from(ZONES))
def test_local_times_are_exact_whatever_the_season_or_zone(instant: datetime, zone: ZoneInfo) -> None:
    stored = to_db(instant)
    moment = local(stored, zone)
    assert moment is not None and local_text(stored, zone) == moment.isoformat(sep=" ")


@pytest.mark.parametrize("zone", ZONES)
def test_every_second_around_a_clock_change_reads_as_the_zone_says(zone: ZoneInfo) -> None:
    spring = {"Europe/London": datetime(2021, 3, 28, 0, 58, tzinfo=UTC),
              "Australia/Adelaide": datetime(2021, 4, 3, 16, 28, tzinfo=UTC),
              "America/St_Johns": datetime(2021, 3, 14, 5, 28, tzinfo=UTC)}[zone.key]
    for second in range(0, 4 * 60):
        stored = to_db(spring + timedelta(seconds=second, microseconds=999_999))
        exact = datetime.fromisoformat(stored).astimezone(zone).replace(tzinfo=None, microsecond=0)
        assert local_text(stored, zone) == exact.isoformat(sep=" ")


@given(st.text(alphabet=st.sampled_from([*FORMULA_TRIGGERS, "a", "'", ",", '"', "\n", "é", "😀", " "]), max_size=6)
       | st.text(max_size=20) | st.none())
def test_sqlite_neutralises_a_cell_exactly_as_python_does(value: str | None) -> None:
    with sqlite3.connect(":memory:") as conn:
        (made_safe,) = conn.execute(f"SELECT {neutralised_sql('v')} FROM (SELECT ? AS v)", (value,)).fetchone()
    assert made_safe == (None if value is None else neutralise(value))


@given(st.text(alphabet=st.sampled_from([*FORMULA_TRIGGERS, "a", "'", ",", '"', "\n", "\r", "é", "😀", " ", ";"]),
               max_size=8) | st.text(max_size=30) | st.none())
def test_sqlite_writes_a_text_cell_exactly_as_the_csv_module_does(value: str | None) -> None:
    with sqlite3.connect(":memory:") as conn:
        (field,) = conn.execute(f"SELECT {csv_field_sql('v')} FROM (SELECT ? AS v)", (value,)).fetchone()
    expected = io.StringIO()
    csv.writer(expected).writerow(["" if value is None else neutralise(value), "next"])
    assert f"{field},next\r\n" == expected.getvalue()


@given(st.text(alphabet=st.sampled_from(["a", ",", '"', "\n", "\r", " ", "é"]), max_size=8))
def test_a_choice_label_written_outside_the_csv_module_is_written_the_same(label: str) -> None:
    expected = io.StringIO()
    csv.writer(expected).writerow([label, "next"])
    assert f"{csv_field(label)},next\r\n" == expected.getvalue()


@pytest.mark.parametrize("identities", [False, True])
def test_the_fast_path_writes_the_same_bytes_as_the_general_path_for_every_kind_of_question(
    every_kind_database: Path | str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, identities: bool
) -> None:
    every_kind_db = every_kind_database  # a SQLite file, then PostgreSQL: the fast path is SQL of each
    awkward = relabelled(every_kind(), {("services_used", "repairs"): '=Repairs, "fast"', ("overall", DONT_KNOW):
                                        "Not sure,\nreally", ("listens", "agree"): "-Agree"}, units={})
    for survey in (every_kind(), awkward):
        fast, general = tmp_path / f"fast-{survey is awkward}", tmp_path / f"general-{survey is awkward}"
        asyncio.run(export_to(every_kind_db, fast, identities=identities, formats=("csv",), consultation=survey))
        with monkeypatch.context() as patch:
            patch.setattr(rows, "MAX_FLAT_QUESTIONS", 0)
            asyncio.run(export_to(every_kind_db, general, identities=identities, formats=("csv",),
                                  consultation=survey))
        written = (fast / "responses.csv").read_bytes()
        assert written == (general / "responses.csv").read_bytes()
        assert written.count(b"\r\n") >= 7 and b"not shown" in written


AWKWARD_TEXT = st.tuples(st.sampled_from(["", *FORMULA_TRIGGERS]), st.text(
    alphabet=st.sampled_from([*FORMULA_TRIGGERS, "a", "'", ",", '"', "\n", "\r", "é", " ", ";"]), min_size=1,
    max_size=6)).map("".join)  # often starting like a formula
STORED = ("CREATE TABLE answers (user_id INTEGER, choice TEXT, text TEXT, skipped INTEGER, choices TEXT, "
          "number INTEGER, shown INTEGER, consultation_version TEXT)")


@settings(max_examples=300, deadline=None)
@example(question_id="services_used", labels=["=a", 'b,"', "c", "d", "e", "f"], ticked={"repairs", "cleaning"},
         choice=None, text=None, number=None, skipped=False, shown=True, reached=True)
@example(question_id="services_used", labels=["a", "-b", "c", "d", "e", "f"], ticked={"cleaning", "gone"},
         choice=None, text="why", number=None, skipped=False, shown=True, reached=True)
@example(question_id="overall", labels=["+n", "b", "c", "d", "e", "f,\n"], ticked=set(), choice=DONT_KNOW,
         text=None, number=None, skipped=False, shown=True, reached=True)
@given(question_id=st.sampled_from(["overall", "services_used", "household", "repair_done", "anything_else"]),
       labels=st.lists(AWKWARD_TEXT, min_size=6, max_size=6), ticked=st.sets(st.sampled_from(
           ["repairs", "cleaning", "grounds", "rent_advice", "none", "gone"])),
       choice=st.none() | st.sampled_from(["", "very_satisfied", "neither", DONT_KNOW, "yes", "gone"]),
       text=st.none() | st.text(max_size=8) | AWKWARD_TEXT, number=st.none() | st.integers(-10**6, 10**6),
       skipped=st.booleans(), shown=st.booleans(), reached=st.booleans())
def test_sqlite_writes_each_kind_of_answer_exactly_as_the_general_path_does(
    question_id: str, labels: list[str], ticked: set[str], choice: str | None, text: str | None,
    number: int | None, skipped: bool, shown: bool, reached: bool
) -> None:
    multi = ["repairs", "cleaning", "grounds", "rent_advice", "none"]
    names = {("services_used", option): label for option, label in zip(multi, labels, strict=False)}
    survey = relabelled(every_kind(), {**names, ("overall", DONT_KNOW): labels[5], ("overall", "neither"): labels[0],
                                       ("repair_done", "yes"): labels[1]}, units={})
    question = survey.question(question_id)
    assert question is not None
    order = [*multi, "gone"]
    stored = ",".join(sorted(ticked, key=order.index)) or None
    cell = Cell(choice, text, skipped, "2026-12-01", tuple(stored.split(",")) if stored else (), number, shown)
    expected = io.StringIO()
    csv.writer(expected).writerow([*(text_field(value) for value in Table(survey, False).answer(
        question, cell if reached else None)), "next"])
    bind = Params()
    sql = f"SELECT {answer_fields(question, 'a', bind)} FROM answers a"
    with sqlite3.connect(":memory:") as conn:
        conn.execute(STORED)
        conn.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (1 if reached else None, choice, text, int(skipped), stored, number, int(shown), "2026-12-01"))
        (written,) = conn.execute(sql, bind.values).fetchone()
    assert f"{written},next\r\n" == expected.getvalue()
