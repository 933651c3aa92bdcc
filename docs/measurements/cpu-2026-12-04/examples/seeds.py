"""The digits examples over seeds: test accuracy and run time, as the training page quotes them.

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/examples/seeds.py OUT [--cnn-seeds 4]

- examples/train_mlp.py at its defaults (64-128-128-10 with two BatchNorm1d, Adam 3e-3, cosine, batch 32,
  30 epochs), seeds 0..11; and the same run with the two BatchNorm1d layers left out;
- examples/train_cnn.py at its defaults, seeds 0..N-1.

Each run in this process, one after the other; wall time per run.  Writes OUT/seeds.json and OUT/seeds.txt.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def without_batchnorm(hidden: int = 128):
    import minidl.nn as nn

    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def timed(main, argv) -> tuple[float, float]:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        accuracy = main(argv)
    return accuracy, time.perf_counter() - start


def main() -> None:
    out = Path(sys.argv[1])
    cnn_seeds = int(sys.argv[sys.argv.index("--cnn-seeds") + 1]) if "--cnn-seeds" in sys.argv else 4
    import train_cnn
    import train_mlp
    from mlp_step import environment  # the machine line every benchmark writes

    machine = environment("cpu")
    runs: dict[str, list] = {"train_mlp.py": [], "train_mlp.py without BatchNorm1d": [], "train_cnn.py": []}
    with_bn = train_mlp.build_model
    for seed in range(12):
        train_mlp.build_model = with_bn
        runs["train_mlp.py"].append((seed, *timed(train_mlp.main, ["--seed", str(seed), "--quiet"])))
        train_mlp.build_model = without_batchnorm
        runs["train_mlp.py without BatchNorm1d"].append((seed, *timed(train_mlp.main, ["--seed", str(seed), "--quiet"])))
    train_mlp.build_model = with_bn
    for seed in range(cnn_seeds):
        runs["train_cnn.py"].append((seed, *timed(train_cnn.main, ["--seed", str(seed), "--quiet"])))
    stored = {"what": "test accuracy of the digits examples at their default settings, per seed",
              "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine,
              "load_average_after": os.getloadavg(),
              "runs": {name: [{"seed": s, "test_accuracy": a, "seconds": t} for s, a, t in rows]
                       for name, rows in runs.items()}}
    out.mkdir(parents=True, exist_ok=True)
    (out / "seeds.json").write_text(json.dumps(stored, indent=1) + "\n")
    lines = [f"{stored['what']}; {stored['measured']}",
             f"machine: {machine['cpu_model']}, {machine['cpus']} cores, Python {machine['python']}, NumPy "
             f"{machine['numpy']}, BLAS env {machine['blas_env']}, load average {machine['load_average_before'][0]:.2f} "
             f"before, {stored['load_average_after'][0]:.2f} after", ""]
    for name, rows in runs.items():
        accuracies = [a for _, a, _ in rows]
        lines.append(f"{name}: seeds 0..{len(rows) - 1}: test accuracy mean {100 * statistics.mean(accuracies):.2f}%, "
                     f"lowest {100 * min(accuracies):.2f}%, highest {100 * max(accuracies):.2f}%; "
                     f"median run {statistics.median(t for *_, t in rows):.1f} s")
        lines.append("    " + ", ".join(f"{100 * a:.2f}" for _, a, _ in rows))
    (out / "seeds.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
