"""Train a small convolutional network on the 8x8 digits, or on MNIST when its files are available.

    python examples/train_cnn.py                       # digits (bundled), about 99% test accuracy
    python examples/train_cnn.py --dataset mnist      # MNIST: downloads into ~/.cache/minidl on first use
    python examples/train_cnn.py --backend cupy        # on a GPU

A convolution is a matrix product too: ``F.conv2d`` unfolds every 3x3 patch
of the input into a row (im2col), and one GEMM multiplies all the patches by
all the filters at once.
"""

from __future__ import annotations

import sys
from typing import Sequence

import minidl as md
import minidl.nn as nn
import minidl.optim as optim

from _common import fit, parser, report


def build_model(image_size: int, channels: tuple[int, int] = (32, 64), hidden: int = 128) -> nn.Module:
    """Two conv-BN-ReLU-pool blocks (each halves the image) and a two-layer classifier."""
    first, second = channels
    features = second * (image_size // 4) ** 2
    return nn.Sequential(
        nn.Conv2d(1, first, 3, padding=1), nn.BatchNorm2d(first), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(first, second, 3, padding=1), nn.BatchNorm2d(second), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, 10),
    )


def load_data(name: str, quick: bool) -> tuple[md.data.TensorDataset, md.data.TensorDataset, int]:
    """(train, test, image size) as NCHW images; ``quick`` keeps MNIST to a few thousand images."""
    if name == "digits":
        return md.data.digits("train", flatten=False), md.data.digits("test", flatten=False), 8
    loader = md.data.mnist if name == "mnist" else md.data.fashion_mnist
    train, test = loader(split="train", flatten=False), loader(split="test", flatten=False)
    if quick:
        train, test = (md.data.TensorDataset(*(a[:n] for a in ds.arrays)) for ds, n in ((train, 2000), (test, 500)))
    return train, test, 28


def main(argv: Sequence[str] | None = None) -> float:
    """Run the example with command-line arguments ``argv``; returns the final test accuracy (0..1)."""
    p = parser(__doc__.splitlines()[0], epochs=20, lr=5e-3, batch_size=32)
    p.add_argument("--dataset", choices=["digits", "mnist", "fashion_mnist"], default="digits",
                   help="digits (bundled, 8x8) or mnist / fashion_mnist (28x28, downloaded on first use)")
    args = p.parse_args(argv)
    epochs = min(args.epochs, 1) if args.quick else args.epochs

    with md.using_backend(args.backend):
        md.manual_seed(args.seed)
        train_set, test_set, size = load_data(args.dataset, args.quick)
        train = md.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed)
        test = md.data.DataLoader(test_set, batch_size=500)
        model = build_model(size)
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        history = fit(model, optimizer, train, test, epochs, quiet=args.quiet, scheduler=scheduler,
                      compile=args.compile)

    return report(history, args, len(test_set), f"CNN on {args.dataset}")


if __name__ == "__main__":
    main(sys.argv[1:])
