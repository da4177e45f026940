"""examples/notebook.ipynb, run top to bottom in a real Jupyter kernel, as a lecturer would."""

import json
from pathlib import Path

import nbclient
import nbformat
import plotly.io
import pytest

from nnviz import figure, iterate, loss_curve, preset, steps, train

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> list:
    """The notebook's code cells after a run in an empty folder, with this checkout's nnviz."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", str(ROOT))
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        folder = tmp_path_factory.mktemp("notebook")
        nbclient.NotebookClient(
            notebook, timeout=120, resources={"metadata": {"path": str(folder)}}
        ).execute()
    assert list(folder.iterdir()) == []
    return [c for c in notebook.cells if c.cell_type == "code"]


def output(cell, mime: str):
    (data,) = [o["data"][mime] for o in cell.outputs if mime in o.get("data", {})]
    return data


def test_every_cell_runs_without_an_error_or_a_warning(cells):
    for cell in cells:
        kinds = [(o["output_type"], o.get("name")) for o in cell.outputs]
        assert ("error", None) not in kinds and ("stream", "stderr") not in kinds, cell.source


def test_it_shows_the_seed_loss_and_the_lesson(cells):
    p = iterate(preset("seed"))
    assert output(cells[0], "text/plain") == repr(p.forward.loss)
    assert float(output(cells[0], "text/plain")) == pytest.approx(0.309548, abs=5e-7)
    (printed,) = [o["text"] for o in cells[1].outputs if o["output_type"] == "stream"]
    assert printed.splitlines() == [f"{k:2}  {s.title}" for k, s in enumerate(steps(p))]
    assert printed.splitlines()[4] == " 4  o = softmax(z)"


def drawn_as(fig: dict) -> dict:
    """A figure's traces and layout, without its theme: plotly.io's default theme is
    Streamlit's in a process that has run the app, as this one may have."""
    return {**fig, "layout": {k: v for k, v in fig["layout"].items() if k != "template"}}


def test_figures_are_drawn_inline_as_plotly_figures(cells):
    """Each figure cell's output is the figure itself, as Plotly's mime type carries it."""
    p = iterate(preset("seed"))
    lesson = steps(p)
    assert lesson[4].title == "o = softmax(z)" and lesson[7].title == "dL/dw"
    drawn = {
        2: figure(p, lesson[4], "weight"),
        4: figure(p, lesson[7], "gradient"),
        7: loss_curve(train(preset("seed"), 200, stop_below=0.01)),
    }
    for i, fig in drawn.items():
        assert drawn_as(output(cells[i], PLOTLY)) == drawn_as(json.loads(plotly.io.to_json(fig)))
    assert output(cells[2], PLOTLY) != output(cells[4], PLOTLY)  # weights, then gradients


def test_a_step_displays_as_its_equations_in_latex(cells):
    lesson = steps(iterate(preset("seed")))
    for cell, s in ((cells[3], lesson[4]), (cells[5], lesson[7])):
        latex = output(cell, "text/latex")
        assert latex == s._repr_latex_()
        assert latex.splitlines()[0] == rf"$$\text{{{s.title}}}$$"
        assert latex.splitlines()[1:] == [f"$${e}$$" for e in s.equations]
    # o_2 from z = [3.67313, 2.65925], to the lesson's four decimals
    substituted = r"\frac{e^{2.6593}}{e^{3.6731} + e^{2.6593}} \\ &= 0.2662"
    assert substituted in output(cells[3], "text/latex")


def test_it_trains_to_the_threshold(cells):
    run = train(preset("seed"), 200, stop_below=0.01)
    assert output(cells[6], "text/plain") == repr((run.stopped, run.iterations_run, run.final_loss))
    assert run.stopped == "threshold" and run.final_loss < 0.01
