"""The Streamlit app, driven by AppTest (no browser)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_the_app_shows_the_seed_problem():
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert at.subheader[0].value == "Problem 1: 3-4-2, ELU hidden layer, softmax output"
    assert "L = 0.3095" in text and "o = [0.7338, 0.2662]" in text
