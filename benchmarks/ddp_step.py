"""Data-parallel step time: 1 process against 2, and what overlapping the all-reduce with backward buys.

The driver starts ``mpirun -n P`` on this file for each P; in each job every
rank times, round after round (the modes interleaved, so machine drift hits
them alike), blocks of training steps of one MLP on its share of a fixed
global batch, in three modes:

- ``local``: ``no_sync()``, no communication at all: the compute-only floor;
- ``end``: DDP with ``overlap=False``: every bucket's all-reduce starts after backward;
- ``overlap``: DDP as it comes: buckets start during backward (``--bucket-mb`` each).

It also times one all-reduce of the whole gradient alone, and reports the
bandwidth it implies under the ring model (each rank sends and receives
2 (P-1)/P times the gradient bytes). Every BLAS pool is held at ``--threads``.

    python benchmarks/ddp_step.py OUT                    # 784-1024-1024-10, global batch 256
    python benchmarks/ddp_step.py --quick OUT            # a smoke run (CI)

Results: ``OUT/ddp_step.json`` (every round, the environment) and ``OUT/ddp_step.txt`` (the table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = ("local", "end", "overlap")
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def worker(args: argparse.Namespace) -> None:
    """One rank of a timing job; rank 0 prints one JSON line with the medians."""
    sys.path.insert(0, str(HERE.parent))
    import numpy

    import minidl as md
    import minidl.distributed as dist
    import minidl.nn as nn
    import minidl.nn.functional as F
    import minidl.optim as optim

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    sizes = [int(s) for s in args.sizes.split(",")]
    share = args.batch // world
    rng = numpy.random.default_rng(rank)
    x = md.tensor(rng.standard_normal((share, sizes[0])).astype(numpy.float32))
    y = md.tensor(rng.integers(0, sizes[-1], share))

    def mlp() -> nn.Module:
        md.manual_seed(0)
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1])

    # One model per mode (same weights), so each DDP wrapper owns its parameters' hooks.
    runners = {"local": mlp(), "end": nn.parallel.DistributedDataParallel(mlp(), args.bucket_mb, overlap=False),
               "overlap": nn.parallel.DistributedDataParallel(mlp(), args.bucket_mb, overlap=True)}
    optimizers = {mode: optim.SGD(runner.parameters(), lr=1e-4) for mode, runner in runners.items()}

    def block(mode: str) -> tuple[float, float]:
        runner, optimizer = runners[mode], optimizers[mode]
        dist.barrier()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            optimizer.zero_grad()
            F.cross_entropy(runner(x), y).backward()
            optimizer.step()
        dist.barrier()
        return (time.perf_counter() - wall) / args.steps, (time.process_time() - cpu) / args.steps

    for mode in MODES:  # warm-up
        block(mode)
    rounds: dict[str, list] = {mode: [] for mode in MODES}
    for index in range(args.rounds):
        order = MODES if index % 2 == 0 else MODES[::-1]
        for mode in order:
            rounds[mode].append(block(mode))
    gradient = md.zeros((sum(p.size for p in runners["local"].parameters()),))
    reduce_times = []
    for _ in range(args.rounds * 3):
        dist.barrier()
        started = time.perf_counter()
        dist.all_reduce(gradient, op="avg")
        reduce_times.append(time.perf_counter() - started)
    if rank == 0:
        print(json.dumps({
            "processes": world, "sizes": sizes, "global_batch": args.batch, "per_rank_batch": share,
            "parameters": gradient.size, "gradient_bytes": 4 * gradient.size,
            "buckets": len(runners["overlap"]._buckets), "bucket_mb": args.bucket_mb,
            "step_wall_s": {m: statistics.median(r[0] for r in rounds[m]) for m in MODES},
            "step_cpu_s": {m: statistics.median(r[1] for r in rounds[m]) for m in MODES},
            "all_reduce_s": statistics.median(reduce_times[args.rounds:]),
            "rounds": rounds,
        }))
    dist.destroy_process_group()


def drive(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # A rank that waits yields its core (mpi_yield_when_idle) instead of spinning: fairer when cores are shared.
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_mpi_yield_when_idle="1", **{name: str(args.threads) for name in THREAD_VARIABLES})
    flags = ["--sizes", args.sizes, "--batch", str(args.batch), "--steps", str(args.steps),
             "--rounds", str(args.rounds), "--bucket-mb", str(args.bucket_mb)]
    results = {"environment": {"python": platform.python_version(), "machine": platform.machine(),
                               "cpus": os.cpu_count(), "threads_per_process": args.threads,
                               "load_average_before": os.getloadavg()}, "runs": []}
    for processes in args.processes:
        command = ["mpirun", "-n", str(processes), "--oversubscribe", "--bind-to", "none", sys.executable,
                   __file__, "--worker", *flags]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        results["runs"].append(json.loads(done.stdout.strip().splitlines()[-1]))
    results["environment"]["load_average_after"] = os.getloadavg()
    (out / "ddp_step.json").write_text(json.dumps(results, indent=1))
    table = render(results)
    (out / "ddp_step.txt").write_text(table)
    print(table)


def render(results: dict) -> str:
    runs = results["runs"]
    first = runs[0]
    base = first["step_wall_s"]["local"]
    lines = [f"MLP {'-'.join(map(str, first['sizes']))}, float32, {first['parameters']:,} parameters "
             f"({first['gradient_bytes'] / 2**20:.1f} MiB of gradient), global batch {first['global_batch']}, "
             f"buckets of {first['bucket_mb']} MB, {results['environment']['threads_per_process']} BLAS thread(s) "
             f"per process; medians of {len(first['rounds']['local'])} rounds",
             f"load average before {results['environment']['load_average_before'][0]:.2f}, "
             f"after {results['environment']['load_average_after'][0]:.2f}", "",
             "| processes | batch per rank | local (no comm) ms | end ms | overlap ms | comm share (end) "
             "| overlap hides | speed-up vs 1 process (overlap) | all-reduce alone ms | bus bandwidth GB/s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for run in runs:
        wall, p = run["step_wall_s"], run["processes"]
        comm = wall["end"] - wall["local"]
        share = f"{100 * comm / wall['end']:.0f}%" if p > 1 else "-"
        hidden = f"{100 * (wall['end'] - wall['overlap']) / comm:.0f}%" if p > 1 and comm > 0 else "-"
        moved = 2 * (p - 1) / p * run["gradient_bytes"]
        bandwidth = f"{moved / run['all_reduce_s'] / 1e9:.2f}" if p > 1 else "-"
        lines.append(f"| {p} | {run['per_rank_batch']} | {1e3 * wall['local']:.1f} | {1e3 * wall['end']:.1f} | "
                     f"{1e3 * wall['overlap']:.1f} | {share} | "
                     f"{hidden} | {base / wall['overlap']:.2f}x | {1e3 * run['all_reduce_s']:.2f} | "
                     f"{bandwidth} |")
    lines += ["", "The same steps in process CPU time (rank 0), which other jobs on the machine do not inflate "
              "(a rank waiting in MPI still spends some):", "",
              "| processes | local ms CPU | end ms CPU | overlap ms CPU |", "| --- | --- | --- | --- |"]
    for run in runs:
        cpu = run["step_cpu_s"]
        lines.append(f"| {run['processes']} | {1e3 * cpu['local']:.1f} | {1e3 * cpu['end']:.1f} | "
                     f"{1e3 * cpu['overlap']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", help="folder for ddp_step.json and ddp_step.txt")
    p.add_argument("--quick", action="store_true", help="a small model and few rounds (CI smoke run)")
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    p.add_argument("--sizes", default="784,1024,1024,10")
    p.add_argument("--batch", type=int, default=256, help="global batch, split among the processes")
    p.add_argument("--steps", type=int, default=5, help="steps per timed block")
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--bucket-mb", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads per process (default 1)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.sizes, args.batch, args.steps, args.rounds = "784,256,256,10", 64, 2, 3
    if args.worker:
        worker(args)
    elif args.out is None:
        p.error("give an output folder")
    else:
        drive(args)


if __name__ == "__main__":
    main()
