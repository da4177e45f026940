"""What one heavy session costs the shared server: the old code against the new, in one run.

    python bench/bench_heavy.py            # from the repository's top folder; about 15 minutes
    python bench/bench_heavy.py --quick    # fewer clicks and trainers, to try it out

OLD is commit cf78264, from before the fixes for heavy sessions, checked out into a temporary
git worktree (removed afterwards); NEW is this work tree as it is when the bench runs. Each is
served by `streamlit run app.py` from its own folder, with the same options: headless, no file
watcher, and `--runner.postScriptGC false` (as .streamlit/config.toml sets it). The students are
Chromium pages (tests/conftest.py's Chromium and arguments) and one socket student
(tests/test_sessions.py). What students share is the server's CPU, read from /proc/<pid>/stat
(bench_sessions.cpu_seconds), so the figures are server CPU seconds per click, each compared
with a click on the seed problem on the same server in the same run:

1. The seed problem in a fresh page: server CPU per click on Next (the baseline).
2. An 8-layer network 64 wide (tanh x6, softmax, cross-entropy, biases), opened through the
   sidebar's uploader: server CPU per click on Next.
3. A student's answer sheet of about 950 KB for that network, every quantity answered and about
   half of the values wrong, uploaded into the "Check answers" tab; then clicks on Next on the
   "Lecture" tab: server CPU and wall time per click.
4. Six students each ask for 3,434 training iterations of that network, the most the new code
   allows (100 million parameter updates), while a seventh, on the seed, clicks Next: that
   student's click latency against its own latency with nobody training. The new code runs
   them one at a time; the old one all at once.
5. The same with 100,000 iterations each, which the new code refuses. The scenario is bounded:
   the probe clicks during the first WINDOW seconds, the trainers get TRAIN_WAIT seconds, then
   the server is stopped, which ends any run still going.

The network and the sheet are generated here with the new code's nnviz (engine.iterate, and
quantities.value_of for the true values); they are plain JSON, the same for both servers.
This machine is noisy: read the ratios, and never turn these figures into test assertions.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, suppress
from pathlib import Path

import numpy as np
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import bench_sessions  # noqa: E402  (it puts tests/ on the path)
from bench_sessions import (  # noqa: E402
    HEADING_CHANGED_JS,
    HEADING_JS,
    IDLE,
    Server,
    clicks,
    open_page,
)
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from test_sessions import socket_student  # noqa: E402

from nnviz.core.engine import iterate  # noqa: E402
from nnviz.core.problem import Problem  # noqa: E402
from nnviz.teaching.grading import quantities  # noqa: E402
from nnviz.teaching.quantities import value_of  # noqa: E402
from nnviz.ui.train import most_iterations  # noqa: E402

OLD_COMMIT = "cf78264"
QUICK = "--quick" in sys.argv[1:]
SEED_CLICKS = 3 if QUICK else 8
WIDE_CLICKS = 2 if QUICK else 8
SHEET_CLICKS = 2 if QUICK else 5
TRAINERS = 2 if QUICK else 6
ITERATIONS = 100_000
PROBE_CLICKS = 4 if QUICK else 10
WINDOW = 10.0 if QUICK else 30.0  # seconds after the Train clicks in which the probe clicks
TRAIN_WAIT = 20.0 if QUICK else 60.0  # seconds after the Train clicks the trainers are given
PROBE_TIMEOUT = 60.0  # seconds: the probe's longest wait for any one message
PAGE_TIMEOUT_MS = 240_000  # any single wait in a page: an old heavy rerun takes many seconds
SETTLE = 0.2  # seconds after the end of a rerun before the server's CPU is read again
SHEET_RANGE = (900_000, 990_000)  # bytes: the answer sheet's size, under the 1 MB limit
PROBLEM_LABEL = "Open a problem (nnviz-problem/1 JSON)"
WIDE_SHAPE = "-".join(["64"] * 8)  # the sidebar's "Layer sizes" once it is open
SHEET_LABEL = "Answer sheet (nnviz-answers/1 JSON)"
SHAPE_SHOWN_JS = """(shape) => [...document.querySelectorAll('[data-testid="stSidebar"] input')]
  .some(e => e.getAttribute('aria-label') === 'Layer sizes' && e.value === shape)"""
RUNNING = '[data-testid="stApp"]:not([data-test-script-state="notRunning"])'
NEXT = re.compile(r"^Next ▶")
SCREENSHOTS = Path(tempfile.gettempdir())


# --- the network and the answer sheet ----------------------------------------------------------


def wide_problem() -> dict:
    """8 layers of 64: tanh x6 then softmax, cross-entropy, biases; weights and biases
    N(0, (1/8)^2), that is 1/sqrt(64), to 4 decimals; x uniform in [-1, 1]; a one-hot target."""
    rng, n = np.random.default_rng(0), 64

    def rounded(shape):
        return np.round(rng.normal(0, 1 / 8, shape), 4).tolist()

    return {
        "format": "nnviz-problem/1",
        "title": "8 layers of 64: tanh, softmax, cross-entropy",
        "layers": [n] * 8,
        "activations": ["tanh"] * 6 + ["softmax"],
        "loss": "cross_entropy",
        "x": np.round(rng.uniform(-1, 1, n), 4).tolist(),
        "target": np.eye(n)[rng.integers(n)].tolist(),
        "weights": [rounded((n, n)) for _ in range(7)],
        "biases": [rounded(n) for _ in range(7)],
        "learning_rate": 0.1,
    }


def answer_sheet(problem: dict) -> str:
    """An nnviz-answers/1 sheet answering every quantity: about half of the values off by 5%
    and 0.05 or more, the rest right, with as many decimals as keep it within SHEET_RANGE.
    x and o* are copied right: a wrong x or o* makes grading.mark raise (lesson.working is
    given no layer for them), which is not what this measures."""
    p = Problem.from_dict(problem)
    truth, rng = iterate(p), np.random.default_rng(1)
    values = {}
    for q in quantities(p):
        v = value_of(truth, q.key)
        if q.kind not in ("x", "target"):
            off = rng.choice([-1.0, 1.0], v.shape) * (0.05 + 0.05 * np.abs(v))
            v = np.where(rng.random(v.shape) < 0.5, v + off, v)
        values[q.name] = v
    for decimals in (7, 6, 5, 4, 3):
        answers = {k: np.round(v, decimals).tolist() for k, v in values.items()}
        text = json.dumps(
            {"format": "nnviz-answers/1", "problem": problem, "answers": answers},
            separators=(",", ":"),
        )
        if len(text) <= SHEET_RANGE[1]:
            break
    assert SHEET_RANGE[0] <= len(text) <= SHEET_RANGE[1], f"the sheet is {len(text):,} bytes"
    return text


# --- the servers --------------------------------------------------------------------------------


def serve(cwd: Path):
    """The app from this folder, with the collection after each rerun off, as config.toml
    sets it."""
    return bench_sessions.serve(gc_after_rerun=False, cwd=cwd)


# --- a page ---------------------------------------------------------------------------------------


def new_page(browser, url: str):
    """A fresh session on the seed, idle with its chart drawn."""
    page = open_page(browser, url)
    page.context.set_default_timeout(PAGE_TIMEOUT_MS)
    return page


def after_rerun(page) -> None:
    """Wait for the rerun an action may have started (up to 1 s for it to start), then idle."""
    with suppress(PlaywrightTimeoutError):  # no rerun came, or it was over too soon to be seen
        page.wait_for_selector(RUNNING, timeout=1000)
    page.wait_for_selector(IDLE)


def tab(page, name: str):
    page.get_by_role("tab", name=name, exact=True).click()
    after_rerun(page)
    return page.get_by_role("tabpanel", name=name)


def upload(server: Server, page, label: str, path: Path) -> tuple[float, float, str]:
    """Upload a file through the uploader with this label; wait for the notice that names the
    file (opened, loaded or refused) and the end of the rerun. Server CPU, wall time, notice."""
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
    cpu, t = server.cpu(), time.perf_counter()
    uploader.locator('input[type="file"]').set_input_files(str(path))
    notice = page.locator('[data-testid="stAlert"]').filter(has_text=path.name).first
    notice.wait_for()
    page.wait_for_selector(IDLE)
    wall = time.perf_counter() - t
    text = " ".join(notice.inner_text().split())
    time.sleep(SETTLE)
    return server.cpu() - cpu, wall, text


def next_click(server: Server, page) -> tuple[float, float]:
    """Click Next on the Lecture tab: the server's CPU and the wall time until the new step's
    heading is on screen and the rerun is over."""
    page.wait_for_function(HEADING_JS)
    before = page.evaluate(HEADING_JS)
    button = page.get_by_role("tabpanel", name="Lecture").get_by_role("button", name=NEXT)
    cpu, t = server.cpu(), time.perf_counter()
    button.click()
    page.wait_for_function(HEADING_CHANGED_JS, arg=before)
    page.wait_for_selector(IDLE)
    wall = time.perf_counter() - t
    time.sleep(SETTLE)
    return server.cpu() - cpu, wall


def next_clicks(server: Server, page, n: int) -> tuple[float, float]:
    """n clicks on Next: the medians of the server's CPU and of the wall time per click."""
    results = [next_click(server, page) for _ in range(n)]
    return statistics.median(c for c, _ in results), statistics.median(w for _, w in results)


def screenshot(page, name: str) -> str:
    path = SCREENSHOTS / f"bench_heavy-{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as e:
        return f"no screenshot ({e.__class__.__name__})"
    return f"screenshot {path}"


# --- the scenarios --------------------------------------------------------------------------------


def seed(server: Server, browser) -> dict:
    cpu = server.cpu()
    page = new_page(browser, server.url)
    try:
        next_click(server, page)  # the first click draws what the first load did not
        per_click, wall = next_clicks(server, page, SEED_CLICKS)
    finally:
        page.context.close()
    return {"cpu": per_click, "wall": wall, "total": server.cpu() - cpu}


def wide(server: Server, browser, problem_file: Path) -> dict:
    cpu = server.cpu()
    page = new_page(browser, server.url)
    try:
        opened = upload(server, page, PROBLEM_LABEL, problem_file)
        per_click, wall = next_clicks(server, page, WIDE_CLICKS)
    except Exception as e:
        e.add_note(screenshot(page, "wide"))
        raise
    finally:
        page.context.close()
    return {"cpu": per_click, "wall": wall, "upload": opened, "total": server.cpu() - cpu}


def sheet(server: Server, browser, sheet_file: Path, name: str) -> dict:
    cpu = server.cpu()
    page = new_page(browser, server.url)
    try:
        tab(page, "Check answers")
        loaded = upload(server, page, SHEET_LABEL, sheet_file)
        tab(page, "Lecture")
        per_click, wall = next_clicks(server, page, SHEET_CLICKS)
    except Exception as e:
        e.add_note(screenshot(page, f"sheet-{name}"))
        raise
    finally:
        page.context.close()
    return {"cpu": per_click, "wall": wall, "upload": loaded, "total": server.cpu() - cpu}


def trainer(server: Server, browser, problem_file: Path, name: str, iterations: int):
    """A page on the Train tab with `iterations` typed in, then the wide network opened. (In that
    order the seed's cheap rerun takes the typing, and the browser does not draw the network's
    Lecture tab, which is not on the page while another tab is.) The page, and what the
    Iterations box shows once the network is open."""
    page = new_page(browser, server.url)
    try:
        panel = tab(page, "Train")
        box = panel.get_by_label("Iterations")
        box.fill(str(iterations))
        box.press("Enter")
        after_rerun(page)
        page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"]').filter(
            has_text=PROBLEM_LABEL
        ).locator('input[type="file"]').set_input_files(str(problem_file))
        # its notice is on the Lecture tab, so the sign that it opened is the sidebar's shape
        page.wait_for_function(SHAPE_SHOWN_JS, arg=WIDE_SHAPE)
        page.wait_for_selector(IDLE)
        return page, box.input_value()
    except Exception as e:
        e.add_note(screenshot(page, f"train-{name}"))
        page.context.close()
        raise


def outcome(page) -> str:
    """What a trainer's Train tab says: still running, or its first notice."""
    panel = page.get_by_role("tabpanel", name="Train")
    progress = [t.strip() for t in panel.locator('[data-testid="stProgress"]').all_inner_texts()]
    alerts = [t.strip() for t in panel.locator('[data-testid="stAlert"]').all_inner_texts()]
    said = " ".join(alerts[0].split()) if alerts else ""
    said = said if len(said) <= 300 else said[:297] + "..."
    if page.locator(RUNNING).count():
        return (
            "still running"
            + (f" ({progress[0]})" if progress and progress[0] else "")
            + (f", saying: {said}" if said else "")
        )
    if said:
        return said
    return "idle, with no message"


def training(server: Server, browser, problem_file: Path, name: str, iterations: int) -> dict:
    with ExitStack() as stack:
        cpu_all = server.cpu()
        pages, shown = [], set()
        for _ in range(TRAINERS):
            page, value = trainer(server, browser, problem_file, name, iterations)
            stack.callback(page.context.close)
            pages.append(page)
            shown.add(value)
        probe = stack.enter_context(socket_student(server.url, timeout=PROBE_TIMEOUT))
        clicks(server, probe, 3)  # warm
        _, alone, _ = clicks(server, probe, PROBE_CLICKS)

        cpu, t0 = server.cpu(), time.perf_counter()
        for page in pages:
            page.get_by_role("tabpanel", name="Train").get_by_role(
                "button", name="Train", exact=True
            ).click()
        busy, timed_out = [], False
        while len(busy) < PROBE_CLICKS and time.perf_counter() - t0 < WINDOW:
            t = time.perf_counter()
            try:
                probe.send("next")
                probe.receive()
            except TimeoutError:
                timed_out = True
                break
            busy.append(time.perf_counter() - t)
        probed = time.perf_counter() - t0
        while time.perf_counter() - t0 < TRAIN_WAIT:
            if not any(p.locator(RUNNING).count() for p in pages):
                break
            time.sleep(0.5)
        waited, used = time.perf_counter() - t0, server.cpu() - cpu
        outcomes = Counter(outcome(p) for p in pages)
    return {
        "alone": alone,
        "busy": busy,
        "timed_out": timed_out,
        "probed": probed,
        "waited": waited,
        "outcomes": outcomes,
        "shown": shown,
        "cpu": used,
        "total": server.cpu() - cpu_all,
    }


# --- the report -----------------------------------------------------------------------------------


def secs(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def attempt(fn, *args):
    """A scenario's result, or the error (with its screenshot) as one line."""
    try:
        return fn(*args)
    except Exception as e:  # the new code may be mid-change: say what broke
        notes = "; ".join(getattr(e, "__notes__", []))
        first = " | ".join(str(e).strip().splitlines())[:600]
        return f"FAILED: {e.__class__.__name__}: {first}" + (f" ({notes})" if notes else "")


def per_click_lines(results: dict, base: dict, what: str) -> None:
    for name in ("old", "new"):
        r, b = results[name], base.get(name)
        if isinstance(r, str):
            print(f"   {name}: {r}")
            continue
        line = f"   {name}: {secs(r['cpu']):>8} CPU per click, {secs(r['wall']):>8} wall"
        if name == "new" and isinstance(results["old"], dict):
            line += f" = {r['cpu'] / results['old']['cpu']:.3f}x old"
        if isinstance(b, dict):
            line += f"; = {r['cpu'] / b['cpu']:.1f}x a seed click"
        if "upload" in r:
            cpu, wall, _ = r["upload"]
            line += f"; the upload {secs(cpu)} CPU, {secs(wall)} wall"
        print(line + f"; {what} total {r['total']:.1f} s CPU")
        if "upload" in r:
            print(f"        it said: {r['upload'][2]!r}")


def verdict(results: dict, base: dict, what: str) -> None:
    old, new, seed_new = results["old"], results["new"], base.get("new")
    if not (isinstance(old, dict) and isinstance(new, dict) and isinstance(seed_new, dict)):
        print("   verdict: not measured on both servers (see above)")
        return
    times = new["cpu"] / seed_new["cpu"]
    state = (
        "costs about what a seed click does"
        if times < 2
        else f"still costs {times:.1f}x a seed click"
    )
    print(
        f"   verdict: {what} now costs the server {new['cpu'] / old['cpu']:.3f}x what it did;"
        f" a click in it {state}"
    )


def training_lines(results: dict) -> None:
    for name in ("old", "new"):
        r = results[name]
        if isinstance(r, str):
            print(f"   {name}: {r}")
            continue
        alone = statistics.median(r["alone"])
        print(
            f"   {name}: the probe alone {secs(alone)} median, {secs(max(r['alone']))} worst"
            f" ({len(r['alone'])} clicks, {TRAINERS} trainers open and idle)"
        )
        if r["busy"]:
            median, worst = statistics.median(r["busy"]), max(r["busy"])
            print(
                f"        while they train: {secs(median)} median = {median / alone:.1f}x alone,"
                f" {secs(worst)} worst = {worst / alone:.1f}x; {len(r['busy'])} clicks answered"
                f" in {r['probed']:.0f} s" + (", then one timed out" if r["timed_out"] else "")
            )
        else:
            print(f"        while they train: no click answered in {r['probed']:.0f} s")
        print(
            f"        the server used {r['cpu']:.1f} s CPU in the {r['waited']:.0f} s after the"
            f" Train clicks ({r['cpu'] / r['waited']:.2f} cores); the scenario {r['total']:.1f} s"
        )
        shown = ", ".join(sorted(r["shown"]))
        print(f"        Iterations showed {shown}; after {r['waited']:.0f} s:")
        for text, count in r["outcomes"].most_common():
            print(f"          {count} x {text}")
    old, new = results["old"], results["new"]
    if isinstance(old, dict) and isinstance(new, dict) and old["busy"] and new["busy"]:
        slow = {
            k: statistics.median(r["busy"]) / statistics.median(r["alone"])
            for k, r in results.items()
        }
        print(
            f"   verdict: while {TRAINERS} students ask to train, a seed click waits"
            f" {slow['new']:.1f}x its time alone, against {slow['old']:.1f}x on the old code"
        )
    else:
        print("   verdict: not measured on both servers (see above)")


def describe_new() -> str:
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return head + (" with uncommitted changes" if dirty else "")


def main() -> None:
    import streamlit

    print(
        f"nnviz heavy-session benchmark: old = {OLD_COMMIT}, new = the work tree"
        f" ({describe_new()}); Python {sys.version.split()[0]}, streamlit"
        f" {streamlit.__version__}, {os.cpu_count()} CPUs, load average"
        f" {os.getloadavg()[0]:.1f} at the start{'; --quick' if QUICK else ''}\n"
    )
    start = time.perf_counter()
    with ExitStack() as stack:
        files = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        problem = wide_problem()
        problem_file = files / "wide-8x64.json"
        problem_file.write_text(json.dumps(problem))
        sheet_file = files / "wide-8x64-answers.json"
        sheet_file.write_text(answer_sheet(problem))
        size = sheet_file.stat().st_size
        in_cap = most_iterations(Problem.from_dict(problem))  # 3,434: the most the new code runs

        old_folder = stack.enter_context(bench_sessions.worktree(OLD_COMMIT))
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        running = {name: ExitStack() for name in ("old", "new")}
        for s in running.values():
            stack.enter_context(s)
        servers = {
            "old": running["old"].enter_context(serve(old_folder)),
            "new": running["new"].enter_context(serve(ROOT)),
        }

        print(f"1. The seed problem in a fresh page, {SEED_CLICKS} clicks on Next (the baseline)")
        base = {k: attempt(seed, s, browser) for k, s in servers.items()}
        per_click_lines(base, {}, "scenario")

        print(
            f"\n2. An 8-layer network 64 wide opened from the sidebar: {WIDE_CLICKS} clicks on Next"
        )
        results = {k: attempt(wide, s, browser, problem_file) for k, s in servers.items()}
        per_click_lines(results, base, "scenario")
        verdict(results, base, "a click on the 8x64 network")

        print(
            f"\n3. A big answer sheet ({size / 1000:.0f} KB, 8x64, every quantity answered) in"
            f" Check answers, then {SHEET_CLICKS} clicks on Next on the Lecture tab"
        )
        results = {k: attempt(sheet, s, browser, sheet_file, k) for k, s in servers.items()}
        per_click_lines(results, base, "scenario")
        verdict(results, base, "a click in a session holding the big sheet")

        print(
            f"\n4. One student on the seed clicks Next while {TRAINERS} others ask for"
            f" {in_cap:,} iterations of the 8x64 network, the most the new code allows (clicks"
            f" during the first {WINDOW:.0f} s; the trainers get {TRAIN_WAIT:.0f} s)"
        )
        results = {
            k: attempt(training, s, browser, problem_file, f"{k}-cap", in_cap)
            for k, s in servers.items()
        }
        training_lines(results)

        print(
            f"\n5. One student on the seed clicks Next while {TRAINERS} others ask for"
            f" {ITERATIONS:,} iterations of the 8x64 network (clicks during the first"
            f" {WINDOW:.0f} s; the trainers get {TRAIN_WAIT:.0f} s, then the server stops)"
        )
        results = {}
        for name, server in servers.items():
            results[name] = attempt(training, server, browser, problem_file, name, ITERATIONS)
            running[name].close()  # stopping the server ends its training runs
        training_lines(results)
    print(f"\n(total {time.perf_counter() - start:.0f} s, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
