"""How fast is one training step of the seed problem through nnviz's public API?

    python bench/bench_core.py

Every figure is a ratio against a baseline timed in the same run, in interleaved rounds, because
this machine is noisy: a hand-written, single-purpose NumPy step for the seed network, and
PyTorch eager when torch is importable. Goals (issue 2): at most 1.5x the hand-written step, at
least 8x faster than PyTorch eager, 10,000 steps in under 0.5 s, and a command line that answers
in well under a second.
"""

import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnviz.core.engine import iterate  # noqa: E402
from nnviz.core.problem import preset  # noqa: E402

ROUNDS, NUMBER = 15, 2000


def hand_written_step(problem):
    """The seed's step as one would type it for this network alone."""
    v, w = problem.weights
    x, target, eta = problem.x, problem.target, problem.learning_rate

    def one_step():
        u = v @ x
        h = np.where(u >= 0, u, np.expm1(np.minimum(u, 0.0)))
        z = w @ h
        shifted = z - z.max()
        e = np.exp(shifted)
        o = e / e.sum()
        loss = -(target * (shifted - np.log(e.sum()))).sum()
        dz = o - target
        dw = np.outer(dz, h)
        dh = w.T @ dz
        du = dh * np.where(u >= 0, 1.0, np.exp(np.minimum(u, 0.0)))
        dv = np.outer(du, x)
        return loss, v - eta * dv, w - eta * dw

    return one_step


def torch_steps(problem):
    """PyTorch eager, in float64 like nnviz: the training step as its tutorials write it
    (nn.Sequential, F.cross_entropy, optim.SGD), and a lean functional one."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    f64 = torch.float64
    v0, w0 = (torch.tensor(a, dtype=f64) for a in problem.weights)
    x = torch.tensor(problem.x, dtype=f64)
    target = torch.tensor(problem.target, dtype=f64)
    eta = problem.learning_rate

    model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.ELU(), nn.Linear(4, 2, bias=False))
    model = model.to(f64)
    optimizer = torch.optim.SGD(model.parameters(), lr=eta)
    label = target.argmax()[None]

    with torch.no_grad():
        model[0].weight.copy_(v0)
        model[2].weight.copy_(w0)

    def idiomatic():  # its weights move on from call to call; the work per call is the same
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x[None]), label)
        loss.backward()
        optimizer.step()
        return (loss.item(),)

    def lean():
        v = v0.clone().requires_grad_()
        w = w0.clone().requires_grad_()
        z = w @ nn.functional.elu(v @ x)
        loss = -(target * torch.log_softmax(z, 0)).sum()
        loss.backward()
        with torch.no_grad():
            return loss.item(), v - eta * v.grad, w - eta * w.grad

    name = f"PyTorch {torch.__version__}"
    return {f"{name}, nn + optim": idiomatic, f"{name}, functional": lean}


def per_call(fn):
    return timeit.timeit(fn, number=NUMBER) / NUMBER


def main():
    problem = preset("seed")
    contenders = {
        "hand-written NumPy step": hand_written_step(problem),
        "nnviz.core.engine.iterate": lambda: iterate(problem),
    }
    try:
        torch_contenders = torch_steps(problem)
    except ImportError:
        torch_contenders = {}
    contenders.update(torch_contenders)

    # all agree on the loss before any is timed
    loss = iterate(problem).forward.loss
    for name, fn in contenders.items():
        if name != "nnviz.core.engine.iterate":
            assert abs(float(fn()[0]) - loss) < 1e-12, name

    times = {name: [] for name in contenders}
    for _ in range(ROUNDS):
        for name, fn in contenders.items():
            times[name].append(per_call(fn))
    base = times["hand-written NumPy step"]
    ratio = {
        name: statistics.median(t / b for t, b in zip(ts, base, strict=True))
        for name, ts in times.items()
    }

    width = max(map(len, times))
    print(
        f"One full step of the seed problem (forward, loss, backward, update); "
        f"median of {ROUNDS} interleaved rounds of {NUMBER} calls"
    )
    for name, ts in times.items():
        print(
            f"  {name:<{width}} {statistics.median(ts) * 1e6:7.1f} us   "
            f"{ratio[name]:5.2f}x the hand-written step"
        )
    verdict = "ok" if ratio["nnviz.core.engine.iterate"] <= 1.5 else "MISSED"
    mine = ratio["nnviz.core.engine.iterate"]
    print(f"  nnviz / hand-written = {mine:.2f}  (goal <= 1.5)  {verdict}")
    for name in torch_contenders:
        speedup = ratio[name] / ratio["nnviz.core.engine.iterate"]
        verdict = "ok" if speedup >= 8 else "MISSED"
        print(f"  nnviz is {speedup:4.1f}x faster than {name}  (goal >= 8x)  {verdict}")
    if not torch_contenders:
        print("  PyTorch is not importable: no comparison with it in this run")

    # 10,000 iterations, each starting from the last one's weights
    runs = []
    for _ in range(5):
        hand = hand_written_step(problem)
        t0 = time.perf_counter()
        for _ in range(10_000):
            hand()
        t_hand = time.perf_counter() - t0
        p = problem
        t0 = time.perf_counter()
        for _ in range(10_000):
            p = iterate(p).updated
        runs.append((time.perf_counter() - t0, t_hand))
    t_api, t_hand = min(runs)
    verdict = "ok" if t_api < 0.5 else "MISSED"
    print(
        f"10,000 steps of the seed problem: {t_api:.3f} s = {t_api / t_hand:.2f}x 10,000 "
        f"hand-written steps  (goal < 0.5 s)  {verdict}"
    )

    # the command line: start-up included, against Python starting and importing numpy
    def wall(args):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - t0

    cli, bare = [], []
    for _ in range(7):
        cli.append(wall(["-m", "nnviz", "solve", "--format", "json"]))
        bare.append(wall(["-c", "import numpy"]))
    t_cli, t_bare = statistics.median(cli), statistics.median(bare)
    verdict = "ok" if t_cli < 1.0 else "MISSED"
    print(
        f"python -m nnviz solve --format json: {t_cli:.3f} s = {t_cli / t_bare:.2f}x "
        f"python -c 'import numpy'  (goal well under 1 s)  {verdict}"
    )


if __name__ == "__main__":
    main()
