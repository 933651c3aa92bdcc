"""One SGD step of a ReLU MLP with softmax cross-entropy: minidl against hand-written NumPy and PyTorch.

Each implementation (see ``mlp_impls.py``) lives in its own process, so
none inherits another's allocator, thread pool or imports.  The driver
asks them in turn, round after round, to time a block of steps: machine
drift (other jobs, CPU frequency) then hits all of them alike, and each
ratio is taken between blocks run moments apart.  The printed figure is
the median over rounds of ``time(implementation) / time(hand-written)``.

After the timing rounds, each minidl implementation runs 1,000 more
steps while the driver watches its memory (resident set, bytes traced by
``tracemalloc``, CuPy's memory pool): a step that leaks grows them.

    python benchmarks/mlp_step.py results/mlp                 # CPU: 784-128-128-10/64 and 784-1024-1024-10/512
    python benchmarks/mlp_step.py --quick results/mlp-quick   # a smoke run, about a minute
    python benchmarks/mlp_step.py --device cuda results/mlp-gpu   # CuPy vs hand-written CuPy (and PyTorch CUDA)
    python benchmarks/mlp_step.py --optimizer adam results/mlp-adam  # the Adam step (``mlp_adam_impls.py``)
    python benchmarks/mlp_step.py --torch results/mlp-torch   # on PyTorch's kernels: minidl-torch vs PyTorch eager

With ``--torch`` every implementation runs on torch tensors: the hand-written
torch step is the base, and ``minidl-torch / torch`` (minidl's autograd
against PyTorch's, on the same kernels) is the engine's cost, and
``minidl-compiled-torch / torch`` the same model's step traced once by
``md.compile`` and replayed without the engine.

On the GPU, ``minidl-compiled`` launches a captured CUDA graph and
``minidl-replay`` is the same replay without one (on the CPU they are one
thing, so only the first runs).

Results: ``OUT/mlp_step.json`` (every round, the environment) and ``OUT/mlp_step.txt`` (the tables).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHAPES = {  # name: (layer sizes, batch)
    "small": ((784, 128, 128, 10), 64),
    "large": ((784, 1024, 1024, 10), 512),
    "huge": ((784, 4096, 4096, 10), 4096),  # GPU only
}
MEMORY_IMPLEMENTATIONS = ("minidl", "minidl-nn", "minidl-compiled")
IMPLEMENTATION_MODULES = {"sgd": "mlp_impls", "adam": "mlp_adam_impls"}
# Ratios reported per round beside the ratios to the hand-written base (same state, same step):
PAIRS = (("minidl-compiled", "torch-graph"), ("minidl-compiled-bn", "torch-graph-bn"),
         ("minidl-nn", "torch"), ("minidl-nn-bn", "torch-bn"), ("minidl-compiled", "torch"),
         ("minidl-compiled-bn", "torch-bn"), ("minidl-compiled-torch", "torch"))
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ---- the worker: one implementation in its own process -------------------------------------------------
def worker(name: str, device: str, shape: str, optimizer: str = "sgd") -> None:
    """Build one step, then answer JSON commands on stdin, one per line."""
    sys.path[:0] = [str(HERE), str(HERE.parent)]  # mlp_impls, and minidl from this checkout
    impls = importlib.import_module(IMPLEMENTATION_MODULES[optimizer])

    sizes, batch = SHAPES[shape]
    try:
        step = impls.build(name, sizes, batch, device)
        first_loss = step.loss_of(step.run())
        started, warmup_steps = time.perf_counter(), 1
        while warmup_steps < 5 or time.perf_counter() - started < 0.3:
            step.run()
            warmup_steps += 1
        step.sync()
        estimate = (time.perf_counter() - started) / warmup_steps
    except Exception as error:  # noqa: BLE001 - reported to the driver, which skips this implementation
        _reply({"error": f"{type(error).__name__}: {error}"})
        return
    _reply({"first_loss": first_loss, "estimate": estimate, "details": _worker_details(name, step)})
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "time":
            step.sync()
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in range(command["steps"]):
                step.run()
            step.sync()
            _reply({"wall": (time.perf_counter() - started) / command["steps"],
                    "cpu": (time.process_time() - cpu_started) / command["steps"]})
        elif command["cmd"] == "memory":
            _reply(_memory_run(step, command["steps"], device))
        else:
            return


def _reply(message: dict) -> None:
    print(json.dumps(message), flush=True)


def _worker_details(name: str, step) -> dict:
    if name == "torch":
        import torch
        return {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    return step.details() if step.details else {}


def _memory_run(step, steps: int, device: str) -> dict:
    """Run ``steps`` steps; memory after the first tenth and at the end (growth between them is a leak)."""
    import gc
    import tracemalloc

    def pool_mib():
        if device != "cuda":
            return None
        import cupy
        return cupy.get_default_memory_pool().used_bytes() / 2**20

    tracemalloc.start()
    marks = {}
    for index in range(1, steps + 1):
        step.run()
        if index in (steps // 10, steps):
            step.sync()
            gc.collect()
            marks[index] = {"rss_mib": _resident_mib(), "traced_kib": tracemalloc.get_traced_memory()[0] / 1024,
                            "pool_mib": pool_mib()}
    peak = tracemalloc.get_traced_memory()[1] / 1024
    tracemalloc.stop()
    return {"steps": steps, "marks": marks, "traced_peak_kib": peak}


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ---- the driver -----------------------------------------------------------------------------------------
class Worker:
    def __init__(self, name: str, device: str, shape: str, optimizer: str = "sgd") -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--device", device, "--shape", shape,
             "--optimizer", optimizer],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.ready = self.receive()

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.receive()

    def receive(self) -> dict:
        line = self.process.stdout.readline()
        return json.loads(line) if line else {"error": f"worker exited with code {self.process.wait()}"}

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)


def measure_shape(shape: str, names: list[str], args) -> dict:
    """Rounds of interleaved blocks for every implementation at one shape."""
    workers, skipped = [], {}
    for name in names:
        started = Worker(name, args.device, shape, args.optimizer)
        if "error" in started.ready:
            skipped[name] = started.ready["error"]
            started.close()
        else:
            workers.append(started)
    if not workers or workers[0].name != names[0]:
        raise SystemExit(f"the base step {names[0]} could not run at {shape}: {skipped.get(names[0])}")
    steps = {w.name: max(3, round(args.block_seconds / max(w.ready["estimate"], 1e-7))) for w in workers}
    seconds: dict[str, list[float]] = {w.name: [] for w in workers}
    for round_index in range(args.rounds):
        turn = round_index % len(workers)  # rotate the order, so no one is always first after a pause
        for w in workers[turn:] + workers[:turn]:
            time.sleep(args.pause)  # let the last worker's BLAS threads stop spinning before the next starts
            seconds[w.name].append(w.ask(cmd="time", steps=steps[w.name])[args.clock])
    memory = {}
    if args.memory_steps:
        for w in workers:
            if w.name in MEMORY_IMPLEMENTATIONS and shape == "small":
                memory[w.name] = w.ask(cmd="memory", steps=args.memory_steps)
    for w in workers:
        w.close()
    base = seconds[names[0]]
    result = {"sizes": SHAPES[shape][0], "batch": SHAPES[shape][1], "clock": args.clock, "skipped": skipped,
              "base": names[0], "implementations": {}}
    for w in workers:
        ratios = [mine / theirs for mine, theirs in zip(seconds[w.name], base)]
        result["implementations"][w.name] = {
            "seconds_per_step": seconds[w.name], "median_ms": statistics.median(seconds[w.name]) * 1e3,
            "ratios": ratios, "median_ratio": statistics.median(ratios), "steps_per_block": steps[w.name],
            "first_loss": w.ready["first_loss"], "details": w.ready["details"], "memory": memory.get(w.name)}
    return result


def environment(device: str) -> dict:
    import numpy

    info = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(), "numpy": numpy.__version__, "load_average_before": os.getloadavg(),
            "blas_env": {k: v for k, v in os.environ.items() if k.split("_")[0] in ("OPENBLAS", "OMP", "MKL")},
            "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},  # glibc's thresholds
            "device": device}
    try:
        import threadpoolctl
        info["blas"] = [{k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                        for pool in threadpoolctl.threadpool_info()]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    if device == "cuda":
        import cupy
        info["gpu"] = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        info["cupy"] = cupy.__version__
    return info


def machine_line(machine: dict, **versions: str) -> str:
    """A measurement file's machine line: CPU, Python, NumPy, the other libraries' ``versions`` (name=version),
    and the load average before (``machine``: `environment`, called before measuring) and now, after."""
    libraries = "".join(f", {name} {version}" for name, version in versions.items())
    return (f"machine: {machine['cpu_model']}, {machine['cpus']} cores, Python {machine['python']}, NumPy "
            f"{machine['numpy']}{libraries}, load average {machine['load_average_before'][0]:.2f} before, "
            f"{os.getloadavg()[0]:.2f} after")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def report(results: dict) -> str:
    env = results["environment"]
    blas = env["blas"] if isinstance(env["blas"], str) else ", ".join(
        f"{b['internal_api']} {b['version']} ({b['num_threads']} threads, {b['architecture']})" for b in env["blas"])
    lines = [f"MLP {env.get('optimizer', 'sgd').upper()} step: {env['cpu_model']}, {env['cpus']} CPUs, Python {env['python']}, NumPy {env['numpy']}, "
             f"BLAS: {blas}; BLAS env: {env['blas_env'] or 'none set'}; load average {env['load_average_before']}"
             + (f"; GPU {env['gpu']}, CuPy {env['cupy']}" if "gpu" in env else "")]
    for shape in results["shapes"].values():
        rounds = len(next(iter(shape["implementations"].values()))["ratios"])
        lines += ["", f"{'-'.join(map(str, shape['sizes']))}, batch {shape['batch']}, on {env['device']} "
                  f"(median of {rounds} interleaved rounds, {shape['clock']} time)",
                  f"  {'implementation':<22}{'ms/step':>9}{'x ' + shape.get('base', 'handwritten'):>20}"
                  f"{'first loss':>12}"]
        for name, entry in shape["implementations"].items():
            graph = entry["details"].get("cuda_graph")
            note = "" if graph is None or env["device"] != "cuda" else ("  (CUDA graph)" if graph else f"  (no CUDA graph: {entry['details']['graph_note']})")
            lines.append(f"  {name:<22}{entry['median_ms']:>9.3f}{entry['median_ratio']:>20.3f}"
                         f"{entry['first_loss']:>12.6f}{note}")
        lines += [f"  {name}: skipped ({reason})" for name, reason in shape["skipped"].items()]
        entries = shape["implementations"]
        if "minidl-torch" in entries and "torch" in entries:
            engine = statistics.median(m / t for m, t in zip(entries["minidl-torch"]["seconds_per_step"],
                                                            entries["torch"]["seconds_per_step"]))
            lines.append(f"  minidl-torch / torch (minidl's autograd against PyTorch's, same kernels): {engine:.3f}")
        for mine, theirs in PAIRS:  # like against like, per round, when a shape measured both
            if mine in entries and theirs in entries:
                pair = statistics.median(m / t for m, t in zip(entries[mine]["seconds_per_step"],
                                                              entries[theirs]["seconds_per_step"]))
                lines.append(f"  {mine} / {theirs}: {pair:.3f}")
        if "minidl-profiled" in entries and "minidl" in entries:
            overhead = statistics.median(p / e for p, e in zip(entries["minidl-profiled"]["seconds_per_step"],
                                                             entries["minidl"]["seconds_per_step"])) - 1
            lines.append(f"  profiler overhead (minidl-profiled / minidl - 1): {overhead * 100:.1f}%")
        for name, entry in shape["implementations"].items():
            if entry["memory"]:
                marks = entry["memory"]["marks"]
                first, last = (marks[key] for key in sorted(marks, key=int))
                pool = (f", CuPy pool {first['pool_mib']:.1f} -> {last['pool_mib']:.1f} MiB"
                        if first["pool_mib"] is not None else "")
                lines.append(f"  memory of {name} over steps {min(map(int, marks))} -> {entry['memory']['steps']}: "
                             f"RSS {first['rss_mib']:.1f} -> {last['rss_mib']:.1f} MiB, traced "
                             f"{first['traced_kib']:.0f} -> {last['traced_kib']:.0f} KiB{pool}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="results/mlp", help="folder for mlp_step.json and mlp_step.txt")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--quick", action="store_true", help="small shape, 3 rounds, short blocks, 200-step memory run")
    parser.add_argument("--shapes", help="comma-separated among " + ", ".join(SHAPES))
    parser.add_argument("--implementations", help="comma-separated (hand-written always runs first)")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--block-seconds", type=float)
    parser.add_argument("--memory-steps", type=int, help="0 skips the memory run")
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads of every worker (default: as the machine "
                        "is set); on a busy machine, 1 avoids threads waiting on each other")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: the process's CPU time, which a busy machine does not inflate (use it with "
                        "--threads 1, on CPU only)")
    parser.add_argument("--pause", type=float, default=0.3,
                        help="seconds between blocks: idle BLAS/OpenMP threads spin for a while after their work")
    parser.add_argument("--optimizer", choices=tuple(IMPLEMENTATION_MODULES), default="sgd",
                        help="adam: the Adam step of mlp_adam_impls.py (hand-written Adam as the floor)")
    parser.add_argument("--torch", action="store_true",
                        help="on torch tensors: hand-written torch (the base), minidl-torch, PyTorch eager")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clock == "cpu" and args.device == "cuda":
        parser.error("--clock cpu measures host CPU time: use the wall clock on the GPU")
    if args.threads:
        for variable in THREAD_VARIABLES:  # read by OpenBLAS, MKL and OpenMP when a worker starts
            os.environ[variable] = str(args.threads)
    if args.worker:
        return worker(args.worker, args.device, args.shape, args.optimizer)

    sys.path[:0] = [str(HERE), str(HERE.parent)]
    impls = importlib.import_module(IMPLEMENTATION_MODULES[args.optimizer])
    gpu_only = getattr(impls, "GPU_ONLY", ("minidl-replay",))  # on the CPU, replay is the same as compiled

    default_shapes = "small,large,huge" if args.device == "cuda" else "small,large"
    shapes = (args.shapes or ("small" if args.quick else default_shapes)).split(",")
    args.rounds = args.rounds or (3 if args.quick else 7)
    args.block_seconds = args.block_seconds or (0.1 if args.quick else 0.5)
    args.memory_steps = args.memory_steps if args.memory_steps is not None else (200 if args.quick else 1000)
    implementations = impls.IMPLEMENTATIONS
    if args.torch:
        if args.optimizer != "sgd":
            parser.error("--torch measures the SGD step only (mlp_impls_backends.py has no Adam step)")
        from mlp_impls_backends import TORCH_IMPLEMENTATIONS as implementations
    chosen = args.implementations.split(",") if args.implementations else [
        name for name in implementations if args.device == "cuda" or name not in gpu_only]
    base = implementations[0]  # the hand-written step on the same kernels: every ratio is against it
    names = [base] + [name for name in chosen if name != base]

    results = {"environment": {**environment(args.device), "optimizer": args.optimizer}, "shapes": {}}
    for shape in shapes:
        print(f"measuring {shape} ...", file=sys.stderr, flush=True)
        results["shapes"][shape] = measure_shape(shape, names, args)
    results["environment"]["load_average_after"] = os.getloadavg()
    save(args.out, "mlp_step", results, report(results))


def save(out: str, stem: str, results: dict, text: str) -> None:
    """``OUT/<stem>.json`` (the numbers) and ``OUT/<stem>.txt`` (the report, printed too)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(results, indent=1))
    (folder / f"{stem}.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
