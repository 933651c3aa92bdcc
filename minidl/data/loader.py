"""DataLoader: batches of a dataset, as Tensors on the current backend.

Each batch costs one fancy-indexing call per array on the host (``x[indices]``)
and one host-to-device transfer per array: no per-sample Python work when the
dataset has a ``get_batch`` method (TensorDataset and every built-in data set do).
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy

from minidl import backend as _backend
from minidl.data.dataset import Dataset, _host_array, to_tensors


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    Every epoch (every ``for`` loop over the loader) visits each sample exactly
    once. With ``shuffle=True`` the order is a fresh permutation each epoch,
    drawn from ``numpy.random.default_rng(seed)`` when a ``seed`` is given (the
    same seed gives the same sequence of epochs), else from minidl's host
    generator (so ``md.manual_seed`` makes it reproducible). ``drop_last``
    skips a final, smaller batch. A ``sampler`` (an iterable of indices with a
    length, such as `DistributedSampler`) chooses the order instead of
    ``shuffle``. Batches are tuples of Tensors on ``backend``
    (by default the backend current when the batch is made).

    >>> import minidl as md
    >>> ds = md.data.TensorDataset(md.arange(10), md.arange(10) * 2)
    >>> loader = md.data.DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    >>> [x.shape for x, y in loader]
    [(4,), (4,), (2,)]
    >>> len(loader)
    3
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, seed: int | None = None,
                 drop_last: bool = False, backend: str | None = None, sampler: Any = None) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader needs a dataset with __len__ and __getitem__, got {type(dataset).__name__}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other; the sampler decides the "
                             "order (DistributedSampler shuffles itself: pass shuffle=True to it)")
        self.dataset = dataset
        self.sampler = sampler
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.drop_last = bool(drop_last)
        self.backend = None if backend is None else _backend.resolve_name(backend)
        self._rng = None if seed is None else numpy.random.default_rng(seed)

    def __len__(self) -> int:
        """The number of batches per epoch."""
        full, rest = divmod(len(self.dataset) if self.sampler is None else len(self.sampler), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def _order(self) -> numpy.ndarray:
        if self.sampler is not None:
            return numpy.fromiter(self.sampler, dtype=numpy.int64)
        n = len(self.dataset)
        if not self.shuffle:
            return numpy.arange(n)
        rng = self._rng if self._rng is not None else _backend.host_rng()
        return rng.permutation(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        stop = len(self) * self.batch_size
        get_batch = getattr(self.dataset, "get_batch", None)
        for start in range(0, stop, self.batch_size):
            indices = order[start:start + self.batch_size]
            if get_batch is not None:
                yield to_tensors(get_batch(indices), self.backend)
            else:
                yield self._collate([self.dataset[int(i)] for i in indices])

    def _collate(self, samples: list[Any]) -> Any:
        """Stack samples field by field: a list of (x, y) tuples becomes a tuple (X, Y)."""
        if isinstance(samples[0], (tuple, list)):
            fields = zip(*samples)
            return to_tensors([numpy.stack([_host_array(v, i) for v in f]) for i, f in enumerate(fields)],
                              self.backend)
        return to_tensors([numpy.stack([_host_array(v, 0) for v in samples])], self.backend)[0]

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})")
