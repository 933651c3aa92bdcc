"""What holding replaced gradients until step(), and updating in place, save: page faults and time per step.

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/gradient-release/measure.py OUT

One SGD step (lr 0.01, no momentum) of nn.Sequential 784-1024-1024-10 on the NumPy backend, three ways,
each in a process of its own (glibc's allocator adapts its thresholds to a process's history), in
interleaved rounds whose order alternates:

- ``shipped``: minidl as it is: ``zero_grad()`` keeps the replaced gradient arrays until ``step()``,
  and ``optim.SGD`` updates each parameter's array in place (``p.data -= lr * g``);
- ``free-at-once``: the same, with ``zero_grad()`` letting the old gradients go at once
  (``free_replaced_gradients_at_once``, the switch md.compile uses while tracing);
- ``out-of-place``: the shipped ``zero_grad()``, and an update that makes a new array per parameter
  (``p.data = p.data - lr * g``).

Per step: minor page faults (``getrusage``), process CPU time and wall time; the median over rounds.
Writes OUT/gradient_release.json and OUT/gradient_release.txt, with the machine.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
VARIANTS = ("shipped", "free-at-once", "out-of-place")
SIZES = (784, 1024, 1024, 10)


def run_one(variant: str, batch: int, steps: int) -> dict:
    import minidl as md
    import minidl.nn as nn
    import minidl.nn.functional as F
    import minidl.optim as optim
    from minidl.optim.optimizer import free_replaced_gradients_at_once

    class OutOfPlaceSGD(optim.SGD):
        def update(self) -> None:
            for group in self.param_groups:
                for p, grad in self.gradients(group):
                    p.data = p.data - group["lr"] * grad

    md.manual_seed(0)
    layers = []
    for fan_in, fan_out in zip(SIZES, SIZES[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    optimizer = (OutOfPlaceSGD if variant == "out-of-place" else optim.SGD)(model.parameters(), lr=0.01)
    x, y = md.randn(batch, SIZES[0]), md.tensor([i % SIZES[-1] for i in range(batch)])

    def step() -> None:
        if variant == "free-at-once":
            with free_replaced_gradients_at_once():
                optimizer.zero_grad()
        else:
            optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(5):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(steps):
        step()
    return {"faults_per_step": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps,
            "cpu_ms": (time.process_time() - cpu) / steps * 1e3, "wall_ms": (time.perf_counter() - wall) / steps * 1e3}


def main() -> None:
    if sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        return
    out = Path(sys.argv[1])
    rounds, plan = 5, {64: 60, 512: 12}
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from mlp_step import environment  # the machine line every benchmark writes

    machine = environment("cpu")
    results: dict = {}
    for batch, steps in plan.items():
        per_variant: dict = {v: [] for v in VARIANTS}
        for r in range(rounds):
            for variant in (VARIANTS if r % 2 == 0 else VARIANTS[::-1]):
                done = subprocess.run([sys.executable, __file__, "--one", variant, str(batch), str(steps)],
                                      capture_output=True, text=True, check=True, cwd=ROOT,
                                      env=dict(os.environ, PYTHONPATH=str(ROOT)))
                per_variant[variant].append(json.loads(done.stdout))
        results[str(batch)] = {v: {key: statistics.median(run[key] for run in runs) for key in runs[0]} | {"rounds": runs}
                               for v, runs in per_variant.items()}
    stored = {"what": "one SGD step of nn.Sequential 784-1024-1024-10 (NumPy backend), three ways, see measure.py",
              "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rounds": rounds,
              "steps_per_round": plan, "machine": machine, "load_average_after": os.getloadavg(), "batches": results}
    out.mkdir(parents=True, exist_ok=True)
    (out / "gradient_release.json").write_text(json.dumps(stored, indent=1) + "\n")
    lines = [f"{stored['what']}; medians of {rounds} interleaved rounds, each variant in its own process; "
             f"{stored['measured']}",
             f"machine: {machine['cpu_model']}, {machine['cpus']} cores, Python {machine['python']}, NumPy "
             f"{machine['numpy']}, BLAS env {machine['blas_env']}, load average {machine['load_average_before'][0]:.2f} "
             f"before, {stored['load_average_after'][0]:.2f} after"]
    for batch, variants in results.items():
        shipped = variants["shipped"]
        lines += ["", f"batch {batch}        page faults/step   CPU ms/step   wall ms/step   CPU vs shipped"]
        for name, m in variants.items():
            lines.append(f"  {name:14s} {m['faults_per_step']:16.0f} {m['cpu_ms']:13.2f} {m['wall_ms']:14.2f}"
                         f" {m['cpu_ms'] / shipped['cpu_ms'] - 1:+15.1%}")
    (out / "gradient_release.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
