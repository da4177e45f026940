"""The "Gradient check" tab: the backward pass proven, not just asserted. Every parameter's
gradient from backpropagation beside the slope the loss actually has when the parameter is
nudged, and one verdict."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pandas as pd
import streamlit as st

from nnviz.core.engine import forward, gradient_check
from nnviz.core.notation import element_name, layer_symbols
from nnviz.ui import computed
from nnviz.ui.heavy import turn
from nnviz.ui.state import Lecture

AT_ONCE = 1000  # parameters checked on every rerun; a larger network waits for a click
CHECKED = "gradient check"  # what computed.kept calls this problem's check
LARGE = 1e3  # values beyond which a nudge of h moves the next layer out of its straight part


def gradient_tab(lecture: Lecture) -> None:
    problem = lecture.problem
    count = problem.parameters
    st.markdown(
        "Each gradient from the backward pass against a numerical one: nudge the parameter "
        "by ±h and ±2h, and measure how the loss changes, "
        r"$\frac{\partial L}{\partial p} \approx "
        r"\frac{-L(p+2h) + 8L(p+h) - 8L(p-h) + L(p-2h)}{12h}$ with $h = 10^{-4}$."
    )
    done = computed.kept(CHECKED, (problem,))  # None until this problem is checked
    if (
        count > AT_ONCE
        and done is None
        and not st.button(
            f"Check all {count:,} gradients", key="gradcheck_run", help="Takes a few seconds"
        )
    ):
        return
    if done is None:
        with turn("the gradient check") if count > AT_ONCE else nullcontext(True) as ours:
            if not ours:
                return
            with st.spinner("Nudging every parameter…"):
                checks = gradient_check(problem)
                done = computed.kept(CHECKED, (problem,), lambda: (checks, _table(problem, checks)))
    checks, table = done
    failed = [c for c in checks if not c.passed]
    if failed:
        st.error(
            f"{len(failed)} of {len(checks)} gradients disagree with finite differences "
            f"({_errors(checks)})."
        )
        for why in _why_they_disagree(problem):
            st.caption(why)
    else:
        st.success(
            f"All {len(checks)} gradients agree with finite differences ({_errors(checks)})."
        )
    st.dataframe(
        table,
        key="gradcheck_table",
        hide_index=True,
        column_config={
            "backpropagation": st.column_config.NumberColumn(format="%.10f"),
            "finite differences": st.column_config.NumberColumn(format="%.10f"),
            "relative error": st.column_config.NumberColumn(format="%.2e"),
        },
    )


def _errors(checks) -> str:
    """The largest relative error, over the gradients that are not both 0 to round-off: a
    relative error of noise against 0 says nothing."""
    relative = [c.relative_error for c in checks if c.relative_error is not None]
    zeros = len(checks) - len(relative)
    if not relative:
        return "every one is 0 to round-off, by both"
    worst = f"largest relative error {max(relative):.1e}"
    return f"{worst}; {zeros} are both 0 to round-off" if zeros else worst


def _why_they_disagree(problem) -> list[str]:
    """What, in this network, finite differences cannot see; nothing when it is neither, and
    the disagreement is the backward pass's."""
    fwd = forward(problem)
    reasons = []
    if any(f.function.kinked and (u == 0).any() for u, f in zip(fwd.pre, problem.activations)):
        reasons.append(
            "A ReLU or leaky ReLU here gets exactly u = 0, where it has no derivative: finite "
            "differences see the average of its two slopes, so such a disagreement is the "
            "kink, not the backward pass."
        )
    largest = max(float(np.abs(a).max()) for a in (problem.x, *fwd.pre, *fwd.post[:-1]))
    if largest > LARGE:
        reasons.append(
            f"The network's values reach {largest:.1e}: a nudge of h = 1e-4 to a weight then "
            "moves the next layer by far more than the span over which the loss is nearly "
            "straight, so finite differences measure a chord, not the slope. At this scale they "
            "cannot check the backward pass."
        )
    return reasons


def _table(problem, checks) -> pd.DataFrame:
    """Built once a network: a large one's table takes a while, and every rerun shows it."""
    symbols = layer_symbols(problem.layers)
    return pd.DataFrame(
        [
            {
                "parameter": element_name(
                    f"dL/d{getattr(symbols[c.layer], c.kind)}", tuple(i + 1 for i in c.index)
                ),
                "backpropagation": c.analytic,
                "finite differences": c.numeric,
                "relative error": c.relative_error,
                "agree": ("✓ both 0" if c.relative_error is None else "✓") if c.passed else "✗",
            }
            for c in checks
        ]
    )
