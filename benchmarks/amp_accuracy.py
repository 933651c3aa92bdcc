"""Does mixed precision train as well? The same MLP trained in FP32, TF32 and FP16-autocast, same seed and batches.

    python benchmarks/amp_accuracy.py --device cuda OUT            # on a GPU: 600 steps, a few seconds per mode
    python benchmarks/amp_accuracy.py --steps 5 --hidden 32 OUT    # a CPU smoke run (NumPy float16 is slow)

Trains a ReLU MLP 64-H-H-10 on the 8x8 digits (train split) with SGD and
momentum, in minibatches drawn by one seed, once per mode:

- ``fp32``: ``md.set_matmul_precision("highest")``;
- ``tf32``: ``md.set_matmul_precision("high")`` (TF32 tensor cores on CuPy; no effect on NumPy);
- ``amp``: ``md.autocast(dtype=md.float16)`` around the forward, and ``md.amp.GradScaler``.

Reports each mode's final loss on the test split, its accuracy, the number of
skipped steps, the wall time per step, and the test loss relative to FP32's
(the issue's goal: within 1%). Writes ``OUT/amp_accuracy.json`` and ``.txt``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minidl as md  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
import minidl.optim as optim  # noqa: E402

MODES = ("fp32", "tf32", "amp")


def train(mode: str, steps: int, hidden: int, batch: int) -> dict:
    md.set_matmul_precision("high" if mode == "tf32" else "highest")
    images, labels = md.data.digits("train").arrays
    test_images, test_labels = md.data.digits("test").arrays
    x, y = md.tensor(images), md.tensor(labels)
    x_test, y_test = md.tensor(test_images), md.tensor(test_labels)
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, 10))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scaler = md.amp.GradScaler(enabled=mode == "amp")
    import numpy

    order = numpy.random.default_rng(1).integers(0, len(images), size=(steps, batch))
    skipped, started = 0, time.perf_counter()
    for step in range(steps):
        rows = md.tensor(order[step])
        optimizer.zero_grad()
        with md.autocast(dtype=md.float16, enabled=mode == "amp"):
            loss = F.cross_entropy(model(x[rows]), y[rows])
        scale = scaler.get_scale()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        skipped += scaler.get_scale() < scale  # the scale drops exactly when a step was skipped
    train_loss = loss.item()  # reads the device: the time below includes all queued work
    seconds = (time.perf_counter() - started) / steps
    with md.no_grad(), md.autocast(dtype=md.float16, enabled=mode == "amp"):
        logits = model(x_test)
        test_loss = F.cross_entropy(logits, y_test).item()
        accuracy = float((md.tensor(logits.numpy().argmax(axis=1)) == y_test).numpy().mean())
    md.set_matmul_precision("highest")
    return {"mode": mode, "steps": steps, "train_loss": train_loss, "test_loss": test_loss,
            "test_accuracy": accuracy, "skipped_steps": int(skipped), "ms_per_step": seconds * 1e3,
            "final_scale": scaler.get_scale()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args(argv)
    md.set_backend("cupy" if args.device == "cuda" else "numpy")
    results = [train(mode, args.steps, args.hidden, args.batch) for mode in MODES]
    reference = results[0]["test_loss"]
    lines = [f"MLP 64-{args.hidden}-{args.hidden}-10 on digits, {args.steps} SGD steps of {args.batch}, "
             f"backend {md.get_backend()}",
             f"{'mode':6s}{'test loss':>11s}{'vs fp32':>9s}{'accuracy':>10s}{'skipped':>9s}{'ms/step':>9s}"]
    for row in results:
        row["test_loss_vs_fp32"] = row["test_loss"] / reference - 1
        lines.append(f"{row['mode']:6s}{row['test_loss']:11.4f}{row['test_loss_vs_fp32'] * 100:8.2f}%"
                     f"{row['test_accuracy'] * 100:9.1f}%{row['skipped_steps']:9d}{row['ms_per_step']:9.2f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "amp_accuracy.json").write_text(json.dumps({"backend": md.get_backend(), "hidden": args.hidden,
                                                            "batch": args.batch, "results": results}, indent=1))
    (args.out / "amp_accuracy.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
