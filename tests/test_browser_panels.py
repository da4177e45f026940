"""The Train and Gradient check tabs, share links, problem files and downloads in a real Chromium:
the browser half of test_panels.py and test_links.py.

Expected numbers come from the NumPy loop in seed.py, not from nnviz. The server, the browser and
the skip without /usr/bin/chromium (a failure under CI=true) come from conftest.py.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from conftest import VIEWPORT
from playwright.sync_api import Browser, Page, expect
from seed import SEED_V, SEED_W, descend, loss_and_gradients
from test_browser import (
    TIMEOUT_MS,
    _plain,
    _png_size,
    chart,
    edit_cell,
    grid_value,
    heading,
    press,
    wait_idle,
    weight_hover,
)

from nnviz.core.problem import Problem, preset

ROOT = Path(__file__).resolve().parent.parent
SEED_JSON = (ROOT / "examples" / "seed-problem.json").read_bytes()
SETUP = "Step 1 of 11: The setup"
SEED_TITLE = "Problem 1: 3-4-2, ELU hidden layer, softmax output"
EXPORT_TIMEOUT_MS = 120_000  # the first PNG starts kaleido's own Chromium
NO_TRACEBACK = '[data-testid="stException"]'


# --- reading the page -------------------------------------------------------------------------

LOSS_CURVE_JS = """() => {
  const gd = document.querySelector('.st-key-train_loss .js-plotly-plot');
  if (!gd || !gd.data || !gd.querySelector('.scatterlayer .trace')) return null;
  const plain = v => (v && v._inputArray) ? Array.from(v._inputArray)
                   : (ArrayBuffer.isView(v) ? Array.from(v) : v);
  return Array.from(gd.data).map(t => ({x: plain(t.x), y: plain(t.y)}));
}"""


def open_app(page: Page, url: str) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    wait_idle(page)
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", state="attached")
    return page


@pytest.fixture
def app(page: Page, app_url: str) -> Page:
    """A fresh session on the seed problem; the same start as test_browser's fixture."""
    open_app(page, app_url)
    expect(step_heading(page)).to_have_text(SETUP)
    return page


def step_heading(page: Page):
    return page.locator("h3").filter(has_text=re.compile(r"^Step "))


def tab(page: Page, name: str):
    page.get_by_role("tab", name=name).click()
    return page.get_by_role("tabpanel", name=name)


def loss_curve(page: Page) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of the Train tab's loss chart (not the network figure, which comes first)."""
    page.wait_for_function(LOSS_CURVE_JS, timeout=TIMEOUT_MS)
    (trace,) = page.evaluate(LOSS_CURVE_JS)
    return np.asarray(_plain(trace["x"]), float), np.asarray(_plain(trace["y"]), float)


def train(page: Page, iterations: int) -> None:
    panel = tab(page, "Train")
    box = panel.get_by_label("Iterations")
    box.fill(str(iterations))
    box.press("Enter")
    wait_idle(page)
    expect(box).to_have_value(str(iterations))
    page.locator(".st-key-train_run").get_by_role("button").click()
    expect(page.locator(".st-key-train_apply").get_by_role("button")).to_be_visible()
    wait_idle(page)


def sidebar_select(page: Page, label: str, option: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True)
    ).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def alert(page: Page, text: str | re.Pattern):
    """A notice, warning or error box whose whole text is `text`."""
    return page.locator('[data-testid="stAlert"]').filter(
        has=page.get_by_text(text, exact=isinstance(text, str))
    )


def table_rows(frame, count: int) -> list[list[str]]:
    """The rows of a st.dataframe from glide-data-grid's accessibility table, which holds only
    the rows on screen: scrolled with the mouse wheel until all `count` have been seen."""
    seen: dict[int, list[str]] = {}
    frame.locator('td[data-testid="glide-cell-0-0"]').wait_for(state="attached")
    box = frame.bounding_box()
    assert box, "the table is not on screen"
    frame.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(count):
        for row in frame.locator("tr:has(td)").all():
            cells = row.locator("td")
            index = int(cells.first.get_attribute("data-testid").rsplit("-", 1)[1])
            seen[index] = cells.all_text_contents()
        if len(seen) >= count:
            break
        frame.page.mouse.wheel(0, 300)
        frame.locator(f'td[data-testid="glide-cell-0-{max(seen) + 1}"]').wait_for(state="attached")
    assert sorted(seen) == list(range(count)), f"rows seen: {sorted(seen)}"
    return [seen[i] for i in range(count)]


def download(page: Page, locator, timeout: float = TIMEOUT_MS):
    with page.expect_download(timeout=timeout) as info:
        locator.click()
    file = info.value
    assert file.failure() is None, file.failure()
    with open(file.path(), "rb") as f:
        return file.suggested_filename, f.read()


# --- the tests --------------------------------------------------------------------------------


def test_a_training_run_is_reported_drawn_and_applied(app: Page):
    losses, final, v, w, _ = descend(100)
    assert len(losses) == 100 and f"{losses[0]:.6g}" == "0.309548"

    train(app, 100)
    said = f"100 updates: L went from 0.309548 to {final:.6g}."
    expect(alert(app, said)).to_be_visible()
    x, y = loss_curve(app)
    np.testing.assert_array_equal(x, np.arange(101))
    np.testing.assert_allclose(y, [*losses, final], rtol=1e-9)

    app.get_by_role(
        "button", name=re.compile(r"^Apply: go on from the weights after 100 updates")
    ).click()
    # Apply goes on in the lecture by itself; a click on its tab meanwhile would be one more
    # rerun, and the notice below is said once
    expect(app.get_by_role("tab", name="Lecture")).to_have_attribute("aria-selected", "true")
    lecture = app.get_by_role("tabpanel", name="Lecture")
    expect(lecture.get_by_text(f"Iteration 101 · loss L = {final:.4f}", exact=True)).to_be_visible()
    wait_idle(app)  # the text above is drawn before the grid's and the chart's rerun ends
    expect(step_heading(app)).to_have_text(SETUP)
    expect(alert(app, re.compile(r"^Applied 100 iterations of training\."))).to_be_visible()
    shown = grid_value(app, "v", 1, 0)
    assert f"{shown:.4f}" == f"{v[1, 0]:.4f}" == "0.5112"
    assert shown == 0.5112  # the grid writes it as the board does; the chart holds every digit
    assert chart(app)["edge values"]["color"][3] == pytest.approx(v[1, 0], abs=1e-12)
    assert weight_hover(app, "w_24") == pytest.approx(w[1, 3], abs=5e-5)

    assert press(app, "prev") == "Step 11 of 11: The update of w and v"
    expect(lecture.get_by_text(re.compile(r"^Iteration 1( ·|$)"))).to_be_visible()
    assert grid_value(app, "v", 1, 0) == 0.5
    assert weight_hover(app, "v_21") == 0.5


def test_a_diverging_run_names_the_iteration_and_shows_no_traceback(app: Page):
    losses, last, _, _, culprit = descend(1000, eta=50.0, linear=True)
    assert len(losses) == 2 and culprit is not None

    sidebar_select(app, "Output activation", "identity")
    expect(
        alert(app, "cross_entropy needs a softmax output layer, so the loss is now squared_error.")
    ).to_be_visible()
    wait_idle(app)  # the grids come back under new keys: edit those, not the old ones
    edit_cell(app, "η", 0, 0, "0.1", "50")
    assert grid_value(app, "η", 0, 0) == 50.0

    train(app, 1000)
    panel = app.get_by_role("tabpanel", name="Train")
    expect(panel.get_by_text(re.compile(r"with η = 50, on the one example"))).to_be_visible()
    message = alert(app, re.compile(r"^The run diverged at iteration "))
    expect(message).to_be_visible()
    text = message.inner_text()
    assert text.startswith(f"The run diverged at iteration {len(losses) + 1}: ")
    assert f"after its update {culprit} = " in text and "is out of range" in text
    assert text.endswith("The weights before it are kept; lower η.")
    expect(panel.get_by_role("button", name=re.compile(r"^Apply: "))).to_have_text(
        re.compile(rf"after {len(losses)} updates")
    )
    _, y = loss_curve(app)
    np.testing.assert_allclose(y, [*losses, last], rtol=1e-9)
    expect(app.locator(NO_TRACEBACK)).to_have_count(0)


def test_the_gradient_check_agrees_with_backpropagation_by_hand(app: Page):
    _, dv, dw = loss_and_gradients(SEED_V, SEED_W)
    panel = tab(app, "Gradient check")
    expect(
        panel.get_by_text(
            re.compile(r"^All 20 gradients agree with finite differences \(largest relative")
        )
    ).to_be_visible()
    frame = panel.locator('[data-testid="stDataFrame"]')
    expect(frame.locator("th")).to_have_text(
        ["parameter", "backpropagation", "finite differences", "relative error", "agree"]
    )
    rows = table_rows(frame, 20)
    names = [f"dL/dv_{j}{i}" for j in range(1, 5) for i in range(1, 4)]
    names += [f"dL/dw_{k}{j}" for k in range(1, 3) for j in range(1, 5)]
    assert [r[0] for r in rows] == names
    expected = np.r_[dv.ravel(), dw.ravel()]
    np.testing.assert_allclose([float(r[1]) for r in rows], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([float(r[2]) for r in rows], expected, rtol=0, atol=1e-9)
    # dL/dv_3i is exactly 0, and its finite difference rounding noise: no relative error shown
    zero = [names.index(f"dL/dv_3{i}") for i in (1, 2, 3)]
    assert all(r[4] == ("✓ both 0" if k in zero else "✓") for k, r in enumerate(rows))
    assert all(expected[k] == 0 and rows[k][3].strip() == "" for k in zero)
    assert all(float(r[3]) < 1e-6 for k, r in enumerate(rows) if k not in zero)


def test_a_share_link_shows_a_second_student_the_same_view(
    app: Page, browser: Browser, app_url: str
):
    v = SEED_V.copy()
    v[1, 0] = 2.0
    edit_cell(app, "v", 1, 0, "0.5", "2.0")
    for _ in range(3):
        press(app, "next")
    assert heading(app) == "Step 4 of 11: z = w h"
    lecturer = chart(app)["edge values"]

    app.locator(".st-key-share").get_by_role("button").click()
    app.wait_for_url(re.compile(r"\?p=[^&]+&step=4$"))
    wait_idle(app)
    query = parse_qs(urlsplit(app.url).query)
    shown = app.locator('[data-testid="stSidebar"] [data-testid="stCode"]').inner_text()
    assert parse_qs(urlsplit(shown.strip()).query) == query
    link = query["p"][0]

    second = browser.new_context(viewport=VIEWPORT)
    try:
        student = open_app(second.new_page(), app.url)
        expect(step_heading(student)).to_have_text("Step 4 of 11: z = w h")
        assert grid_value(student, "v", 1, 0) == 2.0
        edges = chart(student)["edge values"]
        assert edges["hovertext"] == lecturer["hovertext"]
        np.testing.assert_array_equal(edges["color"], np.r_[v.ravel(), SEED_W.ravel()])
        notices = student.get_by_role("tabpanel", name="Lecture").locator('[data-testid="stAlert"]')
        expect(notices).to_have_count(0)  # a good link says nothing

        for damaged in ("1.@@@", link[:-40]):
            open_app(student, f"{app_url}/?p={damaged}&step=3")
            expect(step_heading(student)).to_have_text(SETUP)
            expect(
                alert(
                    student,
                    re.compile(
                        r"^The share link is damaged: .*The default problem opens instead\.$",
                        re.S,
                    ),
                )
            ).to_be_visible()
            expect(student).not_to_have_url(re.compile(r"[?&]p="))
            assert grid_value(student, "v", 1, 0) == 0.5
    finally:
        second.close()


def test_a_problem_file_is_opened_or_refused_with_the_reason(app: Page):
    def upload(name: str, data: bytes) -> None:
        app.locator(
            '[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]'
        ).set_input_files({"name": name, "mimeType": "application/json", "buffer": data})

    truncated = SEED_JSON[:-30]
    with pytest.raises(json.JSONDecodeError) as e:
        json.loads(truncated)
    upload("cut.json", truncated)
    expect(
        alert(
            app,
            f"cut.json was not opened: the JSON ends early (line {e.value.lineno}); the file "
            "looks truncated. The network on screen is unchanged.",
        )
    ).to_be_visible()
    wait_idle(app)
    expect(step_heading(app)).to_have_text(SETUP)
    expect(app.get_by_text(SEED_TITLE, exact=True).first).to_be_visible()
    assert grid_value(app, "v", 1, 0) == 0.5

    upload("nan.json", SEED_JSON.replace(b"[0.5, -1.0, 1.0]", b"[NaN, -1.0, 1.0]"))
    expect(
        alert(app, re.compile(r"^nan\.json was not opened: weights\[0\]\[1\]\[0\] "))
    ).to_be_visible()
    wait_idle(app)
    assert grid_value(app, "v", 1, 0) == 0.5

    data = json.loads(SEED_JSON)
    data["weights"][0][1][0] = 2.0
    data["title"] = "Mine"
    upload("mine.json", json.dumps(data).encode())
    expect(alert(app, "Opened mine.json.")).to_be_visible()
    wait_idle(app)
    assert grid_value(app, "v", 1, 0) == 2.0
    assert weight_hover(app, "v_21") == 2.0

    # Reset goes back to the file as it was opened, not to the seed
    edit_cell(app, "w", 0, 0, "1.0", "3.0")
    for _ in range(3):
        press(app, "next")
    press(app, "reset")
    assert heading(app) == SETUP
    expect(app.get_by_text("Mine", exact=True).first).to_be_visible()
    assert (grid_value(app, "v", 1, 0), grid_value(app, "w", 0, 0)) == (2.0, 1.0)
    assert (weight_hover(app, "v_21"), weight_hover(app, "w_11")) == (2.0, 1.0)


def test_the_downloads_hold_the_problem_and_the_figure(app: Page):
    name, data = download(app, app.locator(".st-key-problem_download").get_by_role("button"))
    assert name.endswith(".json")
    assert json.loads(data)["weights"] == [SEED_V.tolist(), SEED_W.tolist()]
    assert Problem.from_json(data).to_dict() == preset("seed").to_dict()
    edit_cell(app, "v", 1, 0, "0.5", "2.0")  # the file holds what the grid shows, at once
    _, data = download(app, app.locator(".st-key-problem_download").get_by_role("button"))
    assert json.loads(data)["weights"][0][1][0] == 2.0

    name, png = download(
        app, app.locator(".st-key-network_export_png").get_by_role("button"), EXPORT_TIMEOUT_MS
    )
    assert name == "network-step-1.png"
    width, height = _png_size(png)
    assert width > 0 and height > 0

    _, svg = download(
        app, app.locator(".st-key-network_export_svg").get_by_role("button"), EXPORT_TIMEOUT_MS
    )
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"

    _, html = download(app, app.locator(".st-key-network_export_html").get_by_role("button"))
    assert b"plotly" in html
    expect(app.locator(NO_TRACEBACK)).to_have_count(0)


def test_the_seeds_worked_answer_as_text_is_read_shown_and_marked(app: Page):
    """The exam's own document, uploaded as it is: what it read comes first, then the marks."""
    panel = tab(app, "Check answers")
    expect(panel.get_by_text(re.compile(r"^Marking against: the problem as set"))).to_be_visible()
    document = (ROOT / "examples" / "seed-answer.txt").read_bytes()
    panel.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        {"name": "seed-answer.txt", "mimeType": "text/plain", "buffer": document}
    )
    expect(alert(app, "Read seed-answer.txt.")).to_be_visible()
    wait_idle(app)
    read = panel.get_by_text("Read 43 numbers, for 9 quantities, from the text", exact=True)
    expect(read).to_be_visible()
    expect(
        panel.get_by_text(re.compile(r"^Marking against: the problem the text was read for \("))
    ).to_be_visible()
    frames = panel.locator('[data-testid="stDataFrame"]')
    read = frames.filter(has=app.locator("th", has_text="as written"))
    rows = table_rows(read, 11)  # o and h are written twice, the same both times
    assert [r[1] for r in rows] == [
        *("u", "h", "z", "o", "L", "o", "h", "dL/dz", "dL/dw", "dL/dv", "w_new")
    ]
    assert rows[4][0] == "42" and rows[4][2] == "0.1344"  # line 42: L = ... = 0.1344
    skipped = frames.filter(has=app.locator("th", has_text="why"))
    assert [r[2] for r in table_rows(skipped, 6)] == [
        *(f"{s} is part of the problem" for s in ("x", "o*", "v", "w", "x", "η"))
    ]
    score = panel.get_by_role("heading", name="43 answers: 29 correct, 1 carried forward, 13 wrong")
    expect(score).to_be_visible()
    # the score at the top of the tab, above the upload box and the tables
    uploader = panel.locator('[data-testid="stFileUploader"]')
    assert score.bounding_box()["y"] < uploader.bounding_box()["y"]


def test_the_quiz_hides_the_loss_and_the_worked_solution_until_answered(app: Page):
    lecture = app.get_by_role("tabpanel", name="Lecture")
    expect(lecture.get_by_role("button", name=re.compile("Markdown"))).to_be_visible()
    lecture.locator(".st-key-quiz_mode").get_by_text("Quiz", exact=True).click()
    wait_idle(app)
    expect(
        lecture.get_by_text("The worked solution is hidden while the quiz is on.")
    ).to_be_visible()
    expect(lecture.get_by_role("button", name=re.compile("Markdown"))).to_have_count(0)
    for k in range(2, 7):
        assert press(app, "next").startswith(f"Step {k} of 11")
    expect(lecture.get_by_text("Iteration 1", exact=True)).to_be_visible()
    expect(lecture.get_by_text(re.compile(r"loss L ="))).to_have_count(0)
    lecture.locator(".st-key-quiz_check").get_by_role("button").click()
    expect(lecture.get_by_text("Iteration 1 · loss L = 0.3095", exact=True)).to_be_visible()
