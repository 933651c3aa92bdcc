"""Normalisation layers: batch norm (per channel), layer norm and RMS norm (per sample).

The running mean and variance are buffers: saved in ``state_dict``, moved
by ``to``, but not learned.  ``model.train()`` normalises with batch
statistics (and updates the running ones); ``model.eval()`` uses the
running ones.  ``LayerNorm`` and ``RMSNorm`` normalise each sample over its
last axes and behave the same in both modes.
"""

from __future__ import annotations

from typing import Sequence

from minidl.autograd.dtypes import as_dtype
from minidl.autograd.tensor import Tensor
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter
from minidl.ops.creation import ones, zeros
from minidl.ops.normalization import batch_norm, layer_norm, rms_norm


class _BatchNorm(Module):
    accepted_ndims: tuple[int, ...] = ()
    input_text = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None, backend: str | None = None) -> None:
        super().__init__()
        if num_features <= 0:
            raise ValueError(f"{type(self).__name__} needs a positive number of features, got {num_features}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = as_dtype(dtype) if dtype is not None else None
        shape = (num_features,)
        self.weight = Parameter(ones(shape, dtype=dtype, backend=backend)) if affine else None
        self.bias = Parameter(zeros(shape, dtype=dtype, backend=backend)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(shape, dtype=dtype, backend=backend))
            self.register_buffer("running_var", ones(shape, dtype=dtype, backend=backend))
        else:
            self.running_mean = self.running_var = None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self.accepted_ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}) expects input of shape "
                             f"{self.input_text} with C={self.num_features}, got {x.shape}")
        use_batch_statistics = self.training or self.running_mean is None
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=use_batch_statistics, momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm for (N, C) or (N, C, L) inputs (after a Linear layer, or on sequences).

    >>> import minidl as md, minidl.nn as nn
    >>> bn = nn.BatchNorm1d(4)
    >>> bn(md.randn(8, 4)).shape, [name for name in bn.state_dict()]
    ((8, 4), ['weight', 'bias', 'running_mean', 'running_var'])
    """

    accepted_ndims = (2, 3)
    input_text = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, C, H, W) images, one mean and variance per channel (after a Conv2d)."""

    accepted_ndims = (4,)
    input_text = "(N, C, H, W)"


def _shape_tuple(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    shape = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(d) for d in normalized_shape)
    if not shape or min(shape) <= 0:
        raise ValueError(f"normalized_shape must be positive sizes, got {normalized_shape!r}")
    return shape


class LayerNorm(Module):
    """Standardise each sample over its last axes, then scale (``weight``) and shift (``bias``), as in PyTorch.

    >>> import minidl as md, minidl.nn as nn
    >>> norm = nn.LayerNorm(8)
    >>> norm(md.randn(2, 5, 8)).shape, list(norm.state_dict())
    ((2, 5, 8), ['weight', 'bias'])
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None, backend: str | None = None) -> None:
        super().__init__()
        self.normalized_shape, self.eps = _shape_tuple(normalized_shape), float(eps)
        self.elementwise_affine = elementwise_affine
        dtype = as_dtype(dtype) if dtype is not None else None
        shape = self.normalized_shape
        self.weight = Parameter(ones(shape, dtype=dtype, backend=backend)) if elementwise_affine else None
        self.bias = Parameter(zeros(shape, dtype=dtype, backend=backend)) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class RMSNorm(Module):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last axes; ``eps=None`` is the dtype's epsilon (PyTorch).

    >>> import minidl as md, minidl.nn as nn
    >>> [round(v, 3) for v in nn.RMSNorm(2)(md.tensor([3.0, 4.0])).tolist()]
    [0.849, 1.131]
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, dtype=None, backend: str | None = None) -> None:
        super().__init__()
        self.normalized_shape, self.eps = _shape_tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        dtype = as_dtype(dtype) if dtype is not None else None
        self.weight = (Parameter(ones(self.normalized_shape, dtype=dtype, backend=backend))
                       if elementwise_affine else None)

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
