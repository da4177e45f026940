"""How fast is a training run, history and all, against the stepper's own steps?

    python bench/bench_train.py

Every figure is a ratio against a baseline timed in the same run, in interleaved rounds, because
this machine is noisy: engine.iterate called in a plain loop, each step from the last one's
weights, which is all a run must do at the least. Times are this process's CPU time, so that
other jobs on the machine's two cores do not count. Goal: 10,000 iterations of the seed, with
its history recorded, in at most 0.5 s. Also shown: 100,000 iterations of the seed, and an
8-layer 64-wide network, whose history the memory budget thins.
"""

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnviz.core.engine import iterate  # noqa: E402
from nnviz.core.problem import preset  # noqa: E402
from nnviz.core.training import HISTORY_FLOATS, train  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from test_training import wide_and_deep  # noqa: E402

ROUNDS = 5


def stepped(problem, n):
    p = problem
    for _ in range(n):
        p = iterate(p).updated
    return p


def timed(fn, *args):
    t0 = time.process_time()
    result = fn(*args)
    return time.process_time() - t0, result


def rounds(problem, n, count=ROUNDS):
    """(training, steps) times, the best of interleaved rounds, and the median ratio."""
    pairs = []
    for _ in range(count):
        t_train, run = timed(train, problem, n)
        t_step, last = timed(stepped, problem, n)
        assert run.iterations_run == n and all(
            np.array_equal(a, b) for a, b in zip(run.final.weights, last.weights, strict=True)
        )
        pairs.append((t_train, t_step))
    ratio = sorted(a / b for a, b in pairs)[len(pairs) // 2]
    return min(a for a, _ in pairs), min(b for _, b in pairs), ratio, run


def history_bytes(run) -> int:
    arrays = [run.recorded, run.outputs, *run.weights, *(run.biases or ())]
    return sum((a.base if a.base is not None else a).nbytes for a in arrays)


def main():
    seed = preset("seed")
    train(seed, 100)  # warm up
    t_train, t_step, ratio, run = rounds(seed, 10_000)
    verdict = "ok" if t_train <= 0.5 else "MISSED"
    print(f"Training runs, in CPU time: the best of {ROUNDS} rounds, each against engine.iterate")
    print(
        f"  seed, 10,000 iterations, {len(run.recorded):,} recorded: {t_train:.3f} s; "
        f"10,000 engine.iterate calls: {t_step:.3f} s; ratio {ratio:.2f}"
        f"  (goal <= 0.5 s)  {verdict}"
    )

    t_train, t_step, ratio, run = rounds(seed, 100_000, count=2)
    print(
        f"  seed, 100,000 iterations, {len(run.recorded):,} recorded, "
        f"history {history_bytes(run) / 1e6:.1f} MB: {t_train:.3f} s; "
        f"100,000 engine.iterate calls: {t_step:.3f} s; ratio {ratio:.2f}"
    )

    big = wide_and_deep()
    t_train, t_step, ratio, run = rounds(big, 1000, count=3)
    tracemalloc.start()
    train(big, 1000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"  8 layers of 64, 1,000 iterations, {len(run.recorded)} recorded: {t_train:.3f} s; "
        f"1,000 engine.iterate calls: {t_step:.3f} s; ratio {ratio:.2f}"
    )
    print(
        f"  its history: {history_bytes(run) / 1e6:.1f} MB (budget {HISTORY_FLOATS * 8 / 1e6:.0f} "
        f"MB, the same for any number of iterations); peak memory of the run "
        f"{peak / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
