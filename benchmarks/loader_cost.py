"""What one batch of the data loader costs, next to one training step of the digits MLP (chapter 5.2).

    python benchmarks/loader_cost.py docs/measurements/cpu-2026-12-03     # one BLAS thread

Times one epoch of ``DataLoader(digits("train"), batch_size=32, shuffle=True)`` per backend
(NumPy and array-api-strict: the batch's gather and its move to the backend), divided by the
number of batches, and one Adam step of ``examples/train_mlp.py``'s model on NumPy; best of
``--repeats`` (other work on a shared machine only adds time).  Writes ``OUT/loader_cost.txt``
with the machine line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent / "examples")]
    import minidl as md
    import minidl.nn.functional as F
    from mlp_step import environment
    from train_mlp import build_model

    lines = []
    train = md.data.digits("train")
    for backend in ("numpy", "array_api_strict"):
        with md.using_backend(backend):
            loader = md.data.DataLoader(train, batch_size=32, shuffle=True)
            seconds = min(timeit.repeat(lambda: [None for _ in loader], number=1, repeat=args.repeats)) / len(loader)
        lines.append(f"loader, batch of 32 digits, {backend:17s} {seconds * 1e6:8.1f} us per batch")
    with md.using_backend("numpy"):
        md.manual_seed(0)
        model = build_model()
        optimizer = md.optim.Adam(model.parameters(), lr=3e-3)
        x, y = next(iter(md.data.DataLoader(train, batch_size=32)))

        def step():
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()

        step()
        seconds = min(timeit.repeat(step, number=20, repeat=args.repeats)) / 20
    lines.append(f"train_mlp.py's model, one Adam step, batch 32, numpy {seconds * 1e6:8.1f} us per step")
    env = environment("cpu")
    header = (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, best of {args.repeats}; {env['cpu_model']}, "
              f"{env['cpus']} cores, Python {env['python']}, NumPy {env['numpy']}, one BLAS thread, "
              f"load average {env['load_average_before'][0]:.1f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "loader_cost.txt").write_text("\n".join([header, *lines]) + "\n")
    print("\n".join([header, *lines]))


if __name__ == "__main__":
    main()
