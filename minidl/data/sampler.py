"""DistributedSampler: each rank's share of a data set, a fresh shuffle every epoch.

Every rank draws the same permutation (from ``seed + epoch``), pads it by
repeating its start until it divides evenly (or, with ``drop_last``, cuts the
tail), and takes every ``num_replicas``-th index from its ``rank`` on: the
ranks' shards are disjoint and together cover the data set, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy


class DistributedSampler:
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` visits this epoch.

    ``num_replicas`` and ``rank`` default to the current process group's. Call
    ``set_epoch(epoch)`` at the start of each epoch, or every epoch repeats the
    first one's order. The permutation comes from
    ``numpy.random.default_rng(seed + epoch)`` (PyTorch's comes from its own
    generator, so the orders differ; the padding and striding are PyTorch's).

    >>> import minidl as md
    >>> ds = md.data.TensorDataset(md.arange(10))
    >>> [list(md.data.DistributedSampler(ds, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    >>> loader = md.data.DataLoader(ds, batch_size=2, sampler=md.data.DistributedSampler(ds, 2, 0, seed=1))
    >>> len(loader)
    3
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from minidl.distributed.group import current_group
            group = current_group("DistributedSampler (without num_replicas and rank)")
            num_replicas = group.size if num_replicas is None else num_replicas
            rank = group.rank if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in [0, {num_replicas - 1}], got {rank!r}")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of this epoch (the same on every rank: ``seed + epoch``)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = numpy.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = numpy.arange(n)
        if self.total_size > n:  # pad by repeating from the start, as often as needed
            indices = numpy.resize(indices, self.total_size)
        indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas].tolist())
