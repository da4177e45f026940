"""The figure downloads' file makers, run as Streamlit runs them: in a thread of their own."""

import threading

import plotly.graph_objects as go
import pytest

from nnviz.files import export
from nnviz.ui.downloads import file_maker


def run_in_a_thread(make):
    result = {}

    def target():
        try:
            result["file"] = make()
        except Exception as e:
            result["error"] = e

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    return result


def test_a_failed_image_leaves_its_reason_for_the_session_to_show(monkeypatch):
    def no_browser(fig, fmt):
        raise export.ExportUnavailable(export.NO_BROWSER)

    monkeypatch.setattr(export, "image", no_browser)
    failures = {}
    result = run_in_a_thread(file_maker(go.Figure(), "png", failures, "network_export"))
    assert isinstance(result["error"], export.ExportUnavailable)
    assert failures == {"network_export": export.NO_BROWSER}


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_an_image_is_made_on_the_click(monkeypatch, fmt):
    made = []
    monkeypatch.setattr(export, "image", lambda fig, f: made.append(f) or b"image")
    make = file_maker(go.Figure(), fmt, {}, "train_loss")
    assert made == []  # nothing until the click
    assert run_in_a_thread(make) == {"file": b"image"} and made == [fmt]


def test_the_html_needs_no_browser(monkeypatch):
    monkeypatch.setattr(export, "browser", lambda: None)
    result = run_in_a_thread(file_maker(go.Figure(go.Scatter(y=[1, 2])), "html", {}, "k"))
    assert "plotly" in result["file"] and '"y":[1,2]' in result["file"]
