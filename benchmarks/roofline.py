"""Measure the roofline's ceilings on this machine: peak GEMM FLOP/s per precision, and memory bandwidth.

    python benchmarks/roofline.py cpu docs/measurements/cpu-2026-12-03/roofline.json
    python benchmarks/roofline.py cuda OUT/roofline.json      # on a machine with an NVIDIA GPU and CuPy

Ceilings measured, not quoted from data sheets:

- **CPU**: NumPy's BLAS GEMM in float64 and float32 (float16 too: NumPy has no
  BLAS for it, which is the lesson), with one thread and with all of them, each
  thread count in its own process (BLAS reads its thread count at start); memory
  bandwidth from a STREAM-like triad ``a = b + s * c`` on float64 arrays far
  larger than the caches (a Numba loop over all threads; STREAM's counting:
  24 bytes per element), and a plain copy (NumPy, one thread).
- **GPU**: cuBLAS GEMM in FP32 (TF32 off), TF32 and FP16 inputs (float32
  sums), switched by ``md.set_matmul_precision``, at n = 1024 to 8192; a copy
  and a triad kernel for the bandwidth.

Both also time the forward GEMM of each layer of the MLP 784-1024-1024-10 at
batch 512 and batch 1, and a ReLU, so those can be placed on the roofline by
their arithmetic intensity (FLOPs per byte of the operands and result, each
read or written once). The JSON keeps every timing and a ``machine_line``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import numpy as np  # noqa: E402

from gemm_ladder import cpu_info, cpu_ticks, gpu_info, others_busy_percent  # noqa: E402

GEMM_SIZES = {"cpu": {"float64": [512, 1024, 2048], "float32": [512, 1024, 2048], "float16": [128, 256]},
              "cuda": [1024, 2048, 4096, 8192]}
TRIAD_ELEMENTS = {"cpu": 2**24, "cuda": 2**28}       # float64 on the CPU (128 MiB per array), float32 on the GPU
MLP = (784, 1024, 1024, 10)
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def best_seconds(run, budget: float = 0.5, least: int = 3) -> float:
    """The best wall time of ``run()`` over repeats (at least ``least``, until ``budget`` seconds have passed)."""
    run()  # warm-up: page faults, thread wake-up, compilation
    best, start, count = float("inf"), time.perf_counter(), 0
    while count < least or time.perf_counter() - start < budget:
        tick = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - tick)
        count += 1
    return best


def gemm_intensity(m: int, k: int, n: int, itemsize: int) -> float:
    """FLOPs per byte of ``(m x k) @ (k x n)`` when A, B and C each cross memory once."""
    return 2 * m * k * n / (itemsize * (m * k + k * n + m * n))


def mlp_layers(batch: int) -> list[tuple[str, int, int, int]]:
    return [(f"layer {i + 1} ({fan_in}->{fan_out}), batch {batch}", batch, fan_in, fan_out)
            for i, (fan_in, fan_out) in enumerate(zip(MLP[:-1], MLP[1:]))]


# ---- CPU: one process per thread count --------------------------------------------------------------------
def cpu_worker(threads: int) -> dict:
    rng = np.random.default_rng(0)
    gemm = []
    for dtype, sizes in GEMM_SIZES["cpu"].items():
        for n in sizes:
            a, b = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
            out = np.empty((n, n), dtype)
            seconds = best_seconds(lambda: np.matmul(a, b, out=out))
            gemm.append({"dtype": dtype, "n": n, "seconds": seconds, "gflops": round(2 * n**3 / seconds / 1e9, 2),
                         "intensity": round(gemm_intensity(n, n, n, np.dtype(dtype).itemsize), 1)})
    result = {"threads": threads, "gemm": gemm, "bandwidth": cpu_bandwidth(threads)}
    if threads > 1:
        result["layers"] = cpu_layers(rng)
    return result


def cpu_bandwidth(threads: int) -> list[dict]:
    size = TRIAD_ELEMENTS["cpu"]
    a, b, c = (np.full(size, value) for value in (0.0, 1.0, 2.0))
    rows = []
    copy_seconds = best_seconds(lambda: np.copyto(a, b), budget=1.0)
    rows.append({"kernel": "copy (NumPy, 1 thread)", "bytes": 16 * size, "seconds": copy_seconds,
                 "gbs": round(16 * size / copy_seconds / 1e9, 2)})
    try:
        import numba
    except ImportError:
        return rows

    @numba.njit(parallel=threads > 1, fastmath=True, cache=False)
    def triad(a, b, c, scalar):
        for i in numba.prange(a.shape[0]):
            a[i] = b[i] + scalar * c[i]

    seconds = best_seconds(lambda: triad(a, b, c, 3.0), budget=1.0)
    rows.append({"kernel": f"triad (Numba, {threads} thread{'s' * (threads > 1)})", "bytes": 24 * size,
                 "seconds": seconds, "gbs": round(24 * size / seconds / 1e9, 2)})
    return rows


def cpu_layers(rng) -> list[dict]:
    rows = []
    for batch in (512, 1):
        for name, m, k, n in mlp_layers(batch):
            x, w = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((n, k)).astype(np.float32)
            seconds = best_seconds(lambda: x @ w.T, budget=0.3)
            rows.append({"op": name, "flops": 2 * m * k * n, "seconds": seconds,
                         "gflops": round(2 * m * k * n / seconds / 1e9, 3),
                         "intensity": round(gemm_intensity(m, k, n, 4), 3)})
    h = rng.standard_normal((512, 1024)).astype(np.float32)
    seconds = best_seconds(lambda: np.maximum(h, 0), budget=0.3)
    rows.append({"op": "ReLU (512 x 1024)", "flops": h.size, "seconds": seconds,
                 "gflops": round(h.size / seconds / 1e9, 3), "intensity": round(1 / 8, 3)})
    return rows


def measure_cpu() -> dict:
    busy_since, own_since = cpu_ticks(), time.process_time()
    runs = []
    for threads in sorted({1, os.cpu_count() or 1}):
        env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
        done = subprocess.run([sys.executable, __file__, "--worker", str(threads)], env=env, check=True,
                              capture_output=True, text=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    info = cpu_info()
    info["others_busy_percent"] = others_busy_percent(busy_since, own_since)
    info.setdefault("blas", numpy_blas())
    return {"device": "cpu", "machine": info, "runs": runs,
            "machine_line": f"{info['cpu']}, {info['cores']} cores; NumPy {info['numpy']}, "
                            f"BLAS {info['blas']}; numba "
                            f"{info.get('numba')}; other programs used {info['others_busy_percent']}% of the CPU "
                            "time during the run"}


def numpy_blas() -> str:
    """The BLAS NumPy was built with, from its own configuration (when threadpoolctl is not installed)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']} ({blas.get('openblas configuration', 'no configuration')})"
    except (KeyError, TypeError, ValueError):
        return "unknown"


# ---- GPU ------------------------------------------------------------------------------------------------
def measure_cuda() -> dict:
    import cupy
    from cupy._core import _routines_linalg as linalg

    import minidl as md
    from gemm_ladder import CudaTarget

    target = CudaTarget()
    rng = np.random.default_rng(0)
    settings = [("FP32 (TF32 off)", "float32", "highest"), ("TF32", "float32", "high"),
                ("FP16 in, FP32 sums", "float16", "highest")]
    gemm, layers = [], []
    for label, dtype, precision in settings:
        md.set_matmul_precision(precision)
        compute_type = linalg.compute_type_to_str(linalg.get_compute_type(np.dtype(dtype)))
        for n in GEMM_SIZES["cuda"]:
            a, b = (cupy.asarray(rng.standard_normal((n, n)), dtype=dtype) for _ in range(2))
            out = cupy.empty((n, n), dtype)
            seconds = target.seconds(lambda: cupy.matmul(a, b, out=out))
            gemm.append({"precision": label, "dtype": dtype, "matmul_precision": precision,
                         "compute_type": compute_type, "n": n, "seconds": seconds,
                         "gflops": round(2 * n**3 / seconds / 1e9, 1),
                         "intensity": round(gemm_intensity(n, n, n, np.dtype(dtype).itemsize), 1)})
        for batch in (4096, 512, 1):
            for name, m, k, n in mlp_layers(batch):
                x = cupy.asarray(rng.standard_normal((m, k)), dtype=dtype)
                w = cupy.asarray(rng.standard_normal((n, k)), dtype=dtype)
                seconds = target.seconds(lambda: x @ w.T)
                layers.append({"op": f"{name}, {label}", "flops": 2 * m * k * n, "seconds": seconds,
                               "gflops": round(2 * m * k * n / seconds / 1e9, 2),
                               "intensity": round(gemm_intensity(m, k, n, np.dtype(dtype).itemsize), 3)})
    md.set_matmul_precision("highest")
    size = TRIAD_ELEMENTS["cuda"]
    src, dst, other = (cupy.full(size, value, dtype=cupy.float32) for value in (1.0, 0.0, 2.0))
    triad = cupy.ElementwiseKernel("T b, T c, T s", "T a", "a = b + s * c", "minidl_triad")
    copy_seconds = target.seconds(lambda: cupy.copyto(dst, src))
    triad_seconds = target.seconds(lambda: triad(src, other, cupy.float32(3.0), dst))
    bandwidth = [{"kernel": "copy", "bytes": 8 * size, "seconds": copy_seconds,
                  "gbs": round(8 * size / copy_seconds / 1e9, 1)},
                 {"kernel": "triad", "bytes": 12 * size, "seconds": triad_seconds,
                  "gbs": round(12 * size / triad_seconds / 1e9, 1)}]
    info = gpu_info(cupy)
    return {"device": "cuda", "machine": info, "runs": [{"gemm": gemm, "bandwidth": bandwidth, "layers": layers}],
            "machine_line": f"{info['gpu']}; CuPy {info['cupy']}, NumPy {info['numpy']}; CUDA events, "
                            "mean over repeated launches"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("device", nargs="?", choices=("cpu", "cuda"))
    parser.add_argument("out", nargs="?", type=Path, help="the JSON file to write")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(cpu_worker(args.worker)))
        return
    if args.device is None or args.out is None:
        parser.error("give the device (cpu or cuda) and the JSON file to write")
    result = measure_cpu() if args.device == "cpu" else measure_cuda()
    result["measured"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for run in result["runs"]:
        threads = f"{run['threads']} thread(s): " if "threads" in run else ""
        for row in run["gemm"]:
            print(f"{threads}GEMM {row.get('precision', row['dtype'])} n={row['n']}: {row['gflops']} GFLOP/s")
        for row in run["bandwidth"]:
            print(f"{threads}{row['kernel']}: {row['gbs']} GB/s")
    print(result["machine_line"])
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
