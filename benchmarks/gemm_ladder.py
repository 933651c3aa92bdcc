"""Climb the GEMM ladder: every kernel of a device at several sizes, against the vendor BLAS.

    python benchmarks/gemm_ladder.py cpu results/gemm-cpu --docs-img docs/img/gemm-ladder-cpu.png
    python benchmarks/gemm_ladder.py cuda results/gemm-cuda          # on a machine with an NVIDIA GPU

For each square size n it times ``C = A @ B`` (float32) with every kernel of
``minidl.kernels`` and with the backend's BLAS (NumPy's ``@`` on the CPU;
cuBLAS through CuPy on the GPU, TF32 off), and reports GFLOP/s (2 n^3 / time)
and the percent of BLAS.  On CUDA it also times the GEMV kernel on
(1 x n) @ (n x n) in GB/s, against cuBLAS and the memory bandwidth.  Results
go to ``<out>/gemm_<device>.csv``, ``.json``, ``.md`` (a table) and ``.png``.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("CUPY_TF32", "0")   # cuBLAS SGEMM in true FP32 (TF32 would be ~8x faster, less exact)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from minidl.kernels import registry  # noqa: E402

DEFAULT_SIZES = {"cpu": [128, 256, 512, 1024], "cuda": [256, 512, 1024, 2048, 4096]}
GEMV_SIZES = [4096, 8192, 16384]
SPIN_PAUSE = 0.2   # seconds between two CPU runs: longer than BLAS and OpenMP threads spin after their work


class CpuTarget:
    device, blas_name, unit = "numba-cpu", "NumPy BLAS", "GFLOP/s"

    def __init__(self) -> None:
        self.info = cpu_info()

    def operands(self, m, k, n):
        """(a, b, c) for the kernels, a function running BLAS on them, and one reading C back."""
        a, b = random_matrices(m, k, n)
        c = np.empty((m, n), np.float32)
        return (a, b, c), lambda: np.matmul(a, b, out=c), lambda: c.copy()

    def time_all(self, runs: dict, rounds: int = 4, budget: float = 20.0) -> dict:
        """Best wall time of each run, over interleaved rounds, after one untimed call each (compilation).

        Interleaving gives every kernel the same chances on a machine that other programs share:
        a busy moment slows one round of all of them, and the best round of each is kept.  Between
        two runs it pauses: the worker threads of OpenBLAS and of Numba's OpenMP layer keep spinning
        on the cores for up to ~0.1 s after their work, and would slow whatever runs next.  Each run
        then gets one untimed call, to wake its own threads.
        """
        best = {}
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = time.perf_counter() - start
        total = sum(best.values())
        for _ in range(max(1, min(rounds, int(budget / max(3 * total, 1e-9))))):
            for name, run in runs.items():
                time.sleep(SPIN_PAUSE)
                run()
                for _ in range(2):
                    start = time.perf_counter()
                    run()
                    best[name] = min(best[name], time.perf_counter() - start)
        return best


class CudaTarget:
    device, blas_name, unit = "numba-cuda", "cuBLAS (TF32 off)", "GFLOP/s"

    def __init__(self) -> None:
        import minidl

        if not minidl.is_gpu_available():
            raise SystemExit("the CUDA ladder needs CuPy and a CUDA GPU (cupy.cuda.is_available() is False here); "
                             "run it with `cpu` on this machine, or benchmarks/gpu_check.sh on a GPU machine")
        import cupy
        from numba import cuda

        self.cupy, self.cuda = cupy, cuda
        self.info = gpu_info(cupy)

    def operands(self, m, k, n):
        """(a, b, c) for the kernels, a function running cuBLAS on them, and one reading C back."""
        cupy = self.cupy
        a, b = (cupy.asarray(x) for x in random_matrices(m, k, n))
        c = cupy.empty((m, n), np.float32)
        # Numba views of the same memory, made once: launching on them skips per-call interface parsing.
        views = tuple(self.cuda.as_cuda_array(x) for x in (a, b, c))
        return views, lambda: cupy.matmul(a, b, out=c), lambda: cupy.asnumpy(c)

    def time_all(self, runs: dict) -> dict:
        return {name: self.seconds(run) for name, run in runs.items()}

    def seconds(self, run, min_time=0.2, max_runs=200):
        """Mean GPU time per call, from CUDA events around a batch of calls, after one warm-up call."""
        run()
        self.cupy.cuda.Device().synchronize()
        start, stop = self.cupy.cuda.Event(), self.cupy.cuda.Event()
        start.record()
        run()
        stop.record()
        stop.synchronize()
        once = self.cupy.cuda.get_elapsed_time(start, stop) / 1e3
        runs = int(min(max_runs, max(3, min_time / max(once, 1e-6))))
        start.record()
        for _ in range(runs):
            run()
        stop.record()
        stop.synchronize()
        return self.cupy.cuda.get_elapsed_time(start, stop) / 1e3 / runs


def random_matrices(m: int, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)


def cpu_info() -> dict:
    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)"), "numpy": np.__version__}
    try:
        text = Path("/proc/cpuinfo").read_text()
        lines = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        info["cpu"] = lines.get("model name\t", info["cpu"]).strip()
        mhz = float(lines.get("cpu MHz\t\t", "0").strip() or 0)
        lanes = 16 if " avx512f " in text else 8 if " avx2 " in text else 4
        if mhz:  # two FMA units per core, each lanes-wide, two FLOPs per FMA
            info["peak_gflops"] = round(os.cpu_count() * mhz / 1e3 * lanes * 2 * 2, 1)
            info["peak_label"] = f"{os.cpu_count()} cores x {mhz / 1e3:.2f} GHz x {lanes * 4} FLOP/cycle (nominal)"
    except (OSError, ValueError):
        pass
    try:
        import threadpoolctl

        blas = [lib for lib in threadpoolctl.threadpool_info() if lib.get("user_api") == "blas"]
        if blas:
            info["blas"] = f"{blas[0].get('internal_api')} {blas[0].get('version')} " \
                           f"({blas[0].get('architecture')}, {blas[0].get('num_threads')} threads)"
    except ImportError:
        pass
    import numba

    info["numba"], info["numba_threads"] = numba.__version__, numba.config.NUMBA_NUM_THREADS
    return info


def cpu_ticks() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat (None elsewhere)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    except (OSError, ValueError):
        return None
    hertz = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - fields[3] - fields[4]) / hertz, sum(fields) / hertz   # minus idle and iowait


def others_busy_percent(since: tuple | None, own_cpu_since: float) -> float | None:
    """Percent of the machine's CPU time that other programs used since ``since``: they skew the figures."""
    now = cpu_ticks()
    if since is None or now is None:
        return None
    own = time.process_time() - own_cpu_since
    return round(100 * max(0.0, (now[0] - since[0]) - own) / max(now[1] - since[1], 1e-9), 1)


def gpu_info(cupy) -> dict:
    device = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(device.id)
    info = {"gpu": props["name"].decode(), "cupy": cupy.__version__, "numpy": np.__version__,
            "CUPY_TF32": os.environ.get("CUPY_TF32")}
    attributes = device.attributes
    try:
        import numba

        info["numba"] = numba.__version__
        sms, clock_khz = attributes["MultiProcessorCount"], attributes["ClockRate"]
        capability = int(device.compute_capability)            # "90" on an H100
        lanes = 64 if capability in (60, 70, 72, 75, 80) else 128  # FP32 units per SM
        info["peak_gflops"] = round(sms * clock_khz / 1e6 * lanes * 2, 1)
        info["peak_label"] = f"FP32 peak: {sms} SMs x {clock_khz / 1e6:.2f} GHz x {lanes * 2} FLOP/cycle"
        bytes_per_clock = 2 * attributes["GlobalMemoryBusWidth"] / 8            # double data rate
        info["bandwidth_gbs"] = round(attributes["MemoryClockRate"] * bytes_per_clock / 1e6, 1)
    except (KeyError, TypeError):
        info["peak_label"] = "FP32 peak unknown (device attributes unavailable)"
    return info


def max_relative_error(result, expected) -> float:
    return float(np.max(np.abs(result - expected)) / (np.max(np.abs(expected)) + 1e-30))


def run_gemm(target, kernels, sizes) -> list[dict]:
    rows = []
    for n in sizes:
        args, blas, read_c = target.operands(n, n, n)
        blas()
        expected = read_c()
        runs, errors = {}, {target.blas_name: 0.0}
        for name in kernels:
            run = registry.launcher(f"{target.device}:{name}")
            run(*args)                                          # compiles, and checks the result
            errors[name] = max_relative_error(read_c(), expected)
            runs[name] = functools.partial(run, *args)
        runs[target.blas_name] = blas
        seconds = target.time_all(runs)
        blas_gflops = 2 * n ** 3 / seconds[target.blas_name] / 1e9
        for name in runs:
            gflops = 2 * n ** 3 / seconds[name] / 1e9
            rows.append({"kind": "gemm", "kernel": name, "m": n, "k": n, "n": n, "seconds": seconds[name],
                         "gflops": round(gflops, 2), "gbs": None,
                         "percent_of_reference": round(100 * gflops / blas_gflops, 1), "max_rel_error": errors[name]})
            print(f"  n={n:5d}  {name:18s} {gflops:10.1f} GFLOP/s  {rows[-1]['percent_of_reference']:6.1f}%"
                  f"  err {errors[name]:.1e}", flush=True)
    return rows


def run_gemv(target, sizes) -> list[dict]:
    """The GEMV kernel on (1 x n) @ (n x n), in GB/s, next to cuBLAS and a device-to-device copy."""
    cupy, rows = target.cupy, []
    run = registry.launcher("numba-cuda:gemv")
    for n in sizes:
        args, _, read_y = target.operands(1, n, n)
        moved = 4 * (n * n + 2 * n)                       # every byte of the matrix, read once
        x, matrix = cupy.asarray(args[0]).ravel(), cupy.asarray(args[1])
        copy = cupy.empty_like(matrix)
        timings = {"gemv": target.seconds(lambda: run(*args)),
                   "cuBLAS GEMV": target.seconds(lambda: cupy.dot(x, matrix)),     # vector @ matrix: cublasSgemv
                   "copy (read+write)": target.seconds(lambda: cupy.copyto(copy, matrix))}
        error = max_relative_error(read_y().ravel(), cupy.asnumpy(cupy.dot(x, matrix)))
        for name, seconds in timings.items():
            nbytes = 2 * 4 * n * n if name.startswith("copy") else moved
            rows.append({"kind": "gemv", "kernel": name, "m": 1, "k": n, "n": n, "seconds": seconds,
                         "gflops": round(2 * n * n / seconds / 1e9, 2), "gbs": round(nbytes / seconds / 1e9, 1),
                         "percent_of_reference": None, "max_rel_error": error if name == "gemv" else 0.0})
            print(f"  GEMV n={n:5d}  {name:18s} {rows[-1]['gbs']:8.1f} GB/s", flush=True)
    return rows


def markdown_table(rows, target) -> str:
    gemm = [row for row in rows if row["kind"] == "gemm"]
    sizes = sorted({row["n"] for row in gemm})
    names = list(dict.fromkeys(row["kernel"] for row in gemm))
    lines = ["| kernel | " + " | ".join(f"n = {n}" for n in sizes) + " |", "| --- |" + " ---: |" * len(sizes)]
    for name in names:
        cells = [next(row for row in gemm if row["kernel"] == name and row["n"] == n) for n in sizes]
        figures = [f"{cell['gflops']:.1f} ({cell['percent_of_reference']:.0f}%)" for cell in cells]
        lines.append(f"| {name} | " + " | ".join(figures) + " |")
    gemv = [row for row in rows if row["kind"] == "gemv"]
    if gemv:
        lines += ["", "| GEMV, (1 x n) @ (n x n) | n | GB/s |", "| --- | ---: | ---: |"]
        lines += [f"| {row['kernel']} | {row['n']} | {row['gbs']:.0f} |" for row in gemv]
    return "\n".join(lines) + "\n"


def plot(rows, info, target, path: Path, dpi: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gemm = [row for row in rows if row["kind"] == "gemm"]
    gemv = [row for row in rows if row["kind"] == "gemv"]
    sizes = sorted({row["n"] for row in gemm})
    names = list(dict.fromkeys(row["kernel"] for row in gemm))
    figure, axes = plt.subplots(1, 2 if gemv else 1, figsize=(11 if gemv else 7.5, 3.8), squeeze=False,
                                gridspec_kw={"width_ratios": [3, 1]} if gemv else None)
    axis, width = axes[0][0], 0.8 / len(sizes)
    for index, n in enumerate(sizes):
        values = [next(r["gflops"] for r in gemm if r["kernel"] == name and r["n"] == n) for name in names]
        axis.bar([i + (index - (len(sizes) - 1) / 2) * width for i in range(len(names))], values, width,
                 label=f"n = {n}")
    axis.set_yscale("log")
    top = max([row["gflops"] for row in gemm] + [info.get("peak_gflops") or 0])
    axis.set_ylim(top=top * 4)                           # room for the peak's label and the legend
    if info.get("peak_gflops"):
        axis.axhline(info["peak_gflops"], color="black", linestyle="--", linewidth=1)
        axis.text(len(names) - 0.5, info["peak_gflops"] * 1.15, info["peak_label"], ha="right", fontsize=7)
    axis.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
    axis.set_ylabel("GFLOP/s (log scale)")
    where = info.get("gpu") or f"{info.get('cpu')}, {info.get('cores')} cores"
    axis.set_title(f"GEMM ladder, {target.device}, float32: {where}", fontsize=9)
    axis.legend(fontsize=7, ncols=len(sizes), loc="upper left")
    if gemv:
        side, largest = axes[0][1], max(row["n"] for row in gemv)
        chosen = [row for row in gemv if row["n"] == largest]
        side.bar([row["kernel"] for row in chosen], [row["gbs"] for row in chosen], color="tab:gray")
        if info.get("bandwidth_gbs"):
            side.axhline(info["bandwidth_gbs"], color="black", linestyle="--", linewidth=1)
            side.text(len(chosen) - 0.5, info["bandwidth_gbs"] * 1.02, "memory peak", ha="right", fontsize=7)
        side.set_title(f"GEMV n = {largest}: GB/s", fontsize=9)
        side.tick_params(axis="x", labelrotation=20, labelsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    plt.close(figure)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("device", choices=["cpu", "cuda"])
    parser.add_argument("out", type=Path, help="folder for the CSV, JSON, Markdown table and PNG")
    parser.add_argument("--sizes", type=int, nargs="+", help="square sizes n (default: CPU 128..1024, GPU 256..4096)")
    parser.add_argument("--kernels", nargs="+", help="kernel names (default: the whole ladder)")
    parser.add_argument("--gemv-sizes", type=int, nargs="*", default=GEMV_SIZES, help="CUDA only; none to skip")
    parser.add_argument("--docs-img", type=Path, help="also save a small PNG here, and the JSON beside it (docs)")
    args = parser.parse_args(argv)

    target = CpuTarget() if args.device == "cpu" else CudaTarget()
    kernels = args.kernels or [k for k in registry.available(target.device) if k != "gemv"]
    sizes = args.sizes or DEFAULT_SIZES[args.device]
    print(f"GEMM ladder on {target.device}, float32, sizes {sizes}; reference: {target.blas_name}")
    print("  " + ", ".join(f"{key}: {value}" for key, value in target.info.items()), flush=True)
    ticks, own_cpu = cpu_ticks(), time.process_time()
    rows = run_gemm(target, kernels, sizes)
    if args.device == "cuda" and args.gemv_sizes:
        rows += run_gemv(target, args.gemv_sizes)

    if args.device == "cpu":
        target.info["others_busy_percent"] = others_busy_percent(ticks, own_cpu)
        print(f"other programs used {target.info['others_busy_percent']}% of the CPUs during the run")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"gemm_{args.device}"
    with open(stem.with_suffix(".csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    measured = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary = {"device": target.device, "reference": target.blas_name, "measured": measured,
               "machine": target.info, "results": rows}
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=1))
    table = markdown_table(rows, target)
    stem.with_suffix(".md").write_text(f"GFLOP/s (percent of {target.blas_name}), {measured}\n\n{table}")
    print("\n" + table)
    plot(rows, target.info, target, stem.with_suffix(".png"), dpi=120)
    if args.docs_img:  # a small PNG, and the same JSON next to it, from which the docs page prints its table
        plot(rows, target.info, target, args.docs_img, dpi=80)
        args.docs_img.with_suffix(".json").write_text(json.dumps(summary, indent=1))
    print(f"wrote {stem}.csv/.json/.md/.png" + (f" and {args.docs_img}(.json)" if args.docs_img else ""))


if __name__ == "__main__":
    main()
