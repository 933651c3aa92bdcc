"""Random tensors, drawn on the host so that one seed gives the same numbers on every backend.

Every function takes ``generator=`` (an :class:`md.Generator <minidl.backend.random.Generator>`);
without one it draws from minidl's shared generator, reseeded by
``md.manual_seed``. The numbers are NumPy's (``default_rng``), not
PyTorch's: the same seed gives different values in the two libraries.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy  # the host format: samples are drawn with NumPy, then moved to the backend

from minidl import backend as _backend
from minidl.autograd.dtypes import DEFAULT_FLOAT, as_dtype, int64
from minidl.autograd.tensor import Tensor
from minidl.ops.creation import ShapeLike, _shape, tensor
from minidl.ops.spelling import torch_keywords


def _float_tensor(host: Any, dtype: Any, requires_grad: bool, backend: Any, device: Any) -> Tensor:
    chosen = as_dtype(dtype or DEFAULT_FLOAT)
    return tensor(host.astype(chosen.name), dtype=chosen, requires_grad=requires_grad, backend=backend,
                  device=device)


@torch_keywords
def randn(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False, backend: str | None = None,
          device: Any = None, generator: Any = None) -> Tensor:
    """Standard normal samples."""
    host = _backend.rng_of(generator).standard_normal(_shape(shape))
    return _float_tensor(host, dtype, requires_grad, backend, device)


@torch_keywords
def rand(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False, backend: str | None = None,
         device: Any = None, generator: Any = None) -> Tensor:
    """Uniform samples in ``[0, 1)``."""
    host = _backend.rng_of(generator).random(_shape(shape))
    return _float_tensor(host, dtype, requires_grad, backend, device)


def randn_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Standard normal samples in ``other``'s shape, dtype and backend."""
    return randn(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad, backend=other.backend,
                 generator=generator)


def rand_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Uniform samples in ``[0, 1)`` in ``other``'s shape, dtype and backend."""
    return rand(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad, backend=other.backend,
                generator=generator)


@torch_keywords
def normal(mean: Any = 0.0, std: Any = 1.0, size: Sequence[int] | None = None, generator: Any = None,
           dtype: Any = None, backend: str | None = None, device: Any = None) -> Tensor:
    """Normal samples: ``mean`` and ``std`` are numbers (give ``size``) or tensors (broadcast together)."""
    mean_host = mean.numpy() if isinstance(mean, Tensor) else numpy.asarray(mean, dtype=numpy.float64)
    std_host = std.numpy() if isinstance(std, Tensor) else numpy.asarray(std, dtype=numpy.float64)
    if numpy.any(std_host < 0):
        raise ValueError("normal: std must be non-negative")
    shape = numpy.broadcast_shapes(mean_host.shape, std_host.shape) if size is None else _shape((size,))
    host = mean_host + std_host * _backend.rng_of(generator).standard_normal(shape)
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    if like is not None:
        dtype, backend = dtype or like.dtype, backend or like.backend
    return _float_tensor(host, dtype, False, backend, device)


@torch_keywords
def randint(*args: Any, size: Sequence[int] | None = None, generator: Any = None, dtype: Any = None,
            backend: str | None = None, device: Any = None) -> Tensor:
    """Integers in ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)`` (int64)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint takes (high, size) or (low, high, size), e.g. md.randint(0, 10, (3,))")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be larger than low ({low})")
    host = _backend.rng_of(generator).integers(low, high, size=_shape((size,)))
    return tensor(host, dtype=dtype or int64, backend=backend, device=device)


@torch_keywords
def randperm(n: int, generator: Any = None, dtype: Any = None, backend: str | None = None,
             device: Any = None) -> Tensor:
    """A random order of ``0 .. n-1`` (int64)."""
    host = _backend.rng_of(generator).permutation(int(n))
    return tensor(host, dtype=dtype or int64, backend=backend, device=device)


def multinomial(weights: Tensor, num_samples: int, replacement: bool = False, generator: Any = None) -> Tensor:
    """Draw class indices with probability proportional to ``weights`` (one row, or one draw-set per row).

    Without ``replacement`` no index repeats within a row, so a row needs at
    least ``num_samples`` nonzero weights.

    >>> import minidl as md
    >>> md.multinomial(md.tensor([0.0, 1.0, 0.0]), 2, replacement=True).tolist()
    [1, 1]
    """
    host = numpy.asarray(weights.numpy(), dtype=numpy.float64)
    if host.ndim not in (1, 2):
        raise ValueError(f"multinomial needs a 1-D or 2-D tensor of weights, got shape {weights.shape}")
    rows = host.reshape(-1, host.shape[-1])
    if (rows < 0).any() or not numpy.isfinite(rows).all():
        raise ValueError("multinomial: weights must be finite and non-negative")
    rng = _backend.rng_of(generator)
    drawn = numpy.empty((rows.shape[0], int(num_samples)), dtype=numpy.int64)
    for i, row in enumerate(rows):
        total = row.sum()
        if total <= 0:
            raise ValueError(f"multinomial: row {i} of the weights adds up to 0")
        if not replacement and num_samples > numpy.count_nonzero(row):
            raise ValueError(f"multinomial: cannot draw {num_samples} distinct indices from row {i}, which has "
                             f"{numpy.count_nonzero(row)} nonzero weights; pass replacement=True")
        drawn[i] = rng.choice(row.shape[0], size=int(num_samples), replace=bool(replacement), p=row / total)
    return tensor(drawn.reshape(host.shape[:-1] + (int(num_samples),)), dtype=int64, backend=weights.backend)


def bernoulli(probabilities: Tensor, generator: Any = None) -> Tensor:
    """1 with probability ``probabilities`` (elementwise), else 0, in the input's dtype."""
    host = _backend.rng_of(generator).random(probabilities.shape) < probabilities.numpy()
    return tensor(host, dtype=probabilities.dtype, backend=probabilities.backend)
