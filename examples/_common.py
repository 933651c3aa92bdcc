"""What the examples share: command-line flags, a progress bar (tqdm), one training epoch, accuracy.

Not an example itself: ``train_mlp.py``, ``train_cnn.py``, ``train_ddp.py``, ``train_gpt.py`` and ``spiral.py``
import it (Python puts a script's own folder on ``sys.path``).
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import numpy

import minidl as md
import minidl.nn.functional as F


def parser(description: str, plot: bool = True, compile: bool = True, **defaults: Any) -> argparse.ArgumentParser:
    """The flags every example takes; ``defaults`` gives each example its own epochs, lr, batch size."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--backend", default="numpy", help="numpy (CPU), cupy (GPU), array_api_strict, torch, jax, dask, ... (default: numpy)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (default: 0)")
    p.add_argument("--epochs", type=int, default=defaults["epochs"], help=f"default: {defaults['epochs']}")
    p.add_argument("--lr", type=float, default=defaults["lr"], help=f"learning rate (default: {defaults['lr']})")
    p.add_argument("--batch-size", type=int, default=defaults["batch_size"],
                   help=f"default: {defaults['batch_size']}")
    p.add_argument("--quick", action="store_true", help="a few epochs only, to check that everything runs (CI)")
    p.add_argument("--quiet", action="store_true", help="print only the final result")
    if compile:
        add_compile_flag(p)
    if plot:
        p.add_argument("--plot", metavar="PATH", help="save the loss / accuracy curves to this image (matplotlib)")
    return p


def add_compile_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--compile", action="store_true",
                   help="trace the training step once with md.compile and replay it (docs/static-graphs.md)")


def training_step(model: md.nn.Module, optimizer: Any, compile: bool = False,
                  loss_of: Callable[..., md.Tensor] | None = None, clip: float | None = None) -> Callable[..., md.Tensor]:
    """One training step ``step(x, y) -> loss``: zero_grad, forward, backward, (clip), optimizer step.

    ``loss_of(model, x, y)`` computes the loss (default: cross-entropy of
    ``model(x)``). With ``compile``, the step goes through ``md.compile``,
    one compiled step per batch shape (the last batch of an epoch may be
    smaller): optimizer state, BatchNorm statistics, dropout masks and the
    learning rate a scheduler sets are all part of the replay.
    """
    loss_of = loss_of or (lambda net, x, y: F.cross_entropy(net(x), y))

    def step(x: md.Tensor, y: md.Tensor) -> md.Tensor:
        optimizer.zero_grad()
        loss = loss_of(model, x, y)
        loss.backward()
        if clip is not None:
            md.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return loss

    if not compile:
        return step
    compiled: dict[tuple, Any] = {}

    def compiled_step(x: md.Tensor, y: md.Tensor) -> md.Tensor:
        shapes = (tuple(x.shape), tuple(y.shape))
        if shapes not in compiled:
            compiled[shapes] = md.compile(step)
        return compiled[shapes](x, y)

    return compiled_step


def progress_bar(total: int, description: str) -> Any:
    """A `tqdm` bar over one epoch's batches, drawn on a terminal only; None without tqdm.

    tqdm is in the ``examples`` extra (``pip install '.[examples]'``); without it the
    examples print only the line that ends each epoch.
    """
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=description, unit="batch", leave=False, disable=None)  # None: off when not a TTY


def train_epoch(model: md.nn.Module, loader: md.data.DataLoader, step: Callable[..., md.Tensor],
                progress: Any = None) -> float:
    """One pass over ``loader`` with ``step`` (see `training_step`). Returns the mean loss."""
    model.train()
    total, batches = None, 0
    for x, y in loader:
        loss = step(x, y)
        # Add on the device; reading the number (a GPU sync) once per epoch, not per batch.
        total = loss.detach() if total is None else total + loss.detach()
        batches += 1
        if progress is not None:
            progress.update()
    return total.item() / batches


def accuracy(model: md.nn.Module, loader: md.data.DataLoader) -> float:
    """The fraction of samples whose largest logit is the true class."""
    model.eval()
    correct, seen = 0, 0
    with md.no_grad():
        for x, y in loader:
            predicted = model(x).numpy().argmax(axis=1)
            correct += int((predicted == y.numpy()).sum())
            seen += len(y)
    return correct / seen


def fit(model: md.nn.Module, optimizer: Any, train: md.data.DataLoader, test: md.data.DataLoader, epochs: int,
        quiet: bool = False, scheduler: Any = None, compile: bool = False) -> dict[str, list[float]]:
    """Train for ``epochs``, testing after each; returns the history ``{"loss": [...], "accuracy": [...]}``.

    ``compile``: run the training step through ``md.compile`` (see `training_step`).
    """
    step = training_step(model, optimizer, compile)
    if not quiet:
        print(f"{model}\n{sum(p.size for p in model.parameters())} parameters, backend {md.get_backend()}")
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    for epoch in range(1, epochs + 1):
        description, start = f"epoch {epoch:{len(str(epochs))}d}/{epochs}", time.perf_counter()
        progress = None if quiet else progress_bar(len(train), description)
        loss = train_epoch(model, train, step, progress)
        if progress is not None:
            progress.close()
        if scheduler is not None:
            scheduler.step()
        history["loss"].append(loss)
        history["accuracy"].append(accuracy(model, test))
        if not quiet:
            print(f"{description}  {len(train)} batches  {time.perf_counter() - start:5.2f}s  loss {loss:.4f}  "
                  f"test accuracy {100 * history['accuracy'][-1]:.2f}%", flush=True)
    return history


def report(history: dict[str, list[float]], args: argparse.Namespace, test_size: int, title: str) -> float:
    """Print the final test accuracy, save the curves if ``--plot`` asked for them; return the accuracy."""
    accuracy = history["accuracy"][-1]
    epochs = len(history["loss"])
    print(f"test accuracy: {100 * accuracy:.2f}% ({test_size} test images, {epochs} epoch{'s' * (epochs != 1)})")
    if args.plot:
        plot_history(history, args.plot, f"{title} ({args.backend})")
        print(f"saved the training curves to {args.plot}")
    return accuracy


def plot_history(history: dict[str, list[float]], path: str, title: str) -> None:
    """Save the loss and test-accuracy curves side by side as an image (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    epochs = numpy.arange(1, len(history["loss"]) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.plot(epochs, history["loss"], marker="o", markersize=3)
    left.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log")
    right.plot(epochs, 100 * numpy.asarray(history["accuracy"]), marker="o", markersize=3, color="tab:green")
    right.set(xlabel="epoch", ylabel="test accuracy (%)")
    for axis in (left, right):
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
