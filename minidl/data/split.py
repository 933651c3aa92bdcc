"""Part of a data set: `Subset`, and `random_split` into pieces that do not overlap (PyTorch's names).

A Subset holds its parent and a list of indices; reading sample ``i`` reads
``parent[indices[i]]``, and a batch is gathered from the parent in one
``get_batch`` call when the parent has one, so a split keeps the DataLoader's
fast path.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy

from minidl.backend.random import Generator, rng_of
from minidl.data.dataset import Dataset


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> import minidl as md
    >>> ds = md.data.TensorDataset(md.arange(10))
    >>> part = md.data.Subset(ds, [7, 2, 5])
    >>> len(part), int(part[0][0]), [int(v) for v in part.get_batch([1, 2])[0]]
    (3, 7, [2, 5])
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = numpy.asarray(indices, dtype=numpy.int64).reshape(-1)
        size = len(dataset)
        if self.indices.size and (self.indices.min() < -size or self.indices.max() >= size):
            raise IndexError(f"Subset: indices run from {int(self.indices.min())} to {int(self.indices.max())}, "
                             f"out of range for a data set of {size} samples (valid: {-size} to {size - 1})")

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __getattr__(self, name: str) -> Any:
        if name == "get_batch" and "dataset" in self.__dict__ and hasattr(self.dataset, "get_batch"):  # only when the parent gathers batches
            return lambda indices: self.dataset.get_batch(self.indices[numpy.asarray(indices, dtype=numpy.int64)])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {len(self.dataset)} samples)"


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: Generator | None = None) -> list[Subset]:
    """``dataset`` shuffled and cut into Subsets of ``lengths`` (counts adding up to ``len(dataset)``, or
    fractions adding up to 1, whose remainders go one each to the first pieces, as in PyTorch).

    The shuffle draws from ``generator`` (an ``md.Generator``) or minidl's host generator, so
    ``md.manual_seed`` makes it repeatable; the order differs from PyTorch's (another generator).

    >>> import minidl as md
    >>> train, valid = md.data.random_split(md.data.TensorDataset(md.arange(10)), [0.8, 0.2],
    ...                                     generator=md.Generator().manual_seed(0))
    >>> len(train), len(valid), sorted(int(train[i][0]) for i in range(8)) != list(range(8))
    (8, 2, True)
    """
    size = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(n, float) for n in lengths) and math.isclose(sum(lengths), 1.0):
        if any(n < 0 for n in lengths):
            raise ValueError(f"random_split: fractions must not be negative, got {lengths}")
        counts = [int(math.floor(size * fraction)) for fraction in lengths]
        for i in range(size - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(n, (int, numpy.integer)) or n < 0 for n in lengths) or sum(lengths) != size:
        raise ValueError(f"random_split: lengths {lengths} must be counts adding up to the data set's "
                         f"{size} samples, or fractions adding up to 1")
    order = rng_of(generator).permutation(size)
    pieces, start = [], 0
    for length in lengths:
        pieces.append(Subset(dataset, order[start:start + length]))
        start += int(length)
    return pieces
