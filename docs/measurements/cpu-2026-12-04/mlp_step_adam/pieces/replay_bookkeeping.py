"""The compiled Adam step at 784-128-128-10/64: time per call, and the part spent inside the generated program
(the rest is the replay's bookkeeping). In-process, wall clock, 5 repeats of 2,000 calls.
Run from the repository root with OPENBLAS_NUM_THREADS=1."""
import os
import platform
import sys
import time

sys.path[:0] = ["benchmarks", "."]
import mlp_adam_impls  # noqa: E402

import minidl as md  # noqa: E402

made = {}
real_compile = md.compile


def keep(function, **options):
    made["step"] = real_compile(function, **options)
    return made["step"]


md.compile = keep
step = mlp_adam_impls.build("minidl-compiled", (784, 128, 128, 10), 64, "cpu")
for _ in range(50):
    step.run()
compiled = made["step"]
entry = compiled._entry
inside = [0.0]
run_program = entry.program.run


def timed(*sources):
    start = time.perf_counter()
    result = run_program(*sources)
    inside[0] += time.perf_counter() - start
    return result


entry.program.run = timed
print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
      f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, load average {os.getloadavg()}")
for _ in range(5):
    inside[0] = 0.0
    start = time.perf_counter()
    for _ in range(2000):
        step.run()
    total = time.perf_counter() - start
    print(f"per call {total / 2000 * 1e6:6.1f} us: program {inside[0] / 2000 * 1e6:6.1f} us, "
          f"around it {(total - inside[0]) / 2000 * 1e6:5.1f} us")
