"""The MLP step on torch tensors with ReLU's mask each way: the torch record's ``float_masks`` on and off.

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/relu-torch/step_ab.py OUT

minidl's functional SGD step (``benchmarks/mlp_impls.py``, ``minidl-torch``) at 784-128-128-10, batch 64, on
torch CPU tensors, one thread. One process: the record is swapped between blocks (``register`` replaces it, and
ReLU reads it at every call), 9 interleaved rounds of 400 steps, process CPU time, medians. Writes
OUT/step_ab.txt with the machine.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    import torch

    import mlp_impls
    from minidl.backend import library, register
    from mlp_step import environment

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    step = mlp_impls.build("minidl-torch", [784, 128, 128, 10], 64, "cpu").run
    records = {"float arithmetic": library("torch"),
               "comparison": dataclasses.replace(library("torch"), float_masks=False)}
    times = {name: [] for name in records}
    try:
        for round_ in range(9):
            for name in (list(records) if round_ % 2 == 0 else list(records)[::-1]):
                register(records[name])
                for _ in range(20):
                    step()
                start = time.process_time()
                for _ in range(400):
                    step()
                times[name].append((time.process_time() - start) / 400 * 1e6)
    finally:
        register(records["float arithmetic"])
    medians = {name: statistics.median(t) for name, t in times.items()}
    machine = environment("cpu")
    lines = [f"minidl's MLP step on torch tensors (784-128-128-10, batch 64), ReLU's mask each way; median of 9 "
             f"interleaved rounds of 400 steps, process CPU time; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             f"machine: {machine['cpu_model']}, {machine['cpus']} cores, Python {machine['python']}, torch "
             f"{torch.__version__} (one thread), load average {machine['load_average_before'][0]:.2f} before, "
             f"{os.getloadavg()[0]:.2f} after", ""]
    lines += [f"  {name:18s} {us:7.1f} us per step" for name, us in medians.items()]
    difference = medians["comparison"] - medians["float arithmetic"]
    lines.append(f"  the comparison way costs {difference:.1f} us more per step (two ReLUs)")
    out.mkdir(parents=True, exist_ok=True)
    (out / "step_ab.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
