"""What ``md.profile()`` costs on a launch-bound step, and what it reports: device time against host time.

The step is the small shape of ``mlp_step.py`` (784-128-128-10, batch 64, SGD, minidl's functional
API): a few dozen small ops, each a few microseconds of GPU work, so the host's cost of launching them
sets the pace and any per-op cost of the profiler shows at once. In one process, round after round, in
a rotating order, each variant times a block of steps:

- ``plain``: no profiler;
- ``profiled``: each step inside its own ``md.profile()`` (as ``mlp_step.py``'s ``minidl-profiled``);
- ``profiled-block``: one ``md.profile()`` around the whole block;
- ``sync-each-op`` (GPU only): each step profiled the way minidl did before CUDA events, waiting for
  the GPU before and after every op (a clock swapped in here, for the comparison).

Overhead = median over rounds of time(variant) / time(plain) - 1; the goal on the GPU is under 20%
for ``profiled``. Then one profile of 20 steps prints its table (device ms from CUDA events beside
host ms on the GPU; one perf_counter column on the CPU), and the same 20 steps under ``sync-each-op``
give each op's time the old way, side by side.

    python benchmarks/profiler_overhead.py OUT                  # CPU (NumPy): one clock
    python benchmarks/profiler_overhead.py --device cuda OUT    # CuPy: CUDA events

Results: ``OUT/profiler_overhead.json`` (every round, the environment) and ``OUT/profiler_overhead.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # mlp_impls and mlp_step, and minidl from this checkout

import mlp_impls  # noqa: E402
from mlp_step import SHAPES, environment  # noqa: E402

import minidl as md  # noqa: E402
from minidl.tools import profiler  # noqa: E402


class SyncEachOp:
    """The profiler's clock before CUDA events: wait for the GPU before and after every op."""

    label = "perf_counter, GPU waited for before and after each op"
    deferred = False  # a span is the op's seconds at once

    def __init__(self, synchronize: Callable[[], None]) -> None:
        self._synchronize = synchronize

    def start(self) -> float:
        self._synchronize()
        return time.perf_counter()

    def stop(self, mark: float, host_seconds: float) -> float:
        self._synchronize()
        return time.perf_counter() - mark

    def wait(self) -> None:
        self._synchronize()

    def seconds(self, span: float) -> float:
        return span


@contextlib.contextmanager
def sync_each_op(sync: Callable[[], None], backend: str = "cupy") -> Iterator[None]:
    """Inside: md.profile() on ``backend`` times ops by waiting around each one."""
    saved = profiler._DEVICE_CLOCKS.get(backend)
    profiler._DEVICE_CLOCKS[backend] = SyncEachOp(sync)
    try:
        yield
    finally:
        if saved is None:
            del profiler._DEVICE_CLOCKS[backend]
        else:
            profiler._DEVICE_CLOCKS[backend] = saved


def variants(step: mlp_impls.Step, device: str) -> dict[str, Callable[[int], None]]:
    """name -> run(steps): one block of steps in that variant."""
    def plain(steps: int) -> None:
        for _ in range(steps):
            step.run()

    def profiled(steps: int) -> None:
        for _ in range(steps):
            with md.profile():
                step.run()

    def profiled_block(steps: int) -> None:
        with md.profile():
            plain(steps)

    def old_way(steps: int) -> None:
        with sync_each_op(step.sync):
            profiled(steps)

    chosen = {"plain": plain, "profiled": profiled, "profiled-block": profiled_block}
    if device == "cuda":
        chosen["sync-each-op"] = old_way
    return chosen


def timed_rounds(step: mlp_impls.Step, runs: dict[str, Callable[[int], None]], rounds: int,
                 steps: int) -> dict[str, list[float]]:
    """Seconds per step of every variant, round after round, the order rotating each round."""
    names = list(runs)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm up every path (events, pools, first calls)
        runs[name](3)
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            step.sync()
            start = time.perf_counter()
            runs[name](steps)
            step.sync()
            seconds[name].append((time.perf_counter() - start) / steps)
    return seconds


def overheads(seconds: dict[str, list[float]]) -> dict[str, float]:
    """Median over rounds of time(variant) / time(plain) - 1, per profiled variant."""
    return {name: statistics.median(v / p for v, p in zip(values, seconds["plain"])) - 1.0
            for name, values in seconds.items() if name != "plain"}


def profile_of(step: mlp_impls.Step, steps: int) -> md.tools.profiler.Profile:
    with md.profile() as prof:
        for _ in range(steps):
            step.run()
    return prof


def comparison(events: Any, old: Any) -> list[str]:
    """Per op: device ms (CUDA events) beside host ms, and the same op's time the old way (sync-each-op)."""
    old_rows = {(row["op"], row["phase"]): row["seconds"] for row in old.records}
    lines = [f"{'op':<18}{'phase':<10}{'calls':>7}{'device ms':>11}{'host ms':>10}{'sync-each-op ms':>17}"]
    for row in events.records:
        before = old_rows.get((row["op"], row["phase"]), float("nan"))
        lines.append(f"{row['op']:<18}{row['phase']:<10}{row['calls']:>7}{row['seconds'] * 1e3:>11.3f}"
                     f"{row['host_seconds'] * 1e3:>10.3f}{before * 1e3:>17.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="results/profiler", help="folder for the .json and .txt")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=50, help="steps per timed block")
    args = parser.parse_args()
    sizes, batch = SHAPES["small"]
    step = mlp_impls.build("minidl", sizes, batch, args.device)
    runs = variants(step, args.device)
    seconds = timed_rounds(step, runs, args.rounds, args.steps)
    overhead = overheads(seconds)
    events = profile_of(step, 20)
    old = None
    if args.device == "cuda":
        with sync_each_op(step.sync):
            old = profile_of(step, 20)

    info = environment(args.device)
    shape = "-".join(map(str, sizes)) + f"/{batch}"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [f"md.profile overhead, {shape} SGD step on {args.device}, {when}",
             f"machine: {info.get('gpu', info['cpu_model'])}, {info['cpus']} CPUs, Python {info['python']}, "
             f"NumPy {info['numpy']}" + (f", CuPy {info['cupy']}" if "cupy" in info else ""),
             f"median of {args.rounds} interleaved rounds of {args.steps} steps",
             f"  plain step: {statistics.median(seconds['plain']) * 1e3:.3f} ms"]
    lines += [f"  {name}: {statistics.median(seconds[name]) * 1e3:.3f} ms, overhead {value * 100:.1f}%"
              + ("  (goal on the GPU: < 20%)" if name == "profiled" else "") for name, value in overhead.items()]
    lines += ["", "20 steps under md.profile():", events.table()]
    if old is not None:
        lines += ["", "the same 20 steps per op: device ms (CUDA events), host ms, and the time the old way:"]
        lines += comparison(events, old)
    text = "\n".join(lines)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "profiler_overhead.txt").write_text(text + "\n")
    result = {"environment": info, "shape": shape, "rounds": args.rounds, "steps_per_block": args.steps,
              "seconds_per_step": seconds, "overhead": overhead, "clocks": events.clocks,
              "records": events.records, "wall_seconds": events.wall_seconds,
              "sync_each_op_records": old.records if old else None}
    (out / "profiler_overhead.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
