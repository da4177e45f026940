"""Export: PNG and SVG from one kaleido Chromium shared by all threads, HTML from plotly alone."""

import os
import re
import signal
import struct
import sys
import threading
import time
import xml.etree.ElementTree as ET

import plotly.graph_objects as go
import pytest
from choreographer.browsers.chromium import Chromium

from nnviz.core.engine import iterate
from nnviz.core.problem import preset
from nnviz.files import export
from nnviz.plots.network import figure
from nnviz.teaching.lesson import steps

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}svg"


@pytest.fixture(scope="module", autouse=True)
def no_browser_left():
    """The browser lives as long as the process; a test run should not leave one behind."""
    yield
    export.stop()


@pytest.fixture(scope="module")
def network():
    p = iterate(preset("seed"))
    return figure(p, steps(p)[0], "weight")


@pytest.fixture(scope="module")
def loss_curve():
    return go.Figure(
        go.Scatter(y=[0.9, 0.3, 0.05, 0.01], mode="lines"),
        layout={
            "xaxis": {"title": {"text": "iteration"}},
            "yaxis": {"type": "log", "title": {"text": "loss"}},
        },
    )


@pytest.fixture
def kaleido(chromium):
    """The browser tests' own rule: without /usr/bin/chromium, skip, or fail under CI=true."""
    assert export.browser() is not None
    return chromium


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    _, chunk, width, height = struct.unpack(">I4sII", data[8:24])
    assert chunk == b"IHDR"
    return width, height


def svg_texts(data: bytes) -> tuple[ET.Element, set[str]]:
    root = ET.fromstring(data)
    assert root.tag == SVG
    return root, {t.strip() for t in root.itertext() if t.strip()}


def test_the_network_as_png_and_svg(kaleido, network):
    assert png_size(export.image(network, "png", width=500, height=300, scale=2)) == (1000, 600)
    root, texts = svg_texts(export.image(network, "svg", width=500, height=300))
    assert (root.get("width"), root.get("height")) == ("500", "300")
    assert {"x1", "h1", "o1", "weight"} <= texts  # node labels and the colour bar's title


def test_a_log_scale_loss_curve_as_png_and_svg(kaleido, loss_curve):
    assert png_size(export.image(loss_curve, "png", width=400, height=300, scale=1.5)) == (600, 450)
    root, texts = svg_texts(export.image(loss_curve, "svg", width=400, height=300))
    assert (root.get("width"), root.get("height")) == ("400", "300")
    assert {"iteration", "loss", "0.01", "0.1"} <= texts  # decades: the axis is logarithmic


def test_a_png_is_twice_the_figure_by_default(kaleido, network):
    assert png_size(export.image(network, "png", width=300, height=200)) == (600, 400)


def test_exports_share_one_browser(kaleido, loss_curve):
    export.image(loss_curve, "png")
    server, starts = export._server, export._starts
    export.image(loss_curve, "svg")
    export.image(loss_curve, "png")
    assert export._server is server and export._starts == starts and server.alive()


def test_threads_at_once_start_one_browser_and_each_gets_its_own_image(kaleido, loss_curve):
    export.stop()  # so that the threads race to start it
    starts = export._starts
    widths = [200 + 10 * k for k in range(6)]
    results, errors = {}, []
    together = threading.Barrier(len(widths))

    def export_at(width):
        together.wait()
        try:
            results[width] = [
                png_size(export.image(loss_curve, "png", width=width, height=100, scale=1))
                for _ in range(2)
            ]
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=export_at, args=(w,)) for w in widths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == {w: [(w, 100)] * 2 for w in widths}  # kaleido's own server swaps these
    assert export._starts == starts + 1


def test_a_browser_that_died_is_started_again(kaleido, loss_curve):
    export.image(loss_curve, "png")
    server, starts = export._server, export._starts
    os.killpg(server.pid, signal.SIGKILL)  # the browser this module started, in its own group
    deadline = time.monotonic() + 30
    while server.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.alive()
    assert png_size(export.image(loss_curve, "png", width=300, height=200, scale=1)) == (300, 200)
    assert export._server is not server and export._starts == starts + 1


def test_html_is_interactive_and_needs_no_network(network, loss_curve):
    page = export.html(network)
    assert page.lower().startswith("<!doctype html>") and "Plotly.newPlot" in page
    assert '"name":"neurons"' in page and '"name":"edge values"' in page
    assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js is inside, not fetched
    assert '"type":"log"' in export.html(loss_curve)
    assert export.FORMATS["html"] == "text/html"


def test_without_a_browser_images_say_why_and_html_still_works(monkeypatch, loss_curve):
    monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, **kw: None))
    export.browser.cache_clear()
    try:
        assert export.browser() is None
        with pytest.raises(export.ExportUnavailable) as raised:
            export.image(loss_curve, "png")
        assert str(raised.value) == export.NO_BROWSER
        assert "apt-get install chromium" in str(raised.value)
        assert "Plotly.newPlot" in export.html(loss_curve)
    finally:
        export.browser.cache_clear()


def test_a_browser_that_will_not_start_gives_one_line(monkeypatch, tmp_path, loss_curve):
    broken = tmp_path / "chromium"
    broken.write_text(f"#!{sys.executable}\nraise SystemExit(1)\n")
    broken.chmod(0o755)
    export.stop()
    monkeypatch.setattr(export, "browser", lambda: str(broken))
    with pytest.raises(export.ExportUnavailable) as raised:
        export.image(loss_curve, "svg")
    message = str(raised.value)
    assert message.startswith("The SVG export failed (") and "\n" not in message
    assert "HTML" in message
    assert export._server is None  # nothing half-started is kept


def test_only_images_go_through_the_browser(loss_curve):
    with pytest.raises(ValueError, match="png or svg"):
        export.image(loss_curve, "html")
