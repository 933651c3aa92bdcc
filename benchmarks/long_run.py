"""Long run: 10,000 training steps of the digits MLP, printing memory as it goes.

Memory that grows with the step count is a leak: a graph kept alive, a cache
without a bound, a reference cycle.  This script trains a 64-128-10 MLP and
prints, every ``--interval`` steps, the process's resident memory, the number
of live Python objects and, with ``--tracemalloc``, the bytes Python has
allocated (slower: tracemalloc watches every allocation).

By default the MLP is written with the functional API and a hand-written SGD
step (so it measures the engine alone); ``--api nn`` builds it the way a user
does, ``nn.Sequential(nn.Linear, nn.ReLU, nn.Linear)`` trained by
``optim.SGD`` (momentum 0.9) or, with ``--optimizer adam``, ``optim.Adam``.

    python benchmarks/long_run.py                          # 10,000 steps on NumPy
    python benchmarks/long_run.py --api nn --optimizer adam --tracemalloc
    python benchmarks/long_run.py --steps 500 --interval 100 --backend array_api_strict --tracemalloc
    python benchmarks/long_run.py --anomaly                # the same run inside md.detect_anomaly()
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import platform
import resource
import time
import tracemalloc

from typing import Callable

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim


def batches(batch_size: int):
    """Endless shuffled batches of the digits (or of synthetic 64-feature data if they are missing)."""
    try:
        dataset = md.data.digits("train")
    except (AttributeError, ImportError):  # an older minidl without minidl.data
        dataset = None
    epoch = 0
    while True:
        if dataset is not None:
            yield from md.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, seed=epoch)
        else:
            yield md.rand(batch_size, 64), md.tensor([i % 10 for i in range(batch_size)])
        epoch += 1


def resident_mib() -> float:
    """The resident set size now (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def functional_step(hidden: int, lr: float) -> Callable:
    """A training step of F.linear / F.relu with parameters updated by hand: the engine alone."""
    params = [(md.randn(hidden, 64) * 0.1).requires_grad_(), md.zeros(hidden, requires_grad=True),
              (md.randn(10, hidden) * 0.1).requires_grad_(), md.zeros(10, requires_grad=True)]

    def step(x: md.Tensor, labels: md.Tensor) -> md.Tensor:
        nonlocal params
        w1, b1, w2, b2 = params
        loss = F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), labels)
        loss.backward()
        with md.no_grad():
            params = [(p - lr * p.grad).requires_grad_() for p in params]
        return loss

    return step


def nn_step(hidden: int, lr: float, optimizer: str) -> Callable:
    """A training step as a user writes it: nn.Sequential, optim.SGD (momentum 0.9) or optim.Adam."""
    model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    opt = (optim.SGD(model.parameters(), lr=lr, momentum=0.9) if optimizer == "sgd"
           else optim.Adam(model.parameters(), lr=lr))

    def step(x: md.Tensor, labels: md.Tensor) -> md.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return loss

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--interval", type=int, default=1_000)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=None, help="default 0.1 (sgd) or 0.001 (adam)")
    parser.add_argument("--api", choices=("functional", "nn"), default="functional")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="with --api nn")
    parser.add_argument("--tracemalloc", action="store_true", help="also count Python allocations (slower)")
    parser.add_argument("--anomaly", action="store_true", help="run inside md.detect_anomaly()")
    args = parser.parse_args()

    md.set_backend(args.backend)
    md.manual_seed(0)
    lr = args.lr if args.lr is not None else (1e-3 if args.api == "nn" and args.optimizer == "adam" else 0.1)
    step_of = (functional_step(args.hidden, lr) if args.api == "functional"
               else nn_step(args.hidden, lr, args.optimizer))
    api = ("functional API, SGD by hand" if args.api == "functional"
           else f"nn API, {'optim.SGD, momentum 0.9' if args.optimizer == 'sgd' else 'optim.Adam'}")
    print(f"# {args.steps} steps, MLP 64-{args.hidden}-10 ({api}, lr {lr}), batch {args.batch_size}, "
          f"backend {args.backend}, "
          f"anomaly detection {'on' if args.anomaly else 'off'}; {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"{'step':>6} {'loss':>8} {'RSS MiB':>8} {'objects':>8} {'traced KiB':>10} {'ms/step':>8}")  # ms/step: since the previous line
    if args.tracemalloc:
        tracemalloc.start()
    data = batches(args.batch_size)
    started, last_step = time.perf_counter(), 0
    with md.detect_anomaly() if args.anomaly else contextlib.nullcontext():
        for step in range(1, args.steps + 1):
            loss = step_of(*next(data))
            if step % args.interval == 0 or step == 1:
                now = time.perf_counter()
                elapsed, started, last_step = (now - started) * 1e3 / (step - last_step), now, step
                traced = f"{tracemalloc.get_traced_memory()[0] / 1024:10.1f}" if args.tracemalloc else f"{'-':>10}"
                print(f"{step:>6} {loss.item():8.4f} {resident_mib():8.1f} {len(gc.get_objects()):>8} {traced} "
                      f"{elapsed:8.3f}", flush=True)


if __name__ == "__main__":
    main()
