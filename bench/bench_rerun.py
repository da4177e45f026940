"""What a click on Next reruns and costs the server: the code before fragments against now.

    python bench/bench_rerun.py            # from the repository's top folder; about 2 minutes
    python bench/bench_rerun.py --quick    # fewer rounds, to try it out

OLD is commit 5c49cc1, from before the page reran only what changed (lazy tabs were already
there), checked out into a temporary git worktree (removed afterwards); NEW is this work tree as
it is when the bench runs. Each is served by `streamlit run app.py` from its own folder, with
the same options (bench_sessions.serve: headless, no file watcher, `--runner.postScriptGC
false` as .streamlit/config.toml sets it). The figure is the server's CPU time, read from
/proc/<pid>/stat, which leaves out the clients' own cost:

1. Server CPU per click on Next, one socket student (tests/test_sessions.py, which asks for a
   fragment's rerun as a page does), over whole iterations (10 clicks within one, 1 into the
   next), old and new interleaved; and what one click sends: elements, grids, sidebar elements,
   bytes.
2. The same from a Chromium page, with the click-to-redraw time (heading changed, rerun over).
3. A hall: 60 socket students on the seed all click Next at the same moment, 11 times (a whole
   iteration), on one server process, and on two processes of 30 students each (two
   `streamlit run` on two ports, nothing in front: each student connects to one of them, as
   sticky sessions behind a load balancer would have it). The answer times' median and p95.

This machine has two cores and is noisy: each figure is a median of rounds, read the ratios,
and never turn these figures into test assertions.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import bench_sessions  # noqa: E402  (it puts tests/ on the path)
from bench_sessions import Server, clicks, open_page, page_click  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from test_sessions import SocketStudent, socket_student  # noqa: E402

OLD_COMMIT = "5c49cc1"
QUICK = "--quick" in sys.argv[1:]
ROUNDS = 2 if QUICK else 5  # rounds of 11 clicks from one socket, per server
PAGE_ROUNDS = 1 if QUICK else 3  # rounds of 11 clicks from one Chromium page, per server
HALL = 60  # students clicking at once
BURSTS = 3 if QUICK else 11  # their clicks, one after another: 11 is a whole iteration
SIDEBAR = 1  # a delta path's first index: 0 the main area, 1 the sidebar
GOAL_MS, GOAL_P95_S = 15.0, 1.0


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:6.1f} ms"


def serve(cwd: Path):
    return bench_sessions.serve(gc_after_rerun=False, cwd=cwd)


def sent(student: SocketStudent) -> tuple[int, int, int]:
    """What the student's last click brought: elements, grids among them, sidebar elements."""
    kinds = student.elements
    return (
        len(kinds),
        sum(kind == "dataframe" for _, kind in kinds),
        sum(root == SIDEBAR for root, _ in kinds),
    )


def one_click(student: SocketStudent) -> tuple[tuple[int, int, int], int]:
    before = student.received
    student.send("next")
    student.receive()
    return sent(student), student.received - before


# --- 1. one socket student --------------------------------------------------------------------


def socket_figures(servers: dict[str, Server]) -> dict[str, float]:
    print("1. Server CPU per click on Next, one socket student, over whole iterations")
    with ExitStack() as stack:
        probes = {k: stack.enter_context(socket_student(s.url)) for k, s in servers.items()}
        for name, server in servers.items():
            clicks(server, probes[name], 11)  # every step drawn once
        within, crossing = {}, {}
        for name in servers:
            for _ in range(10):
                within[name] = one_click(probes[name])
            crossing[name] = one_click(probes[name])  # step 11 into iteration 2's first
        cpu = {name: [] for name in servers}
        for _ in range(ROUNDS):  # interleaved, to share the noise
            for name, server in servers.items():
                cpu[name].append(clicks(server, probes[name], 11)[0])
    per = {name: statistics.median(v) for name, v in cpu.items()}
    for name in servers:
        print(
            f"   {name}: {ms(per[name])} per click (median of {ROUNDS} rounds of 11: "
            f"{', '.join(ms(c).strip() for c in cpu[name])})"
        )
    print(
        f"   new / old = {per['new'] / per['old']:.2f} ({per['old'] / per['new']:.1f}x less);"
        f" goal at most {GOAL_MS:.0f} ms: {'met' if per['new'] * 1e3 <= GOAL_MS else 'NOT met'}"
    )
    for label, seen in (("within an iteration", within), ("into a new iteration", crossing)):
        for name in servers:
            (n, grids, sidebar), size = seen[name]
            print(
                f"   a click {label}, {name}: {n:3d} elements sent, {grids} of them grids,"
                f" {sidebar:2d} in the sidebar, {size / 1024:5.1f} kB"
            )
    return per


# --- 2. a Chromium page -----------------------------------------------------------------------


def page_figures(servers: dict[str, Server], sockets: dict[str, float]) -> None:
    from playwright.sync_api import sync_playwright

    print("\n2. Server CPU per click on Next from a Chromium page, and click to redraw")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            pages = {k: open_page(browser, s.url) for k, s in servers.items()}
            for page in pages.values():
                for _ in range(11):
                    page_click(page)
            cpu = {name: [] for name in servers}
            wall = {name: [] for name in servers}
            for _ in range(PAGE_ROUNDS):
                for name, server in servers.items():
                    before = server.cpu()
                    for _ in range(11):
                        wall[name].append(page_click(pages[name]))
                        time.sleep(0.05)  # the page's own work after the rerun, off the clock
                    cpu[name].append((server.cpu() - before) / 11)
        finally:
            browser.close()
    per = {name: statistics.median(v) for name, v in cpu.items()}
    for name in servers:
        print(
            f"   {name}: {ms(per[name])} server CPU per click ({per[name] / sockets[name]:.2f}x"
            f" a socket's), click to redraw median {ms(statistics.median(wall[name]))}"
        )
    print(f"   new / old = {per['new'] / per['old']:.2f} server CPU,")
    print(
        f"   {statistics.median(wall['new']) / statistics.median(wall['old']):.2f}"
        " click to redraw (most of which is the browser's own work)"
    )


# --- 3. a hall --------------------------------------------------------------------------------


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[int(0.95 * (len(ordered) - 1))]


def hall(servers: list[Server]) -> tuple[list[float], list[float], float]:
    """HALL students spread evenly over these servers, all clicking at once, BURSTS times from
    step 1. Returns the answer times of the clicks within an iteration and of the click into
    the next (the 11th), and the servers' CPU per click."""
    with ExitStack() as stack:
        students = [
            stack.enter_context(socket_student(servers[i % len(servers)].url, timeout=300))
            for i in range(HALL)
        ]
        within, crossing, cpu = [], [], 0.0
        for k in range(BURSTS):
            barrier = threading.Barrier(HALL + 1)

            def click(student: SocketStudent, barrier=barrier) -> float:
                barrier.wait()
                t = time.perf_counter()
                student.send("next")
                student.receive()
                return time.perf_counter() - t

            with ThreadPoolExecutor(HALL) as pool:
                futures = [pool.submit(click, s) for s in students]
                before = sum(s.cpu() for s in servers)
                barrier.wait()
                (crossing if k == 10 else within).extend(f.result() for f in futures)
                cpu += sum(s.cpu() for s in servers) - before
            time.sleep(0.2)
    return within, crossing, cpu / (HALL * BURSTS)


def hall_figures(folders: dict[str, Path]) -> None:
    print(
        f"\n3. {HALL} socket students on the seed click Next at once, {BURSTS} times"
        " (a whole iteration: the 11th click goes into the next)"
    )
    results = {}
    for processes in (1, 2):
        for name, folder in folders.items():
            with ExitStack() as stack:
                servers = [stack.enter_context(serve(folder)) for _ in range(processes)]
                within, crossing, cpu = hall(servers)
            everyone = p95(within + crossing)
            results[name, processes] = (everyone, cpu)
            into = (
                f"; into the next iteration median {ms(statistics.median(crossing)).strip()},"
                f" last {ms(max(crossing)).strip()}"
                if crossing
                else ""
            )
            print(
                f"   {name}, {processes} process{'es' if processes > 1 else ''}"
                f" ({HALL // processes} students each): p95 of all {ms(everyone).strip()},"
                f" within an iteration median {ms(statistics.median(within)).strip()},"
                f" p95 {ms(p95(within)).strip()}{into}; {ms(cpu).strip()} server CPU per click"
            )
    for processes in (1, 2):
        old, new = results["old", processes], results["new", processes]
        print(
            f"   {processes} process{'es' if processes > 1 else ''}: new / old = "
            f"{new[0] / old[0]:.2f} p95, {new[1] / old[1]:.2f} CPU per click"
        )
    worst = results["new", 2][0]
    print(
        f"   goal p95 < {GOAL_P95_S:.0f} s on two processes: "
        f"{'met' if worst < GOAL_P95_S else 'NOT met'} ({worst:.2f} s)"
    )


def describe_new() -> str:
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return f"HEAD {head} and its uncommitted changes"


def main() -> None:
    import streamlit

    print(
        f"nnviz rerun benchmark: old = {OLD_COMMIT}, new = the work tree ({describe_new()});"
        f" Python {sys.version.split()[0]}, streamlit {streamlit.__version__},"
        f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start"
        f"{'; --quick' if QUICK else ''}\n"
    )
    start = time.perf_counter()
    with ExitStack() as stack:
        folders = {"old": stack.enter_context(bench_sessions.worktree(OLD_COMMIT)), "new": ROOT}
        with ExitStack() as running:
            servers = {k: running.enter_context(serve(f)) for k, f in folders.items()}
            sockets = socket_figures(servers)
            if CHROMIUM.exists():
                page_figures(servers, sockets)
            else:
                print(f"\n2. skipped: no {CHROMIUM}")
        hall_figures(folders)
    print(f"\n(total {time.perf_counter() - start:.0f} s, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
