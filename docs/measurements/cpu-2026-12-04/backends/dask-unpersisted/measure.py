"""Dask step times with and without the optimizer's once-per-step persist (Optimizer._materialise).

The minidl-nn@dask step of benchmarks/mlp_impls_backends.py (nn.Sequential 784-128-128-10, batch 64,
SGD), 80 steps each way; wall time of each step including loss.item(). Run from the repo root:
    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/backends/dask-unpersisted/measure.py
"""
import sys, time, platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[5]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]
import mlp_impls_backends  # noqa: E402
import minidl.optim.optimizer as optimizer  # noqa: E402

STEPS = 80
keep = optimizer.Optimizer._materialise
for label, materialise in (("persisted once per step (minidl's default)", keep),
                           ("never persisted (_materialise disabled)", lambda self: None)):
    optimizer.Optimizer._materialise = materialise
    step = mlp_impls_backends.build("minidl-nn@dask", (784, 128, 128, 10), 64, "cpu")
    times = []
    for index in range(STEPS):
        start = time.perf_counter()
        step.loss_of(step.run())
        times.append(time.perf_counter() - start)
    shown = ", ".join(f"step {i + 1}: {times[i] * 1e3:.0f} ms" for i in (0, 9, 19, 39, 59, 79))
    print(f"{label}: {shown}", flush=True)
import dask, numpy  # noqa: E402
print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
      f"NumPy {numpy.__version__}, dask {dask.__version__}, one BLAS thread; 2-vCPU AMD EPYC VM, shared and loaded")
