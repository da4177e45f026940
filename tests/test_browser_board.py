"""The board on real screens: every equation of every step fits its column, measured in
Chromium at a projector's 1920x1080 and 1280x720, at 1280x720 zoomed to 150 %, and on a
390x844 phone; and nothing in front of students is for developers (no Deploy, no developer
menu)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from seed import TITLES
from test_browser import open_app, press
from test_browser_panels import tab

# name: (CSS width, CSS height, device pixels per CSS pixel); 150 % zoom of 1280x720 is a
# page 853 CSS pixels wide drawn with 1.5 device pixels each
SCREENS = {
    "1920x1080": (1920, 1080, 1.0),
    "1280x720": (1280, 720, 1.0),
    "1280x720 at 150%": (853, 480, 1.5),
    "phone 390x844": (390, 844, 3.0),
}

# each display equation in the main area that reaches beyond its column (a piece of it, or
# what it scrolls to), with how far: st.latex sizes its own box to the formula, so the column
# is the box that counts
OVERFLOWING_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] .katex-display')]
  .filter(e => e.offsetParent !== null)
  .map(e => {
    const column = (e.closest('[data-testid="stColumn"]')
                    ?? e.closest('[data-testid="stMainBlockContainer"]')).getBoundingClientRect();
    const own = e.getBoundingClientRect();
    const pieces = [...e.querySelectorAll('.base')].map(b => b.getBoundingClientRect());
    return {text: e.querySelector('.katex-mathml annotation')?.textContent ?? '',
            column: column.width,
            over: Math.max(own.left + e.scrollWidth - column.right, own.right - column.right,
                           column.left - own.left,
                           ...pieces.map(b => b.right - column.right),
                           ...pieces.map(b => column.left - b.left))};
  })
  .filter(e => e.over > 1)"""


@pytest.fixture(params=list(SCREENS))
def screen(request, browser: Browser, browser_context_args: dict, app_url: str):
    width, height, scale = SCREENS[request.param]
    context = browser.new_context(
        **{
            **browser_context_args,
            "viewport": {"width": width, "height": height},
            "device_scale_factor": scale,
        }
    )
    page = context.new_page()
    yield open_app(page, app_url)
    context.close()


def overflowing(page: Page) -> list[str]:
    return [
        f"{e['text'][:70]} ({e['over']:.0f} px beyond a column of {e['column']:.0f} px)"
        for e in page.evaluate(OVERFLOWING_JS)
    ]


def test_every_equation_of_the_lecture_fits_its_column(screen: Page):
    seen = 0
    for n in range(len(TITLES)):
        if n:
            press(screen, "next")
        assert not overflowing(screen), f"step {n + 1}: {overflowing(screen)}"
        seen += screen.locator('[data-testid="stMain"] .katex-display').count()
    assert seen > 40  # the seed's board has 60 or so display equations over its 11 steps


def test_every_working_of_a_marked_sheet_fits(screen: Page):
    panel = tab(screen, "Check answers")
    panel.get_by_role("button", name="Load the seed demo").click()
    expect(panel.get_by_text("43 answers: 29 correct, 1 carried forward, 13 wrong")).to_be_visible()
    expect(panel.locator(".katex-display")).to_have_count(13)  # each wrong answer's working
    assert not overflowing(screen)


def test_no_deploy_button_or_developer_menu(screen: Page):
    expect(screen.get_by_role("button", name="Deploy")).to_have_count(0)
    screen.get_by_test_id("stMainMenu").click()
    menu = screen.get_by_test_id("stMainMenuList")
    expect(menu).to_be_visible()
    expect(menu.get_by_test_id("stMainMenuItem-theme-Dark")).to_be_visible()  # for a dark hall
    expect(menu.get_by_test_id("stMainMenuItem-print")).to_be_visible()
    items = menu.locator('[data-testid^="stMainMenuItem-"]')
    assert {
        t.removeprefix("stMainMenuItem-")
        for t in items.evaluate_all("es => es.map(e => e.dataset.testid)")
    } == {"theme-System", "theme-Light", "theme-Dark", "print", "recordScreencast"}


def test_key_hints_only_where_there_are_keys_and_room(screen: Page):
    hint = screen.locator(".st-key-next kbd")
    expect(hint).to_have_count(1)
    if screen.viewport_size["width"] < 1000:  # a phone, or the main area under 720 px
        expect(hint).to_be_hidden()
    else:
        expect(hint).to_have_text("PageDown")


def test_the_stepper_labels_are_never_cut(screen: Page):
    labels = screen.locator(".st-key-prev, .st-key-next, .st-key-reset").locator(
        '[data-testid="stMarkdownContainer"]'
    )
    expect(labels).to_have_count(3)
    cut = labels.evaluate_all(
        "es => es.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"
    )
    assert cut == []
    assert labels.all_inner_texts() == ["◀ Previous", "Next ▶", "Reset"]
