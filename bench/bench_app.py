"""How fast the app answers, as ratios to baselines measured in the same run.

    python bench/bench_app.py            # from the repository's top folder; about a minute

1. The network figure, against the naive figure with one Plotly trace per edge.
2. An AppTest rerun after a click on Next, against a trivial one-button script.
3. In Chromium (when /usr/bin/chromium exists): first load to a drawn chart, and a click on
   Next to the redrawn step, against plain navigations to the same server.

This machine is noisy: read the ratios, and never turn these figures into test assertions.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from plotly.colors import sample_colorscale  # noqa: E402

from nnviz.core.engine import iterate as run_step  # noqa: E402
from nnviz.core.functions import Activation  # noqa: E402
from nnviz.core.networks import random_problem  # noqa: E402
from nnviz.core.problem import preset  # noqa: E402
from nnviz.plots.network import COLORSCALE, default_mode, edge_values, figure  # noqa: E402
from nnviz.teaching.lesson import steps  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    stop_server,
    wait_until_healthy,
)
from conftest import start_server as serve  # noqa: E402

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
DRAWN = ".js-plotly-plot .scatterlayer .trace"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def timed(fn, *, min_time: float = 0.3, min_runs: int = 3, max_runs: int = 200) -> float:
    """The median time of one call, over at least min_runs calls and about min_time seconds."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_runs or (
        time.perf_counter() - start < min_time and len(times) < max_runs
    ):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# --- 1. the figure ----------------------------------------------------------------------------


def naive_figure(p, step, mode: str) -> go.Figure:
    """The straightforward way: one validated go.Scatter per edge, each with its own colour."""
    layers = p.problem.layers
    values = edge_values(p, step, mode)
    m = max(float(np.abs(v).max()) for v in values) or 1.0
    ys = [np.arange(n)[::-1] - (n - 1) / 2 for n in layers]
    data = []
    for l, v in enumerate(values):
        colours = sample_colorscale(COLORSCALE, list((v.ravel() / m + 1) / 2))
        for (j, i), value in np.ndenumerate(v):
            data.append(
                go.Scatter(
                    x=[l, l + 1],
                    y=[ys[l][i], ys[l + 1][j]],
                    mode="lines",
                    line={"color": colours[j * v.shape[1] + i], "width": 1 + 6 * abs(value) / m},
                    hoverinfo="text",
                    hovertext=f"{value:.4f}",
                    showlegend=False,
                )
            )
    xs = [l for l, n in enumerate(layers) for _ in range(n)]
    data.append(go.Scatter(x=xs, y=np.concatenate(ys), mode="markers", showlegend=False))
    return go.Figure(data=data)


def bench_figure() -> None:
    print("1. Network figure: nnviz.plots.network.figure vs one trace per edge (median per build)")
    relu, softmax = Activation("relu"), Activation("softmax")
    networks = [("3-4-2 (seed)", preset("seed"))]
    for layers in ([16, 32, 32, 10], [64, 64, 64, 64]):
        acts = [relu] * (len(layers) - 2) + [softmax]
        networks.append(
            ("-".join(map(str, layers)), random_problem(layers, acts, "cross_entropy", False, 0))
        )
    goals = {"3-4-2 (seed)": 0.010, "64-64-64-64": 0.150}
    for name, problem in networks:
        p = run_step(problem)
        last = steps(p)[-1]  # the update: every layer lit, every node labelled
        mode = default_mode(last)
        edges = sum(w.size for w in problem.weights)
        ours = timed(lambda p=p, s=last, mode=mode: figure(p, s, mode), min_time=0.5)
        serialise = timed(lambda p=p, s=last, mode=mode: figure(p, s, mode).to_json())
        naive = timed(
            lambda p=p, s=last, mode=mode: naive_figure(p, s, mode),
            min_time=0.0 if edges > 1000 else 0.5,
            min_runs=1 if edges > 5000 else 3,
        )
        print(f"   {name:>13} ({edges:5d} edges): figure {ms(ours)}   with to_json {ms(serialise)}")
        print(
            f"   {'':>13}                one trace per edge {ms(naive)}   "
            f"speed-up {naive / ours:7.1f}x"
        )
        if name in goals:
            print(
                f"   {'':>13}                goal <= {goals[name] * 1e3:.0f} ms: "
                f"{verdict(ours <= goals[name])}"
            )
        if edges >= 1000:
            print(f"   {'':>13}                goal >= 20x faster: {verdict(naive / ours >= 20)}")
        else:
            print(f"   {'':>13}                (20x goal not applied: too few edges to matter)")


# --- 2. AppTest -------------------------------------------------------------------------------


def bench_apptest(clicks: int = 40) -> None:
    from streamlit.testing.v1 import AppTest

    # AppTest itself touches session state outside a script run once, and says so: not ours.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage()
    )

    print(f"\n2. AppTest rerun after a click on Next (median of {clicks})")
    trivial = AppTest.from_string(
        "import streamlit as st\nst.button('Next', key='next')\nst.write(1)\n",
        default_timeout=30,
    ).run()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not app.exception, app.exception
    runs = {"trivial script": (trivial, []), "nnviz app": (app, [])}
    for _ in range(clicks):  # interleaved, to share the noise; Next cycles into new iterations
        for at, times in runs.values():
            t = time.perf_counter()
            at.button(key="next").click().run()
            times.append(time.perf_counter() - t)
    results = {}
    for name, (at, times) in runs.items():
        assert not at.exception, at.exception
        results[name] = statistics.median(times)
        print(f"   {name:>14}: median {ms(results[name])}   (min {ms(min(times))})")
    print(f"   ratio app/trivial: {results['nnviz app'] / results['trivial script']:.1f}x")
    print(f"   goal <= 100 ms median: {verdict(results['nnviz app'] <= 0.100)}")


# --- 3. Chromium ------------------------------------------------------------------------------


def start_server(log) -> tuple[subprocess.Popen, str]:
    """The app served as the browser tests serve it (tests/conftest.py), on a free port."""
    port = free_port()
    process = serve(port, log)
    url = f"http://127.0.0.1:{port}"
    problem = wait_until_healthy(process, url, 60)
    if problem:
        stop_server(process)
        log.seek(0)
        raise RuntimeError(f"{problem}:\n{log.read()}")
    return process, url


HEADING_JS = """() => {
  const h = [...document.querySelectorAll('h3')].find(e => e.innerText.startsWith('Step '));
  return h ? h.innerText.trim() : null;
}"""
HEADING_CHANGED_JS = f"(before) => {{ const h = ({HEADING_JS})(); return !!h && h !== before; }}"


def bench_browser(loads: int = 5, clicks: int = 10) -> None:
    print("\n3. Chromium")
    if not CHROMIUM.exists():
        print(f"   skipped: {CHROMIUM} is missing (apt-get install chromium)")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryFile("w+") as log:
        process, url = start_server(log)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    _measure(browser, url, loads, clicks)
                finally:
                    browser.close()
        finally:
            stop_server(process)


def _fresh_page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.set_default_timeout(30_000)
    return context, context.new_page()


def _load(browser, url) -> float:
    context, page = _fresh_page(browser)
    try:
        t = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(DRAWN, state="attached")
        return time.perf_counter() - t
    finally:
        context.close()


def _navigate(browser, url, wait_until="load") -> float:
    context, page = _fresh_page(browser)
    try:
        t = time.perf_counter()
        page.goto(url, wait_until=wait_until)
        return time.perf_counter() - t
    finally:
        context.close()


def _measure(browser, url, loads, clicks) -> None:
    cold = _load(browser, url)  # the server's first session: its imports, caches, sockets
    health, shell, warm = [], [], []
    for _ in range(loads):  # interleaved, to share the noise
        health.append(_navigate(browser, f"{url}/_stcore/health"))
        shell.append(_navigate(browser, url))  # the static page; the script has not run yet
        warm.append(_load(browser, url))
    print(f"   baseline: navigate to /_stcore/health   median {ms(statistics.median(health))}")
    print(f"   baseline: the app's static page (load)  median {ms(statistics.median(shell))}")
    print(f"   first load to drawn chart, server's first session {ms(cold)}")
    print(
        f"   first load to drawn chart, fresh session  median {ms(statistics.median(warm))}"
        f"   (min {ms(min(warm))}, max {ms(max(warm))}; "
        f"{statistics.median(warm) / statistics.median(shell):.1f}x the static page)"
    )
    print(f"   goal <= 4 s: {verdict(statistics.median(warm) <= 4.0)}")

    context, page = _fresh_page(browser)
    try:
        page.goto(url)
        page.wait_for_selector(IDLE)
        page.wait_for_selector(DRAWN, state="attached")
        times = []
        for _ in range(clicks):
            before = page.evaluate(HEADING_JS)
            t = time.perf_counter()
            page.locator(".st-key-next button").click()
            page.wait_for_function(HEADING_CHANGED_JS, arg=before)
            page.wait_for_selector(IDLE)
            page.wait_for_selector(DRAWN, state="attached")
            times.append(time.perf_counter() - t)
    finally:
        context.close()
    print(
        f"   click Next to the redrawn step, median of {clicks} {ms(statistics.median(times))}"
        f"   (min {ms(min(times))}, max {ms(max(times))}; "
        f"{statistics.median(times) / statistics.median(health):.1f}x a /_stcore/health "
        "navigation)"
    )
    print(f"   goal <= 0.5 s: {verdict(statistics.median(times) <= 0.5)}")


def main() -> None:
    import plotly
    import streamlit

    print(
        f"nnviz app benchmark: Python {sys.version.split()[0]}, streamlit {streamlit.__version__},"
        f" plotly {plotly.__version__}, {os.cpu_count()} CPUs\n"
    )
    start = time.perf_counter()
    bench_figure()
    bench_apptest()
    bench_browser()
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
