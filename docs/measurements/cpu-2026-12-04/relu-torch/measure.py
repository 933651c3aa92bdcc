"""ReLU's forward (output and mask) on torch CPU tensors and on NumPy, by comparison or by float arithmetic.

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/relu-torch/measure.py OUT

The Array API calls minidl can spell ReLU's forward with (through array-api-compat, as minidl calls them),
each alone and the two ways together (minidl/ops/piecewise.py and the ``float_masks`` field of a library's
record cite it):

- by comparison: ``mask = astype(a > 0, a.dtype)``, ``out = maximum(a, 0)``;
- by float arithmetic: ``mask = ceil(clip(a, 0, 1))``, ``out = clip(a, min=0)``;

and a float multiply ``a * a`` as the unit. float32, at (64, 128) (the MLP benchmark's hidden layer) and
(512, 1024); torch and NumPy on one thread; 7 interleaved rounds, process CPU time, the median per call.
Writes OUT/relu_torch.txt with the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _ways(xp, a):
    return {
        "a * a (a float pass)": lambda: a * a,
        "a > 0": lambda: a > 0,
        "astype(a > 0, a.dtype)": lambda: xp.astype(a > 0, a.dtype),
        "maximum(a, 0)": lambda: xp.maximum(a, 0),
        "clip(a, min=0)": lambda: xp.clip(a, min=0),
        "ceil(clip(a, 0, 1))": lambda: xp.ceil(xp.clip(a, min=0, max=1)),
        "by comparison (mask and out)": lambda: (xp.astype(a > 0, a.dtype), xp.maximum(a, 0)),
        "by float arithmetic (mask and out)": lambda: (xp.ceil(xp.clip(a, min=0, max=1)), xp.clip(a, min=0)),
    }


def main() -> None:
    import torch
    from array_api_compat import array_namespace
    from measuring import interleaved_medians, write_report
    from mlp_step import environment

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    machine = environment("cpu")  # (its load average: before the rounds)
    rng = np.random.default_rng(0)
    lines = []
    for shape, calls in (((64, 128), 2000), ((512, 1024), 50)):
        host = rng.standard_normal(shape, dtype=np.float32)
        for library, a in (("torch", torch.from_numpy(host.copy())), ("numpy", host)):
            ways = _ways(array_namespace(a), a)
            by_comparison = ways["by comparison (mask and out)"]()
            by_arithmetic = ways["by float arithmetic (mask and out)"]()
            assert all(np.array_equal(np.asarray(p), np.asarray(q)) for p, q in zip(by_comparison, by_arithmetic))
            medians = interleaved_medians(ways, rounds=7, calls=calls)
            unit = medians["a * a (a float pass)"]
            lines.append(f"{library} {shape[0]} x {shape[1]} float32 ({calls} calls a round)")
            lines += [f"  {name:36s} {us:9.2f} us   {us / unit:5.2f}x a float pass" for name, us in medians.items()]
            lines.append("")
    write_report(out, "relu_torch.txt", "ReLU's forward two ways, through array-api-compat; median of 7 interleaved "
                 "rounds, process CPU time", machine, lines, torch=f"{torch.__version__} (one thread)")


if __name__ == "__main__":
    main()
