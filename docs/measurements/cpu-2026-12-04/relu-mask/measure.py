"""ReLU's backward on NumPy: a float mask and a multiply, against a bool mask and where() (minidl/ops/piecewise.py cites it).

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/relu-mask/measure.py OUT

grad (512 x 1024, float32) times the mask of a random input's positive entries, two ways:
``grad * float_mask`` and ``numpy.where(bool_mask, grad, 0)``; 7 interleaved rounds of 200 calls,
process CPU time, the median per call.  Writes OUT/relu_mask.txt with the machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    from mlp_step import environment, machine_line

    out = Path(sys.argv[1])
    machine = environment("cpu")  # (its load average: before the rounds)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((512, 1024), dtype=np.float32)
    grad = rng.standard_normal((512, 1024), dtype=np.float32)
    bool_mask, float_mask = a > 0, (a > 0).astype(np.float32)
    zero = np.float32(0)
    ways = {"grad * float_mask": lambda: grad * float_mask, "where(bool_mask, grad, 0)": lambda: np.where(bool_mask, grad, zero)}
    assert np.array_equal(ways["grad * float_mask"](), ways["where(bool_mask, grad, 0)"]())
    times = {name: [] for name in ways}
    for round_ in range(7):
        for name in (list(ways) if round_ % 2 == 0 else list(ways)[::-1]):
            start = time.process_time()
            for _ in range(200):
                ways[name]()
            times[name].append((time.process_time() - start) / 200 * 1e6)
    lines = [f"ReLU backward, grad (512 x 1024, float32) masked two ways; median of 7 interleaved rounds of 200 calls, "
             f"process CPU time; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", machine_line(machine), ""]
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["grad * float_mask"]
    lines += [f"{name:28s} {us:8.1f} us per call   {us / base:5.2f}x the multiply" for name, us in medians.items()]
    out.mkdir(parents=True, exist_ok=True)
    (out / "relu_mask.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
