"""Strict numbers in a real Chromium: typed into the cells of the weights, the answers and the
quiz, 1e7, -1.5E-3 and a decimal comma are read as written, and anything else is named. The
browser's own number cells read 1e7 as 17 and 1,5 as 15.

The server, the browser and the skip without /usr/bin/chromium (a failure under CI=true) come
from conftest.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from test_browser import TIMEOUT_MS, grid, open_app, open_editor, wait_idle, weight_hover
from test_browser_panels import alert, tab

EXPECTED = "expected a number such as 0.25, -1.5e-3 or 0,25"


@pytest.fixture
def app(page: Page, app_url: str) -> Page:
    return open_app(page, app_url)


def type_into(page: Page, label: str, row: int, col: int, old: str, new: str, index=True):
    """Type `new` into a cell of the grid under `label` (`index`: it has row names), press
    Enter, and wait for the page."""
    open_editor(page, label, row, col, old, index).fill(new)
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    wait_idle(page)


def cell(page: Page, label: str, row: int, col: int) -> str:
    return grid(page, label).locator(f'td[data-testid="glide-cell-{col + 1}-{row}"]').text_content()


def test_a_weight_typed_with_a_comma_or_an_exponent_is_read_as_written(app: Page):
    type_into(app, "v", 1, 0, "0.5", "1,5")
    expect(alert(app, "")).to_have_count(0)
    assert weight_hover(app, "v_21") == 1.5
    type_into(app, "v", 1, 0, "1,5", "-1.5E-3")
    assert weight_hover(app, "v_21") == -0.0015

    type_into(app, "v", 1, 0, "-1.5E-3", "1e7")  # ten million, not 17
    expect(
        alert(
            app,
            "v_21 (row h2, column x1) = 1e+07 is out of range; expected at most 1e+06 in "
            "size. The last good values are still in use.",
        )
    ).to_be_visible()
    assert weight_hover(app, "v_21") == -0.0015

    type_into(app, "v", 1, 0, "1e7", "1,500")
    expect(
        alert(
            app,
            'v_21 (row h2, column x1) is "1,500", which could be 1.500 or 1500; write it with '
            "a decimal point. The last good values are still in use.",
        )
    ).to_be_visible()
    assert weight_hover(app, "v_21") == -0.0015
    assert cell(app, "v", 1, 0) == "1,500"  # the typing stays in its cell, to be put right


def test_answers_typed_with_commas_are_marked_and_a_bad_one_named(app: Page):
    tab(app, "Check answers")
    type_into(app, "o", 0, 0, "", "0,7338", index=False)
    expect(app.get_by_text("1 answer: 1 correct, 0 carried forward, 0 wrong")).to_be_visible()
    type_into(app, "o", 0, 1, "", "0,2662", index=False)
    expect(app.get_by_text("2 answers: 2 correct, 0 carried forward, 0 wrong")).to_be_visible()
    type_into(app, "u", 0, 1, "", "-1,5x", index=False)
    expect(
        alert(
            app, f'u_2 is "-1,5x"; {EXPECTED}. It is left out of the marking until it is a number.'
        )
    ).to_be_visible()
    type_into(app, "u", 0, 1, "-1,5x", "-1,5", index=False)
    expect(app.get_by_text("3 answers: 3 correct, 0 carried forward, 0 wrong")).to_be_visible()
    expect(
        alert(
            app, f'u_2 is "-1,5x"; {EXPECTED}. It is left out of the marking until it is a number.'
        )
    ).to_have_count(0)


def test_a_prediction_with_a_decimal_comma_is_marked_right(app: Page):
    app.get_by_text("Quiz", exact=True).click()
    wait_idle(app)
    app.get_by_role("button", name="Next ▶").click()
    wait_idle(app)
    type_into(app, "u", 0, 1, "", "-1,5", index=False)
    app.get_by_role("button", name="Check my prediction").click()
    expect(app.get_by_text("✓ right, u_2: you said -1,5, it is -1.5000")).to_be_visible(
        timeout=TIMEOUT_MS
    )


def test_homework_is_marked_against_the_problem_as_set(app: Page):
    """In iteration 2 the weights on screen are the update's; the seed's u is still right."""
    for _ in range(11):
        app.get_by_role("button", name="Next ▶").click()
        wait_idle(app)
    expect(app.get_by_text(re.compile(r"^Iteration 2"))).to_be_visible()
    panel = tab(app, "Check answers")
    wait_idle(app)
    expect(
        panel.get_by_text(
            "Marking against: the problem as set (Problem 1: 3-4-2, ELU hidden layer, softmax "
            "output), iteration 1.",
            exact=True,
        )
    ).to_be_visible()
    for j, value in enumerate(["2", "-1.5", "4.7", "0.2"]):  # u = v x of the seed, typed
        type_into(app, "u", 0, j, "", value, index=False)
    expect(panel.get_by_text("4 answers: 4 correct, 0 carried forward, 0 wrong")).to_be_visible()
