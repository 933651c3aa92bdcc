"""GFLOP/s of one 1024 x 1024 layer over batch size on the CPU: the roofline of chapter 4, measured.

    python benchmarks/arithmetic_intensity.py docs/measurements/cpu-2026-12-03      # one BLAS thread
    python benchmarks/arithmetic_intensity.py --threads 0 OUT                       # BLAS's own choice

Times ``x @ w.T`` for x of (B x 1024) and w of (1024 x 1024), float32, B = 1, 2, ..., 1024.
Each batch size gets ``--repeats`` timed blocks of at least ``--min-seconds``; the best block
is kept (other work on a shared machine only adds time), and the sizes are swept
``--sweeps`` times, keeping the best per size, so that a busy moment hits one sweep, not one
size.  One BLAS thread by default: the figure is then one core's, and does not depend on how
many other jobs share the machine's cores.

Writes ``OUT/arithmetic_intensity.json`` (every number, the machine) and ``OUT/arithmetic_intensity.txt``.
The FLOP/byte column is arithmetic (2Bnk FLOPs over 4(Bk + kn + Bn) bytes), not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def intensity(batch: int, n: int, k: int) -> float:
    """FLOPs per byte of (batch x k) @ (k x n) in float32, each operand and the result moved once."""
    return 2 * batch * n * k / (4 * (batch * k + k * n + batch * n))


def best_seconds(np, batch: int, n: int, k: int, repeats: int, min_seconds: float) -> float:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, k), dtype=np.float32)
    w = rng.standard_normal((n, k), dtype=np.float32)
    x @ w.T  # warm up
    best = float("inf")
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < min_seconds:
            x @ w.T
            calls += 1
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def numpy_blas(np) -> str:
    """The BLAS NumPy was built with, from its own configuration (works without threadpoolctl)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no dict mode
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0: leave the environment alone)")
    parser.add_argument("--size", type=int, default=1024, help="n = k of the layer")
    parser.add_argument("--max-batch", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sweeps", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=0.05)
    args = parser.parse_args()
    if args.threads:
        for variable in THREAD_VARIABLES:  # before NumPy loads its BLAS
            os.environ[variable] = str(args.threads)
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from mlp_step import environment  # the machine line every benchmark here writes

    n = k = args.size
    batches = [2**p for p in range(args.max_batch.bit_length()) if 2**p <= args.max_batch]
    seconds = [float("inf")] * len(batches)
    for _ in range(args.sweeps):
        for i, batch in enumerate(batches):
            seconds[i] = min(seconds[i], best_seconds(np, batch, n, k, args.repeats, args.min_seconds))
    result = {
        "what": f"(B x {k}) @ ({k} x {n}), float32, NumPy matmul",
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "method": f"best of {args.repeats} blocks of >= {args.min_seconds} s, best over {args.sweeps} sweeps",
        "blas_threads": args.threads or "environment's",
        "machine": {**environment("cpu"), "numpy_blas": numpy_blas(np)},
        "n": n, "k": k, "batch": batches, "seconds": seconds,
        "flop_per_byte": [intensity(b, n, k) for b in batches],
        "gflops": [2 * b * n * k / s / 1e9 for b, s in zip(batches, seconds)],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "arithmetic_intensity.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [f"{result['what']}, {result['method']}, BLAS threads: {result['blas_threads']}, {result['measured']}",
             f"machine: {result['machine']['cpu_model']}, {result['machine']['cpus']} cores, Python "
             f"{result['machine']['python']}, NumPy {result['machine']['numpy']} ({result['machine']['numpy_blas']}), "
             f"BLAS env {result['machine']['blas_env']}, load average {result['machine']['load_average_before']}", " batch   FLOP/byte   GFLOP/s"]
    lines += [f"{b:6d} {i:11.1f} {g:9.1f}" for b, i, g in zip(batches, result["flop_per_byte"], result["gflops"])]
    (args.out / "arithmetic_intensity.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
