"""The CSV's fast path (SQLite writes the answers as CSV, times by the hour) writes exactly what the general path
does: the same bytes as csv.writer, for any text."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.export import rows
from storage.export.cells import (
    FORMULA_TRIGGERS,
    csv_field_sql,
    local,
    local_text,
    neutralise,
    neutralised_sql,
)
from storage.export.csv_writer import csv_field
from storage.timestamps import to_db
from tests.export.conftest import export_to

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
