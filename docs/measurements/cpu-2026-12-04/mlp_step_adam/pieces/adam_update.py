"""Adam's update alone on the six parameters of the 784-128-128-10 MLP: the plain form (seven new arrays per
parameter) against minidl's (four, the others updated in place). In-process, 15 interleaved blocks of 300 updates,
process CPU time, medians. Run from the repository root with OPENBLAS_NUM_THREADS=1."""
import os
import platform
import statistics
import time

import numpy as np

rng = np.random.default_rng(0)
shapes = [(128, 784), (128,), (128, 128), (128,), (10, 128), (10,)]
params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
first = [np.zeros_like(p) for p in params]
second = [np.zeros_like(p) for p in params]
beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, 1e-3


def plain(t):
    root_correction2 = (1 - beta2 ** t) ** 0.5
    step_size = lr * root_correction2 / (1 - beta1 ** t)
    for p, g, m, v in zip(params, grads, first, second):
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        p -= step_size * (m / (np.sqrt(v) + eps * root_correction2))


def in_place(t):  # the arithmetic of minidl/optim/adam.py
    root_correction2 = (1 - beta2 ** t) ** 0.5
    step_size = lr * root_correction2 / (1 - beta1 ** t)
    for p, g, m, v in zip(params, grads, first, second):
        m *= beta1
        m += (1 - beta1) * g
        squared = g * g
        squared *= 1 - beta2
        v *= beta2
        v += squared
        denominator = np.sqrt(v)
        denominator += eps * root_correction2
        change = m / denominator
        change *= step_size
        p -= change


times = {"plain (7 new arrays per parameter)": [], "in place (4 new arrays per parameter)": []}
step = 1
for _ in range(15):
    for label, update in zip(times, (plain, in_place)):
        start = time.process_time()
        for _ in range(300):
            update(step)
            step += 1
        times[label].append((time.process_time() - start) / 300 * 1e6)
print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
      f"NumPy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
      f"load average {os.getloadavg()}")
for label, values in times.items():
    print(f"{label:40s} {statistics.median(values):7.1f} us per update (blocks {min(values):.1f} to {max(values):.1f})")
