"""report.html in headless Chromium at a phone's width: no console errors, every chart drawn with its bars,
nothing wider than the screen; the screenshot is kept in tests/artifacts/ for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.export import ExportResult
from tests.export.browser import Page
from tests.export.conftest import export_to
from tests.export.every_kind import every_kind

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHARTS = """Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const bars = Array.from(svg.querySelectorAll('rect.bar'));
  const drawn = bars.filter(bar => {
    const box = bar.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  });
  return {label: svg.getAttribute('aria-label'), bars: bars.length, drawn: drawn.length,
          width: svg.getBoundingClientRect().width};
})"""


@pytest.fixture
async def report(golden_db: Path, tmp_path: Path) -> tuple[Path, ExportResult]:
    result = await export_to(golden_db, tmp_path, formats=("html",))
    return tmp_path / "report.html", result


async def test_the_report_renders_on_a_phone_with_every_chart_and_no_console_errors(
    report: tuple[Path, ExportResult], tmp_path: Path
) -> None:
    path, result = report
    async with Page(tmp_path / "profile") as page:
        await page.open(path.as_uri())
        charts = await page.evaluate(CHARTS)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        sections = await page.evaluate("document.querySelectorAll('section h2').length")
        await page.screenshot(ARTIFACTS / "report-phone.png")
    assert page.problems == []
    stats = result.stats
    by_label = {chart["label"]: chart for chart in charts}
    assert len(charts) == 4
    sources = by_label["How people found the bot"]
    assert (sources["bars"], sources["drawn"]) == (len(stats.sources), len(stats.sources))
    days = by_label["Responses over time"]
    assert days["bars"] == 27 and days["drawn"] == 2  # 4 to 30 November; people agreed on two of the days
    q2, q4 = by_label["Question 2 of 5: Local suppliers"], by_label["Question 4 of 5: Environmental impact"]
    assert (q2["bars"], q2["drawn"]) == (3, 2) and (q4["bars"], q4["drawn"]) == (3, 2)  # a zero is a bar of no length
    assert all(0 < chart["width"] <= 412 for chart in charts)
    assert overflow <= 0, "the page is wider than a phone's screen"
    assert sections == 5
    assert (ARTIFACTS / "report-phone.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_browser_check_would_catch_a_script_error_and_a_blocked_load(tmp_path: Path) -> None:
    page_file = tmp_path / "broken.html"
    page_file.write_text(
        "<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
        '<img src="https://example.invalid/tracker.png"><p>broken</p>'
    )
    script_file = tmp_path / "throws.html"
    script_file.write_text("<!DOCTYPE html><script>console.error('deliberate'); null.boom;</script>")
    async with Page(tmp_path / "profile") as page:
        await page.open(page_file.as_uri())
        await page.open(script_file.as_uri())
    text = "\n".join(page.problems)
    assert "Content Security Policy" in text or "Refused" in text
    assert "console.error" in text and "uncaught" in text


async def test_a_report_of_every_kind_renders_on_a_phone_with_its_charts_and_their_numbers_as_text(
    every_kind_db: Path, tmp_path: Path
) -> None:
    survey = every_kind()
    result = await export_to(every_kind_db, tmp_path, formats=("html",), consultation=survey)
    async with Page(tmp_path / "profile") as page:
        await page.open((tmp_path / "report.html").as_uri())
        charts = await page.evaluate(CHARTS)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        lists = await page.evaluate("Array.from(document.querySelectorAll('ul.numbers')).map(list => "
                                    "list.getBoundingClientRect().height > 0 ? list.children.length : 0)")
        measures = await page.evaluate("Array.from(document.querySelectorAll('[id^=measure-]')).map(m => m.innerText)")
        await page.screenshot(ARTIFACTS / "report-every-kind-phone.png")
    assert page.problems == []
    by_label = {chart["label"]: chart for chart in charts}
    questions = dict(zip((q.id for q in survey.answerable), result.stats.questions, strict=True))
    places = {q.id: place for place, q in enumerate(survey.answerable, start=1)}

    def chart(question_id: str) -> dict[str, int]:
        return by_label[next(label for label in by_label if label.startswith(f"Question {places[question_id]} of"))]

    for question_id in ("overall", "repair_satisfaction", "listens", "services_used"):  # a bar per option or point
        figures, drawn = questions[question_id], chart(question_id)
        bars = [c for o, c in figures.choices.items() if o != "dont_know"]
        assert drawn["drawn"] == sum(1 for count in bars if count), question_id
    assert chart("overall")["bars"] == 5 and chart("services_used")["bars"] == 5
    assert (chart("household")["bars"], chart("household")["drawn"]) == (5, 4)  # 1 to 5; nobody said 4
    assert len(charts) == 2 + 9  # sources and days, then every question but the two text ones
    assert all(0 < c["width"] <= 412 for c in charts) and overflow <= 0
    # every chart's numbers are on the page as text: a line per option, point or number given
    assert lists == [6, 2, 5, 5, 2, 5, 4, 3, 4], "q1, q2, q3, q5 to q8, q10, q11"
    assert [" ".join(text.split()) for text in measures] == [
        "80.0% TP01 Overall satisfaction: 80.0% of 5", "33.3% TP02 Satisfaction with repairs: 33.3% of 3",
        "66.7% TP06 Agreement that Connexus listens to views and acts on them: 66.7% of 6"]


async def test_a_report_with_themes_and_its_answers_appendix_render_on_a_phone_and_the_link_between_them_works(
    themed_db: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    await export_to(themed_db[0], tmp_path, formats=("html",))
    async with Page(tmp_path / "profile") as page:
        await page.open((tmp_path / "report.html").as_uri())
        charts = await page.evaluate(CHARTS)
        report_overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        quotes = await page.evaluate("Array.from(document.querySelectorAll('blockquote')).filter(q => "
                                     "q.getBoundingClientRect().width > 0).length")
        link = await page.evaluate("document.querySelector('#q1 a[href^=\"answers.html\"]').href")
        await page.screenshot(ARTIFACTS / "report-themes-phone.png")
        await page.open(link)
        target = await page.evaluate("location.hash + ' ' + (document.getElementById('q1') !== null)")
        answers_overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        listed = await page.evaluate("Array.from(document.querySelectorAll('#q1 ol.answers > li')).filter(li => "
                                     "li.getBoundingClientRect().height > 0).length")
        await page.screenshot(ARTIFACTS / "answers-phone.png")
    assert page.problems == []
    themes = next(chart for chart in charts if chart["label"].startswith("Themes in the written answers to Question 1"))
    assert (themes["bars"], themes["drawn"]) == (2, 2) and 0 < themes["width"] <= 412
    assert quotes == 6
    assert report_overflow <= 0 and answers_overflow <= 0, "a page is wider than a phone's screen"
    assert target == "#q1 true"
    assert listed == 11  # every written answer to Q1, each once, open to read
