"""What a click redraws, in a real Chromium: Next within an iteration reruns the stepper alone,
so the grids and the sidebar keep their very DOM nodes and get nothing from the server, while
the heading and the chart change; a new iteration sends the weight grids again, with the new
weights, and leaves x, o*, η and the sidebar as they were.

What the server sends is read from the page's WebSocket, decoded as Streamlit's own ForwardMsg.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from seed import TITLES
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from test_browser import (
    FRESH_CHART_JS,
    MARK_STALE_JS,
    TIMEOUT_MS,
    chart,
    edit_cell,
    grid_value,
    heading,
    open_app,
    press,
    wait_idle,
)

from nnviz.core.engine import iterate
from nnviz.core.problem import preset

SIDEBAR = 1  # the delta path's first index: 0 the main area, 1 the sidebar

# Every grid's and the sidebar's element marked with a property of its own, and watched: the
# grids' element and its container for any change of attribute (a rerun marks every element it
# is redrawing data-stale; within the grid's canvas its accessibility table changes on its
# own), the sidebar for any change at all. The code before fragments kept the nodes too, but
# marked every one of them stale and fresh again on each click.
MARK_JS = """() => {
  const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')];
  const sidebar = document.querySelector('[data-testid="stSidebarUserContent"]');
  window.__changes = 0;
  window.__observer = new MutationObserver(records => { window.__changes += records.length; });
  for (const g of grids) {
    g.__kept = true;
    window.__observer.observe(g, {attributes: true});
    window.__observer.observe(g.closest('[data-testid="stElementContainer"]'), {attributes: true});
  }
  sidebar.__kept = true;
  window.__observer.observe(sidebar, {attributes: true, childList: true, subtree: true});
  return grids.length + 1;
}"""
TEX_JS = """tex => [...document.querySelectorAll('annotation[encoding="application/x-tex"]')]
  .some(a => a.textContent.includes(tex))"""
KEPT_EACH_JS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]'),
  document.querySelector('[data-testid="stSidebarUserContent"]')].map(el => !!el.__kept)"""
KEPT_JS = """() => {
  const now = [...document.querySelectorAll('[data-testid="stDataFrame"]'),
               document.querySelector('[data-testid="stSidebarUserContent"]')];
  return {count: now.length, kept: now.filter(el => el && el.__kept).length,
          changes: window.__changes};
}"""


@pytest.fixture
def sent(page: Page, app_url: str):
    """The page, opened with a listener on its WebSocket: `sent` lists each ForwardMsg the
    server has sent since it was last cleared."""
    messages: list[ForwardMsg] = []

    def listen(ws):
        def received(payload):
            if isinstance(payload, bytes):
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                messages.append(msg)

        ws.on("framereceived", received)

    page.on("websocket", listen)
    return open_app(page, app_url), messages


def elements(messages: list[ForwardMsg]) -> list[tuple[int, str]]:
    """(root container, element type) of every element the server sent."""
    return [
        (m.metadata.delta_path[0], m.delta.new_element.WhichOneof("type"))
        for m in messages
        if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element"
    ]


def click_next(page: Page, messages: list) -> str:
    """Next, and the new heading once the new chart is drawn and the rerun is over."""
    page.evaluate(MARK_STALE_JS)
    messages.clear()
    after = press(page, "next")
    page.wait_for_function(FRESH_CHART_JS, timeout=TIMEOUT_MS)
    wait_idle(page)
    return after


def test_next_within_an_iteration_leaves_the_grids_and_the_sidebar_untouched(sent):
    page, messages = sent
    before = chart(page)["neurons"]["text"]
    assert page.evaluate(MARK_JS) == 6  # five grids and the sidebar
    assert click_next(page, messages) == f"Step 2 of 11: {TITLES[1]}"
    drawn = elements(messages)
    assert ("plotly_chart" in {t for _, t in drawn}) and ("heading" in {t for _, t in drawn})
    assert "dataframe" not in {t for _, t in drawn}, drawn  # no grid was sent
    assert all(root != SIDEBAR for root, _ in drawn), drawn  # nor anything of the sidebar
    assert page.evaluate(KEPT_JS) == {"count": 6, "kept": 6, "changes": 0}
    assert chart(page)["neurons"]["text"] != before  # u is shown now
    assert grid_value(page, "v", 1, 0) == 0.5


def test_a_new_iteration_sends_the_weight_grids_alone_with_the_new_weights(sent):
    page, messages = sent
    for _ in range(10):
        click_next(page, messages)
    assert heading(page) == f"Step 11 of 11: {TITLES[10]}"
    assert "dataframe" not in {t for _, t in elements(messages)}
    page.evaluate(MARK_JS)
    assert click_next(page, messages) == f"Step 1 of 11: {TITLES[0]}"
    drawn = elements(messages)
    assert [t for _, t in drawn].count("dataframe") == 2, drawn  # v and w
    assert all(root != SIDEBAR for root, _ in drawn), drawn
    # v and w are new; x, o*, η and the sidebar the very same nodes, with the same values
    assert page.evaluate(KEPT_EACH_JS) == [False, False, True, True, True, True]
    updated = iterate(preset("seed")).updated.weights[0][1, 0]
    assert grid_value(page, "v", 1, 0) == round(updated, 4)  # as the board writes it
    assert (grid_value(page, "x", 0, 1), grid_value(page, "η", 0, 0)) == (1.5, 0.1)

    edit_cell(page, "x", 0, 1, "1.5", "2.5")  # a kept grid edits the new iteration
    page.wait_for_function(TEX_JS, arg=r"1.0 & 2.5 & -0.5", timeout=TIMEOUT_MS)
    assert "x2<br>2.5" in chart(page)["neurons"]["text"]
    assert grid_value(page, "v", 1, 0) == round(updated, 4)  # as the board writes it
