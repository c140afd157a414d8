"""At 100,000 respondents, every written question analysed, report.html stays under 2 MB (it was 58.6 MB when it
listed every answer); answers.html, its appendix, has them all.

The respondents come from the benchmark's generator (benchmarks/fixtures.py, bulk inserts through the real
schema); the theme tables are filled in bulk the same way: 12 themes per question, one or two machine codes on
most answers, some needs reading and non-answers, 2% confirmed by staff and a sample second-coded. Sizes and
timings go to tests/artifacts/report-size.json.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from benchmarks.fixtures import build
from storage.export.figures import megabytes
from storage.themes.runs import analysable
from tests.export.conftest import export_to

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
RESPONDENTS = 100_000
REPORT_LIMIT = 2_000_000
THEMES = 12
AT = "2020-11-20T12:00:00.000000+00:00"


def add_themes(path: Path, question_ids: tuple[str, ...], consultation_id: str) -> int:
    """Themes, codes and reviews for every current written answer to each question; returns how many answers."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        total = 0
        for question_id in question_ids:
            answers = [row[0] for row in conn.execute(
                "SELECT id FROM answers WHERE consultation_id = ? AND question_id = ? AND is_current = 1 "
                "AND coalesce(text, '') != '' ORDER BY id", (consultation_id, question_id))]
            total += len(answers)
            quotes = ",".join(str(answer_id) for answer_id in answers[:4])
            conn.executemany(
                "INSERT INTO themes (consultation_id, question_id, theme_id, name, description, key_phrases, quotes, "
                "made_by, named_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'machine', 'machine', ?, ?)",
                [(consultation_id, question_id, f"T{n}", f"Theme {n} about repairs and local firms",
                  "What these answers have in common", "repairs; local firms", quotes, AT, AT)
                 for n in range(1, THEMES + 1)])
            reviews: list[tuple[object, ...]] = []
            codes: list[tuple[int, str, str, float | None]] = []
            for index, answer_id in enumerate(answers):
                verdict = "needs_reading" if index % 10 == 0 else "non_answer" if index % 25 == 1 else "themed"
                confirmed = AT if index % 50 == 2 else None
                second = AT if index % 200 == 2 else None
                campaign = int(index % 100 == 3)
                reviews.append((answer_id, consultation_id, question_id, verdict, confirmed, second, campaign))
                if verdict == "themed":
                    themes = {f"T{index % THEMES + 1}", f"T{index % 5 + 1}"}
                    codes += [(answer_id, "machine", theme, 0.7) for theme in themes]
                    if confirmed:
                        codes += [(answer_id, "staff", theme, None) for theme in sorted(themes)[:1]]
                    if second:
                        codes += [(answer_id, "second", theme, None) for theme in themes]
            conn.executemany(
                "INSERT INTO theme_reviews (answer_id, consultation_id, question_id, verdict, machine_at, "
                "confirmed_by, confirmed_at, second_by, second_at, campaign) "
                "VALUES (?, ?, ?, ?, '" + AT + "', 1, ?, 2, ?, ?)",
                reviews)
            conn.executemany("INSERT INTO theme_codes (answer_id, coder, theme_id, confidence) VALUES (?, ?, ?, ?)",
                             codes)
        conn.execute("COMMIT")
    return total


@pytest.mark.slow
def test_the_report_stays_under_2_mb_at_100000_respondents_with_every_answer_in_the_appendix(tmp_path: Path) -> None:
    started = time.monotonic()
    database = tmp_path / "big.db"
    survey = asyncio.run(build(database, RESPONDENTS, first_user=10_000_000))
    written = add_themes(database, tuple(q.id for q in analysable(survey)), survey.id)
    built = time.monotonic() - started
    result = asyncio.run(export_to(database, tmp_path / "out", formats=("html",)))
    exported = time.monotonic() - started - built
    sizes = {file.path.name: file.size for file in result.files}
    summary = {"respondents": result.stats.agreed, "written_answers": written, "sizes": sizes,
               "report": megabytes(sizes["report.html"]), "answers": megabytes(sizes["answers.html"]),
               "build_seconds": round(built, 1), "export_seconds": round(exported, 1)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-size.json").write_text(json.dumps(summary, indent=2))
    assert result.stats.agreed == RESPONDENTS
    assert sizes["report.html"] <= REPORT_LIMIT, summary
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert report.count("<ol class=\"themes\">") == len(analysable(survey))  # every written question analysed
    answers = (tmp_path / "out" / "answers.html").read_text(encoding="utf-8")
    assert answers.count('<span class="ref">') == written  # every written answer, once
