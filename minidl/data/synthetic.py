"""Synthetic data sets, generated on the spot (no file, no dependency)."""

from __future__ import annotations

import numpy

from minidl.data.dataset import TensorDataset


def spiral(n_per_class: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0) -> TensorDataset:
    """Points on ``classes`` interleaved spiral arms in the plane: features (N, 2) float32, labels (N,) int64.

    The classic data set of CS231n: arm ``k`` sweeps the angle from ``4k`` to
    ``4(k+1)`` radians while its radius grows from 0 to 1, with Gaussian noise
    of standard deviation ``noise`` added to the angle. A linear model cannot
    separate the arms; a small MLP can. Samples are ordered class by class.

    >>> import minidl as md
    >>> ds = md.data.spiral(n_per_class=50, classes=3)
    >>> len(ds), ds.arrays[0].shape, sorted(set(ds.arrays[1].tolist()))
    (150, (150, 2), [0, 1, 2])
    """
    if n_per_class < 1 or classes < 1:
        raise ValueError(f"spiral needs n_per_class >= 1 and classes >= 1, got {n_per_class} and {classes}")
    rng = numpy.random.default_rng(seed)
    radius = numpy.linspace(0.0, 1.0, n_per_class)
    points, labels = [], []
    for k in range(classes):
        angle = numpy.linspace(4.0 * k, 4.0 * (k + 1), n_per_class) + rng.normal(0.0, noise, n_per_class)
        points.append(numpy.stack([radius * numpy.sin(angle), radius * numpy.cos(angle)], axis=1))
        labels.append(numpy.full(n_per_class, k))
    return TensorDataset(numpy.concatenate(points).astype(numpy.float32), numpy.concatenate(labels))
