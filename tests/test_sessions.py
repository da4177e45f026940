"""Students side by side: every browser tab is its own session of one server, and nothing a
student does may show up on another student's page.

A student is a Chromium context of its own, against the one server of `app_url`, or, for the
lecture hall, mostly a socket student (SocketStudent below). The expected numbers come from the
NumPy derivation in test_browser.py, not from nnviz. Without /usr/bin/chromium these tests are
skipped (and fail under CI=true). No timings here: bench/bench_sessions.py measures them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from playwright.sync_api import Browser, Page
from seed import TITLES
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from test_browser import (
    FRESH_CHART_JS,
    HEADING_CHANGED_JS,
    SEED_V,
    SEED_W,
    TIMEOUT_MS,
    button,
    edit_cell,
    grid_value,
    heading,
    node_label,
    press,
    reference,
    wait_idle,
    weight_hover,
)
from websockets.sync.client import ClientConnection, connect

# The lecture hall: a Chromium page costs its browser 5 to 7 s of CPU to load, against 0.4 s
# for the server, and this machine has two cores, so most of the hall are socket students.
HALL_PAGES, HALL_SOCKETS = 4, 20
HALL_TIMEOUT_S = 60.0  # any single wait while the whole hall shares two cores
FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


def title(n: int) -> str:
    return f"Step {n} of 11: {TITLES[n - 1]}"


def value(page: Page, neuron: str) -> float:
    """The number a neuron's label shows, e.g. 6.2 from 'h3 | h | 6.2'."""
    numbers = re.findall(r"-?\d+(?:\.\d+)?", node_label(page, neuron).replace("−", "-"))
    assert len(numbers) >= 2, f"{neuron} shows no value: {node_label(page, neuron)!r}"
    return float(numbers[-1])


@pytest.fixture
def students(browser: Browser, browser_context_args: dict, app_url: str):
    """A function that opens a new student: a browser context of its own, on the app, by
    default idle at step 1 with its chart drawn."""
    contexts = []

    def open_page(timeout_ms: int = TIMEOUT_MS, wait: bool = True) -> Page:
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        context.set_default_timeout(timeout_ms)
        page = context.new_page()
        page.goto(app_url, wait_until="commit")
        if wait:
            ready(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


def ready(page: Page, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait for a fresh session's first rerun and its chart."""
    wait_idle(page, timeout_ms)
    page.wait_for_function(FRESH_CHART_JS)
    assert heading(page) == title(1)


def test_two_students_see_only_their_own_edits_and_steps(students):
    a, b = students(), students()
    v_a, w_b = SEED_V.copy(), SEED_W.copy()
    v_a[2, 0], w_b[1, 0] = 3.0, -2.0
    ref_a, ref_b = reference(v_a, SEED_W), reference(SEED_V, w_b)
    ref_seed = reference(SEED_V, SEED_W)
    assert ref_a["h"][2] == pytest.approx(6.2) != ref_seed["h"][2]  # 4.7 for the seed
    assert abs(ref_b["o"][0] - ref_seed["o"][0]) > 0.1

    edit_cell(a, "v", 2, 0, "1.5", "3.0")  # v_31
    edit_cell(b, "w", 1, 0, "0.3", "-2.0")  # w_21
    for k in range(5):  # interleaved: A to step 3, B to step 6
        if k < 2:
            press(a, "next")
        press(b, "next")
    assert heading(a) == title(3)
    assert heading(b) == title(6)

    assert grid_value(a, "v", 2, 0) == 3.0 and grid_value(a, "w", 1, 0) == 0.3
    assert grid_value(b, "v", 2, 0) == 1.5 and grid_value(b, "w", 1, 0) == -2.0
    assert (weight_hover(a, "v_31"), weight_hover(a, "w_21")) == (3.0, 0.3)
    assert (weight_hover(b, "v_31"), weight_hover(b, "w_21")) == (1.5, -2.0)

    # A at h = ELU(u) with its own v; the output is not revealed to A yet, whatever B has seen
    assert value(a, "h3") == pytest.approx(ref_a["h"][2], abs=5e-5)
    assert value(a, "h2") == pytest.approx(ref_a["h"][1], abs=5e-5)
    assert node_label(a, "o1") == "o1"
    # B at the loss with its own w, and the seed's hidden layer, not A's
    assert value(b, "h3") == pytest.approx(ref_seed["h"][2], abs=5e-5)
    for k in range(2):
        assert value(b, f"o{k + 1}") == pytest.approx(ref_b["o"][k], abs=5e-5)

    # a reload is a new session: the seed at step 1, nothing from A's old session or from B's
    a.reload(wait_until="commit")
    ready(a)
    assert grid_value(a, "v", 2, 0) == 1.5 and grid_value(a, "w", 1, 0) == 0.3
    assert (weight_hover(a, "v_31"), weight_hover(a, "w_21")) == (1.5, 0.3)
    assert node_label(a, "h3") == "h3"
    # and B goes on from where it was
    assert heading(b) == title(6)
    assert press(b, "next") == title(7)
    assert weight_hover(b, "w_21") == -2.0
    assert grid_value(b, "w", 1, 0) == -2.0


class SocketStudent:
    """A student without a browser: Streamlit's own protocol on /_stcore/stream, as the page
    speaks it. A BackMsg asks for a rerun, with a button's trigger for a click; ForwardMsgs
    come back until `script_finished`. Its session is as real as a page's, and costs the server
    about as much, but its client needs a hundredth of a page's CPU. As a page does, a click on
    a button inside a fragment asks for that fragment's rerun. (A page also sends every other
    widget's state; here their defaults serve.)"""

    def __init__(self, socket: ClientConnection, timeout: float):
        self.socket, self.timeout = socket, timeout
        self.buttons: dict[str, str] = {}  # key: widget id
        self.fragments: dict[str, str] = {}  # key: the id of the fragment the button is in
        self.heading = ""
        self.received = 0  # bytes
        self.elements: list[tuple[int, str]] = []  # the last rerun's: (root container, type)
        self.send()
        self.receive()

    def send(self, click: str | None = None) -> None:
        msg = BackMsg()
        msg.rerun_script.SetInParent()
        if click:
            msg.rerun_script.widget_states.widgets.add(id=self.buttons[click], trigger_value=True)
            if self.fragments.get(click):
                msg.rerun_script.fragment_id = self.fragments[click]
        self.socket.send(msg.SerializeToString())

    def receive(self) -> None:
        """Read one rerun's messages: its heading, its buttons, and no exception."""
        headings = []
        self.elements = []
        while True:
            data = self.socket.recv(timeout=self.timeout)
            self.received += len(data)
            msg = ForwardMsg.FromString(data)
            kind = msg.WhichOneof("type")
            if kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                assert msg.script_finished in FINISHED, msg.script_finished
                break
            if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
                continue
            element = msg.delta.new_element
            shown = element.WhichOneof("type")
            self.elements.append((msg.metadata.delta_path[0], shown))
            if shown == "button":
                key = element.button.id.rsplit("-", 1)[-1]
                self.buttons[key] = element.button.id
                self.fragments[key] = msg.delta.fragment_id
            elif shown == "heading":
                headings.append(element.heading.body)
            elif shown == "exception":
                raise AssertionError(f"the app raised {element.exception.message}")
        [self.heading] = [h for h in headings if h.startswith("Step ")]


@contextmanager
def socket_student(url: str, timeout: float = HALL_TIMEOUT_S) -> Iterator[SocketStudent]:
    """A new session, after its first rerun."""
    with connect(
        "ws" + url.removeprefix("http") + "/_stcore/stream",
        subprotocols=["streamlit"],
        compression=None,
        proxy=None,
        max_size=None,
        max_queue=None,  # a rerun is ~150 messages; a full queue would stall the server
        ping_interval=None,  # as a browser: a server busy for 20 s must not lose its students
        open_timeout=timeout,
    ) as socket:
        yield SocketStudent(socket, timeout)


def test_a_lecture_hall_of_students_each_on_their_own_step(students, app_url: str):
    """Two dozen students, each clicking Next a different number of times; in each round every
    student still clicking clicks at once, so the server runs many sessions' reruns at once."""
    hall_ms = int(HALL_TIMEOUT_S * 1000)
    pages = [students(hall_ms, wait=False) for _ in range(HALL_PAGES)]
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket_student(app_url)) for _ in range(HALL_SOCKETS)]
        for page in pages:
            ready(page, hall_ms)
        page_clicks = [1, 3, 5, 8]
        socket_clicks = [i % 6 for i in range(HALL_SOCKETS - 2)] + [11, 12]  # into iteration 2
        for round_ in range(max(socket_clicks)):
            clicking_pages = [
                (page, heading(page)) for page, n in zip(pages, page_clicks) if n > round_
            ]
            clicking_sockets = [s for s, n in zip(sockets, socket_clicks) if n > round_]
            for page, _ in clicking_pages:  # at once: no page waits for another to answer
                button(page, "next").dispatch_event("click")
            for student in clicking_sockets:
                student.send("next")
            for student in clicking_sockets:
                student.receive()
            for page, before in clicking_pages:
                page.wait_for_function(HEADING_CHANGED_JS, arg=before)
                wait_idle(page, hall_ms)
        assert [heading(p) for p in pages] == [title(n % 11 + 1) for n in page_clicks]
        assert [s.heading for s in sockets] == [title(n % 11 + 1) for n in socket_clicks]
