"""Classify three interleaved spirals with a small MLP; save the decision boundary and the loss curve.

    python examples/spiral.py                      # writes spiral.png
    python examples/spiral.py --out docs/img/spiral.png --backend array_api_strict

No straight line separates the spiral arms: the hidden layers bend the plane
until a linear classifier (the last layer) can cut it. The picture shows the
regions the trained network assigns to each class.
"""

from __future__ import annotations

import sys
from typing import Sequence

import numpy

import minidl as md
import minidl.nn as nn
import minidl.optim as optim

from _common import fit, parser


def build_model(hidden: int = 64, classes: int = 3) -> nn.Module:
    """2 coordinates -> ``hidden`` -> ``hidden`` -> one score per class."""
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, classes))


def predict_grid(model: nn.Module, low: float, high: float, steps: int) -> tuple[numpy.ndarray, ...]:
    """The predicted class at every point of a ``steps`` x ``steps`` grid over the square [low, high]^2."""
    axis = numpy.linspace(low, high, steps, dtype=numpy.float32)
    grid_x, grid_y = numpy.meshgrid(axis, axis)
    points = md.tensor(numpy.stack([grid_x.ravel(), grid_y.ravel()], axis=1))
    model.eval()
    with md.no_grad():
        classes = model(points).numpy().argmax(axis=1)
    return grid_x, grid_y, classes.reshape(grid_x.shape)


def plot(model: nn.Module, data: md.data.TensorDataset, history: dict[str, list[float]], path: str) -> None:
    """Decision regions with the training points on the left, the loss curve on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points, labels = data.arrays
    grid_x, grid_y, classes = predict_grid(model, -1.2, 1.2, 300)
    count = int(labels.max()) + 1
    colors = matplotlib.colors.ListedColormap(plt.get_cmap("tab10").colors[:count])  # class k: one colour
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.contourf(grid_x, grid_y, classes, levels=numpy.arange(count + 1) - 0.5, cmap=colors, alpha=0.25)
    left.scatter(points[:, 0], points[:, 1], c=labels, cmap=colors, vmin=-0.5, vmax=count - 0.5, s=10,
                 edgecolors="k", linewidths=0.3)
    left.set(title="decision regions", aspect="equal", xticks=[], yticks=[])
    right.plot(numpy.arange(1, len(history["loss"]) + 1), history["loss"])
    right.set(title="training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
    right.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> float:
    """Run the example with command-line arguments ``argv``; returns the accuracy on fresh spiral points."""
    p = parser(__doc__.splitlines()[0], plot=False, epochs=100, lr=1e-2, batch_size=32)
    p.add_argument("--out", default="spiral.png", help="where to save the picture (default: spiral.png)")
    args = p.parse_args(argv)
    epochs = min(args.epochs, 5) if args.quick else args.epochs
    try:
        import matplotlib  # noqa: F401  (fail before training, not after)
    except ImportError:
        sys.exit("spiral.py draws its result with matplotlib: pip install matplotlib (or 'minidl[examples]')")

    with md.using_backend(args.backend):
        md.manual_seed(args.seed)
        train_set = md.data.spiral(n_per_class=100, classes=3, seed=args.seed)
        test_set = md.data.spiral(n_per_class=100, classes=3, seed=args.seed + 1000)  # new noise, same arms
        train = md.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed)
        test = md.data.DataLoader(test_set, batch_size=len(test_set))
        model = build_model()
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        history = fit(model, optimizer, train, test, epochs, quiet=True, scheduler=scheduler,
                      compile=args.compile)
        plot(model, train_set, history, args.out)

    accuracy = history["accuracy"][-1]
    print(f"accuracy on fresh spiral points: {100 * accuracy:.1f}% after {epochs} epochs "
          f"(final loss {history['loss'][-1]:.4f}); saved {args.out}")
    return accuracy


if __name__ == "__main__":
    main(sys.argv[1:])
