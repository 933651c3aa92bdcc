"""What write-through views cost: one 784-128-128-10/64 MLP step (SGD) and single view ops.

Run with the package to measure on PYTHONPATH; the driver (``--compare OLD NEW``) alternates the two
trees in fresh processes, round after round, and prints per-round process-CPU times and medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time


def measure() -> dict:
    import numpy

    import minidl as md
    import minidl.nn as nn
    import minidl.nn.functional as F

    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = md.optim.SGD(model.parameters(), lr=0.01)
    rng = numpy.random.default_rng(0)
    x = md.tensor(rng.standard_normal((64, 784)).astype("float32"))
    y = md.tensor(rng.integers(0, 10, 64))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    small = md.randn(8, 8)

    def views():
        for _ in range(100):
            small[1]
            small.T
            small.reshape(64)
            small[:, 2:5]

    out = {}
    for name, fn, count in (("mlp_step_us", step, 300), ("four_views_us", views, 30)):
        for _ in range(20):
            fn()
        start = time.process_time()
        for _ in range(count):
            fn()
        per = (time.process_time() - start) / count * 1e6
        out[name] = per if name == "mlp_step_us" else per / 100
    return out


def compare(old: str, new: str, rounds: int) -> None:
    results = {"old": [], "new": []}
    for _ in range(rounds):
        for label, path in (("old", old), ("new", new)):
            env = dict(os.environ, PYTHONPATH=path, OPENBLAS_NUM_THREADS="1")
            text = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True,
                                  check=True).stdout
            results[label].append(json.loads(text))
    print(json.dumps(results))
    for key in results["old"][0]:
        medians = {label: statistics.median(r[key] for r in results[label]) for label in results}
        print(f"{key}: old {medians['old']:.1f} us, new {medians['new']:.1f} us (median of {rounds} rounds)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    else:
        print(json.dumps(measure()))
