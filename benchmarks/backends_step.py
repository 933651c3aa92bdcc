"""The same minidl training step on every array library installed: step times side by side, and flat over 1,000 steps.

One script, ``nn.Sequential`` + ``optim.SGD`` on a ReLU MLP
(``mlp_impls_backends.py``, ``minidl-nn@<backend>``), run unchanged on NumPy,
array-api-strict, PyTorch, JAX and Dask; only ``md.set_backend`` differs.
Each backend lives in its own process (``mlp_step.py``'s workers), asked in
turn, round after round, to time a block of steps, so machine drift hits
them alike. Then each runs 1,000 more steps in blocks of 100: a lazy library
whose graph grew with every step would show it there (Dask without its
once-per-step ``persist`` went from 44 ms to 997 ms by step 80: ``dask-unpersisted/`` in
docs/measurements/cpu-2026-12-04/backends).

    python benchmarks/backends_step.py results/backends            # 784-128-128-10, batch 64
    python benchmarks/backends_step.py --quick results/backends    # 3 rounds, 200 steps for the flat check

Results: ``OUT/backends_step.json`` and ``OUT/backends_step.txt``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from mlp_step import SHAPES, THREAD_VARIABLES, Worker, environment, save  # noqa: E402

BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "dask")
GPU_BACKENDS = ("cupy", "torch", "jax")  # --device cuda: the libraries with a GPU of their own
MODULES = {"numpy": "numpy", "array_api_strict": "array_api_strict", "torch": "torch", "jax": "jax",
           "dask": "dask", "ndonnx": "ndonnx", "cupy": "cupy"}


def measure(backends: list[str], args) -> dict:
    workers, skipped = [], {}
    for name in backends:
        worker = Worker(f"minidl-nn@{name}", args.device, args.shape)
        if "error" in worker.ready:
            skipped[name] = worker.ready["error"]
            worker.close()
        else:
            workers.append((name, worker))
    if not workers:
        raise SystemExit("no backend could run the step: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    seconds: dict[str, list[float]] = {name: [] for name, _ in workers}
    steps = {name: max(3, round(args.block_seconds / max(w.ready["estimate"], 1e-7))) for name, w in workers}
    for round_index in range(args.rounds):
        turn = round_index % len(workers)
        for name, worker in workers[turn:] + workers[:turn]:
            time.sleep(args.pause)
            seconds[name].append(worker.ask(cmd="time", steps=steps[name])["wall"])
    flat = {}
    for name, worker in workers:  # the long run: blocks of `block` steps, one after the other
        block = args.flat_steps // 10
        flat[name] = [worker.ask(cmd="time", steps=block)["wall"] for _ in range(10)]
        worker.close()
    return {"shape": args.shape, "device": args.device, "sizes": SHAPES[args.shape][0], "batch": SHAPES[args.shape][1],
            "skipped": skipped, "flat_steps": args.flat_steps, "backends": {
                name: {"seconds_per_step": seconds[name], "median_ms": statistics.median(seconds[name]) * 1e3,
                       "first_loss": worker.ready["first_loss"], "steps_per_block": steps[name],
                       "flat_block_ms": [t * 1e3 for t in flat[name]]} for name, worker in workers}}


def report(results: dict) -> str:
    env = results["environment"]
    lines = [f"minidl's MLP step on each array library: {env['cpu_model']}, {env['cpus']} CPUs, Python {env['python']},"
             f" NumPy {env['numpy']}; BLAS env {env['blas_env'] or 'none set'}; load average "
             f"{[round(v, 2) for v in env['load_average_before']]}",
             "", f"{'-'.join(map(str, results['sizes']))}, batch {results['batch']}, on {results.get('device', 'cpu')} "
             f"(median of {len(next(iter(results['backends'].values()))['seconds_per_step'])} interleaved rounds, "
             "wall time); then ms/step over the first and the second half of "
             f"{results['flat_steps']} more steps (median of 5 blocks each), and every block",
             f"  {'backend':<18}{'ms/step':>9}{'first loss':>12}{'1st half':>10}{'2nd half':>10}  blocks"]
    for name, entry in results["backends"].items():
        blocks = entry["flat_block_ms"]
        lines.append(f"  {name:<18}{entry['median_ms']:>9.3f}{entry['first_loss']:>12.6f}"
                     f"{statistics.median(blocks[:5]):>10.3f}{statistics.median(blocks[5:]):>10.3f}  "
                     + " ".join(f"{b:.1f}" for b in blocks))
    lines += [f"  {name}: skipped ({reason})" for name, reason in results["skipped"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="results/backends")
    parser.add_argument("--backends", help="comma-separated (default: those of " + ", ".join(BACKENDS)
                        + " that are installed)")
    parser.add_argument("--shape", default="small", choices=("small", "large"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="cuda: the GPU of each library that has one (default backends: "
                        + ", ".join(GPU_BACKENDS) + ", those installed)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--block-seconds", type=float)
    parser.add_argument("--flat-steps", type=int, help="steps of the flatness run (default 1000; --quick 200)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads of every worker")
    parser.add_argument("--pause", type=float, default=0.3)
    args = parser.parse_args()
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(args.threads)
    os.environ.setdefault("JAX_PLATFORMS", "cpu" if args.device == "cpu" else "cuda")
    if args.device == "cuda":  # like the others: true FP32 (JAX's GPU default is TF32), memory on demand
        os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    args.rounds = args.rounds or (3 if args.quick else 7)
    args.block_seconds = args.block_seconds or (0.1 if args.quick else 0.5)
    args.flat_steps = args.flat_steps or (200 if args.quick else 1000)
    backends = args.backends.split(",") if args.backends else [
        name for name in (BACKENDS if args.device == "cpu" else GPU_BACKENDS)
        if importlib.util.find_spec(MODULES[name]) is not None]
    environment_line = environment(args.device)
    results = measure(backends, args)
    results["environment"] = environment_line
    save(args.out, "backends_step", results, report(results))


if __name__ == "__main__":
    main()
