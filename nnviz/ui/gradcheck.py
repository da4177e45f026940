"""The "Gradient check" tab: the backward pass proven, not just asserted. Every parameter's
gradient from backpropagation beside the slope the loss actually has when the parameter is
nudged, and one verdict."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nnviz.engine import gradient_check
from nnviz.grading import element_name
from nnviz.notation import layer_symbols
from nnviz.ui.state import Lecture

AT_ONCE = 1000  # parameters checked on every rerun; a larger network waits for a click


def gradient_tab(lecture: Lecture) -> None:
    problem = lecture.problem
    count = sum(w.size for w in problem.weights)
    if problem.biases is not None:
        count += sum(b.size for b in problem.biases)
    st.markdown(
        "Each gradient from the backward pass against a numerical one: nudge the parameter "
        "by ±h and ±2h, and measure how the loss changes, "
        r"$\frac{\partial L}{\partial p} \approx "
        r"\frac{-L(p+2h) + 8L(p+h) - 8L(p-h) + L(p-2h)}{12h}$ with $h = 10^{-4}$."
    )
    done = st.session_state.get("gradient_check")
    if count > AT_ONCE and (done is None or done[0] is not problem):
        if not st.button(
            f"Check all {count:,} gradients", key="gradcheck_run", help="Takes a few seconds"
        ):
            return
        done = None
    if done is None or done[0] is not problem:
        with st.spinner("Nudging every parameter…"):
            checks = gradient_check(problem)
            done = st.session_state.gradient_check = (problem, checks, _table(problem, checks))
    _, checks, table = done
    failed = [c for c in checks if not c.passed]
    worst = max((c.relative_error or 0.0 for c in checks), default=0.0)
    if failed:
        st.error(
            f"{len(failed)} of {len(checks)} gradients disagree with finite differences "
            f"(largest relative error {worst:.1e})."
        )
        st.caption(
            "Where a ReLU or leaky ReLU gets exactly u = 0, it has no derivative, and finite "
            "differences see the average of its two slopes: such a disagreement is the kink, "
            "not the backward pass."
        )
    else:
        st.success(
            f"All {len(checks)} gradients agree with finite differences "
            f"(largest relative error {worst:.1e})."
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
                "agree": "✓" if c.passed else "✗",
            }
            for c in checks
        ]
    )
