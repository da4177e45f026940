"""The examiner's downloads and the exercise link, in a real Chromium: the marked sheet and the
typed answers as files, and homework that shows each step's formula but none of its numbers.

The server, the browser and the skip without /usr/bin/chromium (a failure under CI=true) come
from conftest.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import Page, expect
from test_browser import CHART_JS, TIMEOUT_MS, equations, open_app, wait_idle
from test_browser_grids import type_into
from test_browser_panels import download, tab

from nnviz.core.engine import iterate
from nnviz.core.notation import short
from nnviz.core.problem import preset
from nnviz.files.share import query
from nnviz.teaching.grading import mark, read_answers
from nnviz.teaching.lesson import steps
from nnviz.teaching.quantities import value_of

SCORE = "43 answers: 29 correct, 1 carried forward, 13 wrong"


def seed_demo(page: Page):
    panel = tab(page, "Check answers")
    wait_idle(page)
    page.get_by_role("button", name="Load the seed demo").click()
    wait_idle(page)
    expect(panel.get_by_text(SCORE, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    return panel


def test_the_marked_sheet_and_the_typed_answers_download(page: Page, app_url: str):
    panel = seed_demo(open_app(page, app_url))
    expect(panel.locator(".katex-display")).to_have_count(13)  # each wrong answer's working
    name, data = download(page, panel.get_by_role("button", name="Marked (Markdown)"))
    text = data.decode()
    assert name == "marked.md" and text.splitlines()[2] == f"**{SCORE}**"
    assert "- `h_3 = 1.75`: **↻ carried**, expected `4.7000`" in text
    name, data = download(page, panel.get_by_role("button", name="These answers"))
    assert name == "answers.json"
    assert mark(read_answers(data)).summary() == {
        "graded": 43,
        "correct": 29,
        "carried": 1,
        "wrong": 13,
    }
    name, data = download(page, panel.get_by_role("button", name="Marked (LaTeX)"))
    assert name == "marked.tex" and data.decode().count(r"\item ") == 43


def worked_out(page: Page, worked, step) -> list[str]:
    """The values this step works out that its equations or the figure's neurons show, as the
    board writes them; not those the problem gives as well (v_12 = 2 and u_1 = 2 read alike)."""
    neurons = next(t for t in page.evaluate(CHART_JS) if t["name"] == "neurons")["text"]
    text = " ".join([*equations(page), *neurons]).replace("−", "-")
    p = worked.problem
    given = {short(v) for a in (p.x, p.target, *p.weights) for v in a.flat}
    found = [short(v) for key in step.reveals for v in value_of(worked, key).flat]
    return [v for v in found if v not in given and v in text]


def test_a_lecture_shows_what_a_step_works_out(page: Page, app_url: str):
    """So that worked_out can fail: u = v x, in a lecture, shows -1.5 and 4.7."""
    open_app(page, app_url)
    page.get_by_role("button", name="Next ▶").click()
    wait_idle(page)
    worked = iterate(preset("seed"))
    assert worked_out(page, worked, steps(worked)[1]) == ["-1.5", "4.7"]


def test_an_exercise_link_shows_formulas_and_marks_without_solutions(page: Page, app_url: str):
    url = f"{app_url}?{urlencode(query(preset('seed'), 0, exercise=True))}"
    open_app(page, url)
    expect(page.get_by_role("tab")).to_have_text(["Lecture", "Check answers"])
    worked = iterate(preset("seed"))
    lesson = steps(worked)
    for k in range(1, 6):  # to the loss
        page.get_by_role("button", name="Next ▶").click()
        wait_idle(page)
        expect(page.locator("h3").filter(has_text="Step ")).to_have_text(
            f"Step {k + 1} of 11: {lesson[k].title}"
        )
        assert len(equations(page)) == 1  # the step's formula, and no line worked out
        assert worked_out(page, worked, lesson[k]) == []
    traces = page.evaluate(CHART_JS)
    neurons = next(t for t in traces if t["name"] == "neurons")
    assert neurons["text"][3:] == ["h1", "h2", "h3", "h4", "o1", "o2"]
    expect(page.get_by_text("Iteration 1", exact=True)).to_be_visible()
    expect(page.get_by_text("loss L =")).to_have_count(0)
    expect(page.get_by_role("button", name="Markdown")).to_have_count(0)

    panel = tab(page, "Check answers")
    wait_idle(page)
    expect(panel.get_by_role("button", name="Load the seed demo")).to_have_count(0)
    for j, value in enumerate(["2", "-0.75"]):  # u_2 wrong
        type_into(page, "u", 0, j, "", value, index=False)
    expect(panel.get_by_text("2 answers: 1 correct, 0 carried forward, 1 wrong")).to_be_visible()
    expect(panel.locator(".katex")).to_have_count(0)  # no working
    expect(panel.get_by_text("-1.5")).to_have_count(0)  # nor the expected value
    expect(panel.get_by_role("button", name="These answers")).to_be_visible()
    expect(panel.get_by_role("button", name="Marked (Markdown)")).to_have_count(0)
