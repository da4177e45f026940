"""nnviz: watch a small neural network learn, one number at a time.

The public API, for scripts and notebooks; everything else may change between versions.

    from nnviz import preset, iterate, steps, figure
    p = iterate(preset("seed"))
    figure(p, steps(p)[4], "weight")  # a Plotly figure: Jupyter draws it inline
    steps(p)[4]                        # its equations, which Jupyter shows as LaTeX

Each name is imported when first used, so that the command line, which needs neither Plotly nor
the lesson, starts in the time NumPy takes.
"""

import importlib

_MODULE = {
    "Iteration": "core.engine",
    "Problem": "core.problem",
    "ProblemError": "core.problem",
    "Step": "teaching.lesson",
    "Training": "core.training",
    "figure": "plots.network",
    "gradient_check": "core.engine",
    "iterate": "core.engine",
    "load": "core.problem",
    "loss_curve": "plots.curves",
    "mark": "teaching.grading",
    "preset": "core.problem",
    "read_answers": "teaching.grading",
    "steps": "teaching.lesson",
    "train": "core.training",
}
__all__ = sorted(_MODULE)


def __getattr__(name: str):
    if name not in _MODULE:
        raise AttributeError(f"module 'nnviz' has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(f"nnviz.{_MODULE[name]}"), name)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
