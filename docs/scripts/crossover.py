"""Figure for chapter 7: when does the GPU win?  One SGD step of a ReLU MLP over batch size.

    python docs/scripts/crossover.py            # measures this machine's CPU, writes the figure
    python docs/scripts/crossover.py --gpu      # also measures the step with CuPy on this machine's GPU
    python docs/scripts/crossover.py --replot   # measure nothing: redraw from the stored JSON and the H100 figures below

Writes ``docs/measurements/cpu-<date>/crossover/crossover.json`` (every number drawn, and the machine:
CPU model, cores, Python, NumPy, BLAS and its threads, load average) with a ``crossover.txt`` beside it,
and draws ``docs/figures/crossover.png`` from the newest stored file.  Run it with one BLAS thread
(``OPENBLAS_NUM_THREADS=1``) to compare with the other CPU measurements.  Three kinds of numbers,
labelled as such on the plot:

- measured here, on the CPU: the step hand-written in NumPy, and the same step in minidl;
- the H100 run of ``docs/measurements/h100-2026-11-26/`` (measured there, copied here):
  the hand-written CuPy step, 1.00 ms at 784-1024-1024-10 / batch 512 and 10.5 ms at
  784-4096-4096-10 / batch 4096 (``mlp_step_large_huge.txt``); cuBLAS SGEMM 51.7 TFLOP/s
  (``gemm_cuda.txt``);
- a model of the H100 built from those figures: ``max(fixed cost, FLOPs / 51.7 TFLOP/s)``,
  where the fixed cost is the launch-bound 1.00 ms step (about 60 CuPy launches).
  It ignores that cuBLAS is slower on small matrices, so it flatters the GPU at mid sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy

FIGURES = Path(__file__).resolve().parents[1] / "figures"
MEASUREMENTS = Path(__file__).resolve().parents[1] / "measurements"
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
NETWORKS = {"784-1024-1024-10": (784, 1024, 1024, 10), "784-4096-4096-10": (784, 4096, 4096, 10)}
CPU_BATCHES = {"784-1024-1024-10": [2**k for k in range(13)], "784-4096-4096-10": [2**k for k in range(11)]}
GPU_BATCHES = [2**k for k in range(15)]

# The H100 80GB HBM3 run of docs/measurements/h100-2026-11-26/ (measured there, not here).
H100_SOURCE = "docs/measurements/h100-2026-11-26/ (gemm_cuda.txt, mlp_step_large_huge.txt)"
H100_SGEMM_FLOPS = 51.7e12           # cuBLAS SGEMM, n=4096, TF32 off: gemm_cuda.txt
H100_OP_COST_S = 15e-6               # one tiny CuPy op: a 1.0 ms step of about 60 launches
H100_MEASURED_STEPS = {"784-1024-1024-10": (512, 0.996e-3), "784-4096-4096-10": (4096, 10.506e-3)}
H100_FIXED_COST_S = H100_MEASURED_STEPS["784-1024-1024-10"][1]  # a launch-bound step: its GEMMs take ~0.1 ms


def step_flops(sizes: tuple[int, ...], batch: int) -> int:
    """FLOPs of the GEMMs in one training step: forward, weight gradients, input gradients (not layer 1's)."""
    layer_macs = [fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    return 2 * batch * (2 * sum(layer_macs) + sum(layer_macs[1:]))


def h100_model_seconds(sizes: tuple[int, ...], batch: int) -> float:
    return max(H100_FIXED_COST_S, step_flops(sizes, batch) / H100_SGEMM_FLOPS)


def hand_written_step(xp, params, x, one_hot, lr=0.01):
    """One SGD step of a ReLU MLP with softmax cross-entropy, written out by hand (NumPy or CuPy)."""
    (w1, b1), (w2, b2), (w3, b3) = params
    batch = x.shape[0]
    h1 = x @ w1 + b1
    a1 = xp.maximum(h1, 0)
    h2 = a1 @ w2 + b2
    a2 = xp.maximum(h2, 0)
    logits = a2 @ w3 + b3
    exp = xp.exp(logits - logits.max(axis=1, keepdims=True))
    probs = exp / exp.sum(axis=1, keepdims=True)
    g3 = (probs - one_hot) / batch
    g2 = (g3 @ w3.T) * (h2 > 0)
    g1 = (g2 @ w2.T) * (h1 > 0)
    grads = [(a2.T @ g3, g3.sum(axis=0)), (a1.T @ g2, g2.sum(axis=0)), (x.T @ g1, g1.sum(axis=0))][::-1]
    for (w, b), (gw, gb) in zip(params, grads):
        w -= lr * gw
        b -= lr * gb


def minidl_step(params, x, target, lr=0.01):
    """The same step with minidl's autograd (functional API) on the current backend."""
    import minidl as md
    import minidl.nn.functional as F

    h = x
    for layer, (weight, bias) in enumerate(params):
        h = h @ weight + bias  # weights stored (in, out), as in the hand-written step
        if layer < len(params) - 1:
            h = F.relu(h)
    loss = F.cross_entropy(h, target)
    loss.backward()
    with md.no_grad():
        for weight, bias in params:
            for p in (weight, bias):
                p.data -= lr * p.grad.data  # in place on the backend array, like the hand-written step
                p.grad = None


def seconds_per_call(call, min_total=0.05, rounds=5, synchronize=lambda: None) -> float:
    """Best of ``rounds`` averages, each over enough calls to last ``min_total`` seconds.

    The best, not the mean: on a shared machine other work only ever adds time.
    """
    call()
    synchronize()
    best = float("inf")
    for _ in range(rounds):
        calls, start = 0, time.perf_counter()
        while True:
            call()
            calls += 1
            synchronize()
            elapsed = time.perf_counter() - start
            if elapsed >= min_total:
                break
        best = min(best, elapsed / calls)
    return best


def make_problem(xp, sizes, batch, seed=0):
    rng = numpy.random.default_rng(seed)
    params = [(xp.asarray(rng.standard_normal((i, o), dtype=numpy.float32) * numpy.float32((2 / i) ** 0.5)),
               xp.asarray(numpy.zeros(o, numpy.float32))) for i, o in zip(sizes[:-1], sizes[1:])]
    x = xp.asarray(rng.standard_normal((batch, sizes[0]), dtype=numpy.float32))
    labels = rng.integers(0, sizes[-1], batch)
    one_hot = xp.asarray(numpy.eye(sizes[-1], dtype=numpy.float32)[labels])
    return params, x, one_hot, labels


def measure_cpu(name: str, sizes: tuple[int, ...], sweeps: int) -> dict[str, list[float]]:
    """Best time per batch size over ``sweeps`` passes over all sizes (drift hits every size alike)."""
    import minidl as md

    batches = CPU_BATCHES[name]
    numpy_times, minidl_times = [float("inf")] * len(batches), [float("inf")] * len(batches)
    for sweep in range(sweeps):
        for i, batch in enumerate(batches):
            params, x, one_hot, labels = make_problem(numpy, sizes, batch)
            numpy_times[i] = min(numpy_times[i], seconds_per_call(lambda: hand_written_step(numpy, params, x, one_hot)))
            with md.using_backend("numpy"):
                md_params = [(md.tensor(w, requires_grad=True), md.tensor(b, requires_grad=True)) for w, b in params]
                md_x, md_target = md.tensor(x), md.tensor(labels)
                minidl_times[i] = min(minidl_times[i],
                                      seconds_per_call(lambda: minidl_step(md_params, md_x, md_target)))
            print(f"  sweep {sweep + 1}/{sweeps} CPU {name} batch {batch:5d}: NumPy {numpy_times[i] * 1e3:9.3f} ms, "
                  f"minidl {minidl_times[i] * 1e3:9.3f} ms")
    return {"batch": batches, "numpy_s": numpy_times, "minidl_s": minidl_times}


def measure_gpu(sizes: tuple[int, ...]) -> dict[str, list[float]]:
    import cupy

    times = []
    for batch in GPU_BATCHES:
        params, x, one_hot, _ = make_problem(cupy, sizes, batch)
        times.append(seconds_per_call(lambda: hand_written_step(cupy, params, x, one_hot),
                                      synchronize=cupy.cuda.get_current_stream().synchronize))
    return {"batch": GPU_BATCHES, "cupy_s": times, "device": cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()}


def crossover_batch(batches, cpu_seconds, sizes) -> int | None:
    """The smallest measured batch at which the H100 model beats the CPU step."""
    for batch, cpu in zip(batches, cpu_seconds):
        if h100_model_seconds(sizes, batch) < cpu:
            return batch
    return None


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
    for axis, (name, sizes) in zip(axes, NETWORKS.items()):
        cpu = results["cpu"][name]
        ms = lambda seconds: [s * 1e3 for s in seconds]  # noqa: E731
        axis.plot(cpu["batch"], ms(cpu["numpy_s"]), "o-", color="#1f77b4", label="CPU, hand-written NumPy (measured here)")
        axis.plot(cpu["batch"], ms(cpu["minidl_s"]), "s--", color="#17becf", ms=4, label="CPU, minidl (measured here)")
        model_batches = GPU_BATCHES
        axis.plot(model_batches, [h100_model_seconds(sizes, b) * 1e3 for b in model_batches], "-", color="#d62728",
                  label=f"H100 model: max({H100_FIXED_COST_S * 1e3:.2f} ms, FLOPs / {H100_SGEMM_FLOPS / 1e12:.1f} TFLOP/s)")
        batch, seconds = H100_MEASURED_STEPS[name]
        axis.plot([batch], [seconds * 1e3], "*", color="#d62728", ms=14, label="H100 hand-written CuPy (measured there)")
        if "gpu" in results:
            gpu = results["gpu"][name]
            axis.plot(gpu["batch"], ms(gpu["cupy_s"]), "^-", color="#ff7f0e", label=f"{gpu['device']} (measured here)")
        cross = crossover_batch(cpu["batch"], cpu["numpy_s"], sizes)
        if cross is not None:
            axis.axvline(cross, color="#888888", lw=0.8, ls=":")
            axis.annotate(f"H100 model faster\nfrom batch {cross}", (cross, 0.3), xytext=(4, 0),
                          xycoords=axis.get_xaxis_transform(), textcoords="offset points", fontsize=8,
                          color="#555555")
        axis.set(xscale="log", yscale="log", xlabel="batch size", title=f"one SGD step, MLP {name}")
        axis.set_xscale("log", base=2)
        axis.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("time per step (ms)")
    axes[0].legend(fontsize=7.5, loc="upper left")
    fig.text(0.01, 0.01, f"CPU (\"measured here\"): {results['cpu_machine']}; best of {results.get('runs', 1)} "
             f"sweep(s), {results.get('measured', '')}.\nH100 figures: docs/measurements/h100-2026-11-26, "
             "not measured on this machine.", fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def h100_reference() -> dict:
    return {"sgemm_flops": H100_SGEMM_FLOPS, "op_cost_s": H100_OP_COST_S,
            "measured_steps": H100_MEASURED_STEPS, "source": H100_SOURCE}


def latest_stored() -> Path:
    """The newest stored CPU measurement (folders are named by date)."""
    return sorted(MEASUREMENTS.glob("cpu-*/crossover/crossover.json"))[-1]


def machine_line(machine: dict) -> str:
    threads = machine["blas_env"].get("OPENBLAS_NUM_THREADS", "default")
    return (f"{machine['cpu_model']}, {machine['cpus']} cores, Python {machine['python']}, NumPy {machine['numpy']}, "
            f"BLAS threads {threads}, load average {machine['load_average_before'][0]:.1f} at the start")


def write_text(results: dict, path: Path) -> None:
    lines = [f"One SGD step of a ReLU MLP over batch size, best of {results['runs']} sweep(s), measured "
             f"{results['measured']} by docs/scripts/crossover.py", f"machine: {results['cpu_machine']}"]
    for name, cpu in results["cpu"].items():
        lines += ["", f"MLP {name}   batch   NumPy (ms)   minidl (ms)"]
        lines += [f"{'':19s}{b:6d} {n * 1e3:12.3f} {m * 1e3:13.3f}"
                  for b, n, m in zip(cpu["batch"], cpu["numpy_s"], cpu["minidl_s"])]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gpu", action="store_true", help="also measure the CuPy step on this machine's GPU")
    parser.add_argument("--sweeps", type=int, default=3, help="passes over all batch sizes; the best is kept")
    parser.add_argument("--replot", action="store_true", help="measure nothing: redraw from the newest stored JSON")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for crossover.json (default docs/measurements/cpu-<today>/crossover)")
    args = parser.parse_args()
    if args.replot:
        stored = latest_stored()
        plot(json.loads(stored.read_text()), FIGURES / "crossover.png")
        print(f"redrew {FIGURES / 'crossover.png'} from {stored}")
        return
    os.environ.setdefault("MINIDL_BACKEND", "numpy")
    sys.path.insert(0, str(BENCHMARKS))
    from mlp_step import environment  # the machine line every benchmark writes

    machine = environment("cpu")
    results = {
        "runs": args.sweeps,
        "cpu_machine": machine_line(machine),
        "machine": machine,
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "method": "per batch size, the best of 5 averages (each over >= 50 ms of calls), best over the sweeps",
        "h100_reference": h100_reference(),
        "cpu": {name: measure_cpu(name, sizes, args.sweeps) for name, sizes in NETWORKS.items()},
    }
    if args.gpu:
        results["gpu"] = {name: measure_gpu(sizes) for name, sizes in NETWORKS.items()}
    out = args.out or MEASUREMENTS / f"cpu-{time.strftime('%Y-%m-%d', time.gmtime())}" / "crossover"
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossover.json").write_text(json.dumps(results, indent=1) + "\n")
    write_text(results, out / "crossover.txt")
    plot(results, FIGURES / "crossover.png")
    print(f"wrote {out / 'crossover.json'}, {out / 'crossover.txt'} and {FIGURES / 'crossover.png'}")


if __name__ == "__main__":
    main()
