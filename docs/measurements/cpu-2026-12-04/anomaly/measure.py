"""What md.detect_anomaly() costs a training step on the CPU (the robustness page quotes it).

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/anomaly/measure.py OUT

One SGD step of nn.Sequential MLPs (NumPy backend), with and without ``md.detect_anomaly()`` around it,
in 7 interleaved rounds (order alternating) of N steps each, process CPU time; the median over rounds.
Writes OUT/anomaly.json and OUT/anomaly.txt, with the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "benchmarks"))

import minidl as md  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
import minidl.optim as optim  # noqa: E402

SHAPES = {"784-128-128-10, batch 64": ((784, 128, 128, 10), 64, 200),
          "784-1024-1024-10, batch 512": ((784, 1024, 1024, 10), 512, 10)}


def make_step(sizes, batch):
    md.manual_seed(0)
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    x, y = md.randn(batch, sizes[0]), md.tensor([i % sizes[-1] for i in range(batch)])

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step


def main() -> None:
    from mlp_step import environment  # the machine line every benchmark writes

    out = Path(sys.argv[1])
    machine = environment("cpu")
    results = {}
    for name, (sizes, batch, steps) in SHAPES.items():
        step = make_step(sizes, batch)
        modes = {"off": contextlib.nullcontext, "on": md.detect_anomaly}
        for mode in modes.values():
            with mode():
                step(), step()
        times = {m: [] for m in modes}
        for round_ in range(7):
            for m in (list(modes) if round_ % 2 == 0 else list(modes)[::-1]):
                with modes[m]():
                    start = time.process_time()
                    for _ in range(steps):
                        step()
                    times[m].append((time.process_time() - start) / steps * 1e3)
        off, on = statistics.median(times["off"]), statistics.median(times["on"])
        results[name] = {"steps_per_round": steps, "off_ms": off, "on_ms": on, "ratio": on / off, "rounds_ms": times}
    stored = {"what": "one SGD step with and without md.detect_anomaly(), NumPy backend, process CPU time, "
                      "median of 7 interleaved rounds", "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": machine, "load_average_after": os.getloadavg(), "shapes": results}
    out.mkdir(parents=True, exist_ok=True)
    (out / "anomaly.json").write_text(json.dumps(stored, indent=1) + "\n")
    lines = [f"{stored['what']}; {stored['measured']}",
             f"machine: {machine['cpu_model']}, {machine['cpus']} cores, Python {machine['python']}, NumPy "
             f"{machine['numpy']}, BLAS env {machine['blas_env']}, load average {machine['load_average_before'][0]:.2f} "
             f"before, {stored['load_average_after'][0]:.2f} after", ""]
    lines += [f"{name:30s} off {r['off_ms']:8.3f} ms   on {r['on_ms']:8.3f} ms   on/off {r['ratio']:.2f}x"
              for name, r in results.items()]
    (out / "anomaly.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
