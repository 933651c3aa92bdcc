"""ReLU's backward on NumPy: a float mask and a multiply, against a bool mask and where() (minidl/ops/piecewise.py cites it).

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/relu-mask/measure.py OUT

grad (512 x 1024, float32) times the mask of a random input's positive entries, two ways:
``grad * float_mask`` and ``numpy.where(bool_mask, grad, 0)``; 7 interleaved rounds of 200 calls,
process CPU time, the median per call.  Writes OUT/relu_mask.txt with the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    from measuring import interleaved_medians, write_report
    from mlp_step import environment

    out = Path(sys.argv[1])
    machine = environment("cpu")  # (its load average: before the rounds)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((512, 1024), dtype=np.float32)
    grad = rng.standard_normal((512, 1024), dtype=np.float32)
    bool_mask, float_mask = a > 0, (a > 0).astype(np.float32)
    zero = np.float32(0)
    ways = {"grad * float_mask": lambda: grad * float_mask,
            "where(bool_mask, grad, 0)": lambda: np.where(bool_mask, grad, zero)}
    assert np.array_equal(ways["grad * float_mask"](), ways["where(bool_mask, grad, 0)"]())
    medians = interleaved_medians(ways, rounds=7, calls=200)
    base = medians["grad * float_mask"]
    lines = [f"{name:28s} {us:8.1f} us per call   {us / base:5.2f}x the multiply" for name, us in medians.items()]
    write_report(out, "relu_mask.txt", "ReLU backward, grad (512 x 1024, float32) masked two ways; median of 7 "
                 "interleaved rounds of 200 calls, process CPU time", machine, lines)

if __name__ == "__main__":
    main()
