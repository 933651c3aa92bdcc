"""The MLP step on torch tensors with ReLU's mask each way: the torch record's ``float_masks`` on and off.

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/relu-torch/step_ab.py OUT

minidl's functional SGD step (``benchmarks/mlp_impls.py``, ``minidl-torch``) at 784-128-128-10, batch 64, on
torch CPU tensors, one thread. One process: the record is swapped between blocks (``register`` replaces it, and
ReLU reads it at every call), 9 interleaved rounds of 400 steps, process CPU time, medians. Writes
OUT/step_ab.txt with the machine.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    import torch

    import mlp_impls
    from measuring import interleaved_medians, write_report
    from minidl.backend import library, register
    from mlp_step import environment

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    machine = environment("cpu")  # (its load average: before the rounds)
    step = mlp_impls.build("minidl-torch", [784, 128, 128, 10], 64, "cpu").run
    records = {"float arithmetic": library("torch"),
               "comparison": dataclasses.replace(library("torch"), float_masks=False)}
    try:
        medians = interleaved_medians({name: step for name in records}, rounds=9, calls=400, warmup=20,
                                      before_block=lambda name: register(records[name]))
    finally:
        register(records["float arithmetic"])
    lines = [f"  {name:18s} {us:7.1f} us per step" for name, us in medians.items()]
    lines.append(f"  the comparison way costs {medians['comparison'] - medians['float arithmetic']:.1f} us more per "
                 "step (two ReLUs)")
    write_report(out, "step_ab.txt", "minidl's MLP step on torch tensors (784-128-128-10, batch 64), ReLU's mask each "
                 "way; median of 9 interleaved rounds of 400 steps, process CPU time", machine, lines,
                 torch=f"{torch.__version__} (one thread)")


if __name__ == "__main__":
    main()
