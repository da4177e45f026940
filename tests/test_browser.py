"""The app in a real Chromium: what a user sees after each click and each edit.

The expected numbers come from a small NumPy derivation of the seed problem written out below,
not from nnviz. The server and the browser come from conftest.py; without /usr/bin/chromium
these tests are skipped (and fail under CI=true).

    NNVIZ_README_SCREENSHOT=1 pytest tests/test_browser.py -k readme    # docs/screenshot.png
"""

from __future__ import annotations

import base64
import io
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from seed import ETA, SEED_V, SEED_W, TARGET, TITLES, X

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_MS = 15_000  # any single wait
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
BUTTONS = {"next": "Next ▶", "prev": "◀ Previous", "reset": "Reset"}  # key: label


def reference(v: np.ndarray, w: np.ndarray) -> dict:
    """One step of the seed network (ELU with alpha 1, softmax, cross-entropy), by hand."""
    u = v @ X
    h = np.where(u > 0, u, np.expm1(np.minimum(u, 0)))
    z = w @ h
    o = np.exp(z - z.max())
    o /= o.sum()
    dz = o - TARGET
    dh = w.T @ dz
    du = dh * np.where(u > 0, 1.0, np.exp(np.minimum(u, 0)))
    dv, dw = np.outer(du, X), np.outer(dz, h)
    return {
        "u": u,
        "h": h,
        "o": o,
        "loss": float(-np.sum(TARGET * np.log(o))),
        "dv": dv,
        "dw": dw,
        "v_new": v - ETA * dv,
        "w_new": w - ETA * dw,
    }


# --- reading the page -------------------------------------------------------------------------

CHART_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd.data || gd.data.__stale || !gd.querySelector('.scatterlayer .trace')) {
    return null;
  }
  const plain = v => (v && v._inputArray) ? Array.from(v._inputArray)
                   : (ArrayBuffer.isView(v) ? Array.from(v) : v);
  return Array.from(gd.data).map(t => ({
    name: t.name,
    text: plain(t.text),
    hovertext: plain(t.hovertext),
    color: plain(t.marker && t.marker.color),
    colorbar: t.marker && t.marker.colorbar && t.marker.colorbar.title
      ? t.marker.colorbar.title.text : null,
  }));
}"""
# A rerun that changes the figure draws a new chart; marking the data drawn now tells it apart.
MARK_STALE_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (gd && gd.data) gd.data.__stale = true;
}"""
FRESH_CHART_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  return !!(gd && gd.data && !gd.data.__stale && gd.querySelector('.scatterlayer .trace'));
}"""
HEADING_CHANGED_JS = """(before) => {
  const h = [...document.querySelectorAll('h3')].find(e => e.innerText.startsWith('Step '));
  return !!h && h.innerText.trim() !== before;
}"""


def wait_idle(page: Page, timeout_ms: int = TIMEOUT_MS) -> None:
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def heading(page: Page) -> str:
    return page.locator("h3").filter(has_text=re.compile(r"^Step ")).inner_text().strip()


def _plain(value):
    """Plotly's typed-array encoding ({dtype, bdata}) as a list."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def chart(page: Page) -> dict[str, dict]:
    """The drawn chart's traces by name, with arrays as lists."""
    page.wait_for_function(FRESH_CHART_JS, timeout=TIMEOUT_MS)
    traces = page.evaluate(CHART_JS)
    assert traces, "the chart vanished while being read"
    return {t["name"]: {k: _plain(v) for k, v in t.items()} for t in traces}


def weight_hover(page: Page, name: str) -> float:
    """A weight as the chart's hover text for its edge says it, e.g. 'v_21 = 0.5, ∂L/∂v_21 …'."""
    for text in chart(page)["edge values"]["hovertext"]:
        if text.startswith(f"{name} = "):
            return float(text.split(",")[0].split("=")[1].replace("−", "-"))
    raise AssertionError(f"no edge hover text for {name}")


def node_label(page: Page, name: str) -> str:
    """A neuron's label with its line breaks as ' | ', e.g. 'h2 | h | -0.7769'."""
    for text in chart(page)["neurons"]["text"]:
        parts = text.split("<br>")
        if parts[0] == name:
            return " | ".join(p for p in parts if p)
    raise AssertionError(f"no neuron labelled {name}")


def equations(page: Page) -> list[str]:
    """The equation panel as the reader sees it (KaTeX's HTML, not its TeX source), with the
    spacing removed and − as -: e.g. 'h2=ELU(u2)=ELU(-1.5)=-0.7769'."""
    texts = page.locator('[data-testid="stMarkdownContainer"] .katex-html').all_inner_texts()
    return [re.sub(r"[\s\u200b]", "", t).replace("−", "-") for t in texts]


def equation(page: Page, start: str) -> str:
    lines = [e for e in equations(page) if e.startswith(start)]
    assert len(lines) == 1, f"one equation starting {start!r} expected: {equations(page)}"
    return lines[0]


def last_number(text: str) -> float:
    return float(re.findall(r"-?\d+\.\d+", text)[-1])


def button(page: Page, key: str):
    """A stepper button by its Streamlit key and its label (its accessible name may go on
    with a keyboard shortcut, e.g. "Next ▶ Shortcut PageDown")."""
    label = re.compile("^" + re.escape(BUTTONS[key]))
    return page.locator(f".st-key-{key}").get_by_role("button", name=label)


def press(page: Page, key: str) -> str:
    """Click a stepper button and wait for the new step's heading, the end of the rerun and a
    drawn chart. (A changed figure replaces the chart's element in the same render that ends
    the rerun, so the chart found after that is the new one. Some steps leave the figure as
    it was, e.g. 7 to 8, so a new chart cannot be waited for.)"""
    before = heading(page)
    button(page, key).click()
    page.wait_for_function(HEADING_CHANGED_JS, arg=before, timeout=TIMEOUT_MS)
    wait_idle(page)
    page.wait_for_function(FRESH_CHART_JS, timeout=TIMEOUT_MS)
    return heading(page)


def choose_preset(page: Page, label: str) -> None:
    """Pick a preset in the sidebar's select box and wait for its chart."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.evaluate(MARK_STALE_JS)
    page.get_by_role("option", name=label).click()
    wait_idle(page)
    page.wait_for_function(FRESH_CHART_JS, timeout=TIMEOUT_MS)


def grid(page: Page, label: str):
    """The data editor under the bold label `label` ("v", "w", "x", "o*", "η")."""
    return page.locator(
        f'xpath=//div[@data-testid="stElementContainer"][.//p[normalize-space()="{label}"]]'
        '/following-sibling::div[@data-testid="stElementContainer"][1]'
        '//div[@data-testid="stDataFrame"]'
    )


# glide-data-grid draws on a canvas; Streamlit's rows and its header are 35 px high, and the
# row names (the index) are the leftmost column, whatever the widths of the others.
ROW_PX, INDEX_X_PX = 35, 15


def grid_value(page: Page, label: str, row: int, col: int) -> float:
    """A cell's value from the grid's own accessibility table (glide-data-grid keeps one in
    the DOM while the grid is on screen). `col` counts data columns from 0."""
    g = grid(page, label)
    g.scroll_into_view_if_needed()
    cell = g.locator(f'td[data-testid="glide-cell-{col + 1}-{row}"]')
    expect(cell).to_have_count(1, timeout=TIMEOUT_MS)
    return float(cell.text_content())


def open_editor(page: Page, label: str, row: int, col: int, old: str, index: bool = True):
    """A cell's editor, open: select the row by its name (or the first column, in a grid
    without one), move right to the column, see the grid select it, press Enter, and check
    that the editor holds `old` (so the right cell is being edited)."""
    editor, held = page.locator("#portal .gdg-input"), []
    for _ in range(4):  # a grid drawn afresh may swallow the first pointer or key events
        g = grid(page, label)  # where it is now: the marks beside it may have moved it
        g.scroll_into_view_if_needed()
        box = g.bounding_box()
        assert box, f"grid {label} is not on screen"
        x, y = box["x"] + INDEX_X_PX, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.wait_for_timeout(200)
        if editor.is_visible():  # a click on the cell selected already opens its editor
            page.keyboard.press("Escape")
        for _ in range(col + index):
            page.keyboard.press("ArrowRight")
        target = g.locator(f'td[data-testid="glide-cell-{col + index}-{row}"]')
        try:  # an arrow key pressed before the grid took the click moves nothing
            expect(target).to_have_attribute("aria-selected", "true", timeout=2000)
            page.keyboard.press("Enter")
            expect(editor).to_be_visible(timeout=3000)
            held.append(editor.input_value(timeout=3000))
            if held[-1] == old:
                return editor
        except (AssertionError, PlaywrightTimeoutError):  # a rerun drew the grid again
            held.append(None)
        page.keyboard.press("Escape")
        wait_idle(page)
    pytest.fail(f"could not open the editor of {label}[{row}, {col}] holding {old!r}: {held}")


def edit_cell(page: Page, label: str, row: int, col: int, old: str, new: str) -> None:
    """Type `new` into a cell of a lecture grid, and wait for the chart and the grid to show it."""
    editor = open_editor(page, label, row, col, old)
    page.evaluate(MARK_STALE_JS)
    editor.fill(new)
    page.keyboard.press("Enter")
    try:
        page.wait_for_function(FRESH_CHART_JS, timeout=TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(f"the chart did not change after {label}[{row}, {col}] := {new}")
    wait_idle(page)
    # the grids are a fragment of their own, and may be drawn a moment after the chart
    cell = grid(page, label).locator(f'td[data-testid="glide-cell-{col + 1}-{row}"]')
    for _ in range(TIMEOUT_MS // 100):
        if cell.count() == 1 and float(cell.text_content()) == float(new):
            break
        page.wait_for_timeout(100)
    wait_idle(page)


def open_app(page: Page, url: str) -> Page:
    """A fresh session of the app, loaded and idle, with its chart drawn."""
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    wait_idle(page)
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", state="attached")
    expect(page.locator("h3").filter(has_text=re.compile(r"^Step "))).to_have_text(
        "Step 1 of 11: The setup"
    )
    return page


@pytest.fixture
def app(page: Page, app_url: str) -> Page:
    return open_app(page, app_url)


# --- the tests --------------------------------------------------------------------------------


def test_the_page_opens_on_the_setup_of_the_seed_problem(app: Page):
    assert heading(app) == "Step 1 of 11: The setup"
    lecture = app.get_by_role("tabpanel", name="Lecture")
    expect(
        lecture.get_by_text("Problem 1: 3-4-2, ELU hidden layer, softmax output")
    ).to_be_visible()
    expect(app.get_by_text("Iteration 1", exact=True)).to_be_visible()
    expect(button(app, "prev")).to_be_disabled()
    assert "x=[1.01.5-0.5]T" in equations(app)
    assert node_label(app, "x2") == "x2 | 1.5"
    assert node_label(app, "h2") == "h2"  # nothing computed yet


def test_next_walks_through_one_iteration_into_the_next(app: Page):
    ref = reference(SEED_V, SEED_W)
    assert f"{ref['loss']:.4f}" == "0.3095"  # the exam's answer, as a check on the reference
    seen = [heading(app)]
    for n in range(2, 12):
        seen.append(press(app, "next"))
        assert seen[-1] == f"Step {n} of 11: {TITLES[n - 1]}"
        if n == 3:  # h = ELU(u): h_2 = ELU(-1.5)
            h2 = f"{ref['h'][1]:.4f}"
            assert h2 == "-0.7769"
            assert node_label(app, "h2") == f"h2 | h | {h2}"
            assert equation(app, "h2=") == f"h2=ELU(u2)=ELU(-1.5)={h2}"
        if n == 6:  # the loss, in the equations and beside the buttons
            loss, o1 = f"{ref['loss']:.4f}", ref["o"][0]
            assert equation(app, "L=-((") == f"L=-((1.0)ln({o1:.4f}))={loss}"  # o*_2 = 0: no term
            expect(app.get_by_text(f"Iteration 1 · loss L = {loss}", exact=True)).to_be_visible()
    assert seen[0] == "Step 1 of 11: The setup"
    assert seen[-1] == "Step 11 of 11: The update of w and v"

    assert press(app, "next") == "Step 1 of 11: The setup"
    loss2 = reference(ref["v_new"], ref["w_new"])["loss"]
    expect(app.get_by_text(f"Iteration 2 · loss L = {loss2:.4f}", exact=True)).to_be_visible()
    assert weight_hover(app, "w_13") == pytest.approx(ref["w_new"][0, 2], abs=5e-5)


def test_the_chart_colours_weights_then_gradients(app: Page):
    ref = reference(SEED_V, SEED_W)
    edges = chart(app)["edge values"]
    assert len(edges["hovertext"]) == 3 * 4 + 4 * 2 == 20
    assert edges["hovertext"][3] == "v_21 = 0.5000"  # its gradient comes with its step
    np.testing.assert_allclose(edges["color"], np.r_[SEED_V.ravel(), SEED_W.ravel()], atol=1e-12)
    assert edges["colorbar"] == "weight"

    for _ in range(7):
        press(app, "next")
    assert heading(app) == "Step 8 of 11: dL/dw"
    edges = chart(app)["edge values"]
    expected = np.r_[np.zeros(12), ref["dw"].ravel()]  # dL/dv is not computed until step 10
    np.testing.assert_allclose(edges["color"], expected, rtol=1e-9, atol=1e-12)
    assert edges["colorbar"] == "∂L/∂weight"
    for _ in range(2):
        press(app, "next")
    assert heading(app) == "Step 10 of 11: dL/dv"
    edges = chart(app)["edge values"]
    expected = np.r_[ref["dv"].ravel(), ref["dw"].ravel()]
    np.testing.assert_allclose(edges["color"], expected, rtol=1e-9, atol=1e-12)
    assert not np.allclose(expected, np.r_[SEED_V.ravel(), SEED_W.ravel()])
    assert edges["hovertext"][3] == f"v_21 = 0.5000, ∂L/∂v_21 = {ref['dv'][1, 0]:.4f}".replace(
        "-", "−"
    )


def test_an_edited_weight_is_used_updated_and_kept(app: Page):
    v = SEED_V.copy()
    v[1, 0] = 2.0
    ref = reference(v, SEED_W)
    assert ref["u"][1] == 0.0  # 2.0*1.0 + (-1.0)(1.5) + (1.0)(-0.5)
    updated = ref["v_new"][1, 0]
    assert abs(updated - 2.0) > 1e-3 and abs(updated - reference(SEED_V, SEED_W)["v_new"][1, 0]) > 1

    assert grid_value(app, "v", 1, 0) == 0.5
    edit_cell(app, "v", 1, 0, "0.5", "2.0")
    assert grid_value(app, "v", 1, 0) == 2.0
    assert weight_hover(app, "v_21") == 2.0
    assert chart(app)["edge values"]["color"][3] == 2.0

    assert press(app, "next") == "Step 2 of 11: u = v x"
    u2 = equation(app, "u2=")
    assert "=(2.0)(1.0)+(-1.0)(1.5)+(1.0)(-0.5)=" in u2
    assert last_number(u2) == ref["u"][1] == 0.0
    assert node_label(app, "h2") == "h2 | u | 0.0"
    assert weight_hover(app, "v_21") == 2.0, "the edit snapped back"

    for _ in range(9):
        press(app, "next")
    assert heading(app) == "Step 11 of 11: The update of w and v"
    assert last_number(equation(app, "v21←")) == pytest.approx(updated, abs=5e-5)

    assert press(app, "next") == "Step 1 of 11: The setup"
    expect(app.get_by_text(re.compile(r"^Iteration 2"))).to_be_visible()
    assert weight_hover(app, "v_21") == pytest.approx(updated, abs=5e-5)
    assert chart(app)["edge values"]["color"][3] == pytest.approx(updated, abs=1e-12)
    assert grid_value(app, "v", 1, 0) == round(updated, 4)  # as the board writes it

    assert press(app, "prev") == "Step 11 of 11: The update of w and v"
    expect(app.get_by_text(re.compile(r"^Iteration 1"))).to_be_visible()
    assert weight_hover(app, "v_21") == 2.0
    assert grid_value(app, "v", 1, 0) == 2.0

    assert press(app, "reset") == "Step 1 of 11: The setup"
    assert weight_hover(app, "v_21") == 0.5
    assert grid_value(app, "v", 1, 0) == 0.5

    # a load: another preset, then the seed again, brings no old edit back
    edit_cell(app, "v", 1, 0, "0.5", "2.0")
    assert weight_hover(app, "v_21") == 2.0
    choose_preset(app, "The 2-2-2 example (sigmoid, squared error)")
    assert weight_hover(app, "v_11") == 0.15 and grid_value(app, "v", 0, 0) == 0.15
    choose_preset(app, "The seed problem (3-4-2, ELU, softmax)")
    assert weight_hover(app, "v_21") == 0.5
    assert grid_value(app, "v", 1, 0) == 0.5


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_full_page_screenshot(app: Page, tmp_path: Path):
    press(app, "next")
    path = tmp_path / "app.png"
    app.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    width, height = _png_size(data)
    assert width == 1500 and height >= 1000
    assert len(data) > 50_000, "a near-empty image"
    from PIL import Image

    colours = Image.open(io.BytesIO(data)).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 100, "a near-blank page"


@pytest.mark.skipif(
    not os.environ.get("NNVIZ_README_SCREENSHOT"),
    reason="writes docs/screenshot.png; set NNVIZ_README_SCREENSHOT=1 to run",
)
def test_readme_screenshot(app: Page):
    """The README's picture: the seed problem at step 9, at 1500 x 1000."""
    app.set_viewport_size({"width": 1500, "height": 1000})
    for _ in range(8):
        press(app, "next")
    assert heading(app) == "Step 9 of 11: dL/dh and dL/du"
    app.mouse.move(5, 995)  # away from the buttons and the chart: no hover effects
    app.wait_for_timeout(200)  # settle
    path = ROOT / "docs" / "screenshot.png"
    path.parent.mkdir(exist_ok=True)
    app.screenshot(path=str(path))
    assert _png_size(path.read_bytes()) == (1500, 1000)


@pytest.mark.parametrize(
    "preset_label",
    [
        "The seed problem (3-4-2, ELU, softmax)",
        "The 2-2-2 example (sigmoid, squared error)",
    ],
)
def test_katex_renders_every_equation_of_a_preset(app: Page, preset_label: str):
    """KaTeX shows LaTeX it cannot parse as red `.katex-error` text: there must be none."""
    if not preset_label.startswith("The seed"):
        choose_preset(app, preset_label)
    for n in range(1, 12):
        if n > 1:
            press(app, "next")
        expect(app.locator(".katex").first).to_be_visible()
        errors = app.locator(".katex-error").all_inner_texts()
        assert errors == [], f"step {n}: {errors}"


def test_an_uploaded_answer_sheet_is_marked_or_refused(app: Page, tmp_path: Path):
    app.get_by_role("tab", name="Check answers").click()
    upload = app.get_by_test_id("stTabs").locator(
        '[data-testid="stFileUploader"] input[type="file"]'
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"answers": {"u": [1, 2]}}')
    upload.set_input_files(str(bad))
    expect(app.get_by_text("bad.json was not loaded: u has shape (2); u needs (4)")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    good = tmp_path / "mine.json"
    good.write_text('{"answers": {"u": [2, -0.75, 4.7, 0.2], "h": [2, -0.75, 4.7, 0.2]}}')
    upload.set_input_files(str(good))
    expect(app.get_by_text("Loaded mine.json.")).to_be_visible(timeout=TIMEOUT_MS)
    # u_2 is wrong; h_2 = ELU(-0.75) would be e^-0.75 - 1, so -0.75 is wrong too
    expect(app.get_by_text("8 answers: 6 correct, 0 carried forward, 2 wrong")).to_be_visible(
        timeout=TIMEOUT_MS
    )
