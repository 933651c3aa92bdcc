"""Normalisation: batch norm (per channel, over the batch), layer norm and RMS norm (per sample).

Batch normalisation standardises each channel over the batch, then scales and shifts.

In training, each channel ``c`` is normalised with the mean and (biased)
variance of the current batch, over every axis but the channel axis 1:

    y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c

and the running estimates are updated for evaluation, as in PyTorch:
``running = (1 - momentum) * running + momentum * batch_statistic``, with the
unbiased variance (``n / (n - 1)``).  In evaluation the running estimates
replace the batch statistics, so the output of one sample no longer
depends on the others in its batch.

The training path is composed from minidl's differentiable ops (mean,
subtract, multiply, sqrt), so its gradient, including the terms through
the batch mean and variance, comes from autograd and supports
``create_graph``.

Layer normalisation standardises each sample over its last axes (the
``normalized_shape``), with no running statistics: ``y = (x - mean) /
sqrt(var + eps) * weight + bias``.  Its standardisation is one node
(`Standardize`) whose backward is the closed form
``rstd * (g - mean(g) - y * mean(g * y))``: a transformer normalises twice per
block, and one node costs far less than the nine of the composed formula.
RMS norm skips the centring: ``y = x / sqrt(mean(x^2) + eps) * weight``.
"""

from __future__ import annotations

from typing import Sequence

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.dtypes import float16
from minidl.autograd.function import Function, check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.ops.autocasting import cast_to_float32
from minidl.ops.checks import expect_tensor
from minidl.ops.elementwise import astype, sqrt
from minidl.ops.reduction import Mean, mean
from minidl.ops.shape import reshape
from minidl.ops.views import changed_in_place


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation of ``x`` (N, C) or (N, C, ...) per channel (axis 1).

    With ``training``, uses batch statistics and updates ``running_mean`` /
    ``running_var`` in place (when given); otherwise uses the running ones.

    >>> import minidl as md, minidl.nn.functional as F
    >>> x = md.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> y = F.batch_norm(x, md.zeros((2,)), md.ones((2,)), training=True)
    >>> [round(v, 3) for v in y[:, 0].tolist()]
    [-1.0, 1.0]
    """
    expect_tensor("batch_norm", x)
    if _autocast_dtype.get() is not None:  # norms in float32 under md.autocast()
        (x,) = cast_to_float32(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects an input of shape (N, C) or (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    for name, tensor in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                         ("bias", bias)):
        if tensor is not None:  # else the running statistics fail mid-update
            check_same_backend(f"batch_norm ({name})", (x, tensor))
        if tensor is not None and tensor.shape != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {tensor.shape}, expected ({channels},) for an input "
                             f"of shape {x.shape} (channels on axis 1)")
    axes = (0,) + tuple(range(2, x.ndim))
    per_channel = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // channels
        if count < 2:
            raise ValueError(f"batch_norm in training needs more than one value per channel, got input shape "
                             f"{x.shape}; use a larger batch or call model.eval()")
        batch_mean = mean(x, axis=axes, keepdims=True)
        centered = x - batch_mean
        batch_var = mean(centered * centered, axis=axes, keepdims=True)
        normalized = centered / sqrt(batch_var + eps)
        if running_mean is not None and running_var is not None:
            _update_running(running_mean, running_var, batch_mean, batch_var, momentum, count)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in evaluation needs running_mean and running_var "
                             "(or pass training=True to use batch statistics)")
        scale = reshape(running_var, per_channel) + eps
        normalized = (x - reshape(running_mean, per_channel)) / sqrt(scale)
    if weight is not None:
        normalized = normalized * reshape(weight, per_channel)
    if bias is not None:
        normalized = normalized + reshape(bias, per_channel)
    return normalized


def _update_running(running_mean: Tensor, running_var: Tensor, batch_mean: Tensor, batch_var: Tensor,
                    momentum: float, count: int) -> None:
    """Exponential moving averages on the raw arrays (no graph), with the unbiased variance, in place as in
    PyTorch: the same tensors, a new version each, and their views see the new values."""
    xp = running_mean.xp
    shape = running_mean.data.shape
    new_mean = xp.reshape(batch_mean.data, shape)
    new_var = xp.reshape(batch_var.data, shape) * (count / (count - 1))
    for running, batch in ((running_mean, new_mean), (running_var, new_var)):
        running._data = (1.0 - momentum) * running._data + momentum * xp.astype(batch, running._data.dtype)
        changed_in_place(running)


class Standardize(Function):
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` (biased variance), one node."""

    axes: tuple[int, ...]
    eps: float

    def forward(self, a):
        xp = self.xp
        centered = a - xp.mean(a, axis=self.axes, keepdims=True)
        self.rstd = 1.0 / xp.sqrt(xp.mean(centered * centered, axis=self.axes, keepdims=True) + self.eps)
        centered *= self.rstd  # in place: centered is this call's own array, and one full-size temporary less
        return centered

    def backward(self, grad, a):
        y = self.output_like(grad)
        rstd = self.saved_like(grad, self.rstd, lambda: _reciprocal_std(a, self.axes, self.eps))
        axes = self.axes
        return rstd * (grad - Mean.apply(grad, axes=axes, keepdims=True)
                       - y * Mean.apply(grad * y, axes=axes, keepdims=True))


def _reciprocal_std(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    centered = x - mean(x, axis=axes, keepdims=True)
    return 1.0 / sqrt(mean(centered * centered, axis=axes, keepdims=True) + eps)


def _normalized_axes(op: str, x: Tensor, normalized_shape: int | Sequence[int], params) -> tuple[int, ...]:
    expect_tensor(op, x)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or tuple(x.shape[-len(shape):]) != shape or x.ndim < len(shape):
        raise ValueError(f"{op}: normalized_shape {shape} must equal the last axes of the input, got input "
                         f"shape {x.shape}")
    if not x.dtype.is_floating:
        raise TypeError(f"{op} needs a floating-point tensor, got {x.dtype.name}")
    for name, tensor in params:
        if tensor is not None:
            check_same_backend(f"{op} ({name})", (x, tensor))
            if tuple(tensor.shape) != shape:
                raise ValueError(f"{op}: {name} has shape {tensor.shape}, expected normalized_shape {shape}")
    return tuple(range(x.ndim - len(shape), x.ndim))


def layer_norm(x: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Standardise over the last ``len(normalized_shape)`` axes, then scale and shift, as in PyTorch.

    >>> import minidl as md, minidl.nn.functional as F
    >>> F.layer_norm(md.tensor([[1.0, 2.0, 3.0]]), (3,)).tolist()[0][0] < -1.2
    True
    """
    axes = _normalized_axes("layer_norm", x, normalized_shape, (("weight", weight), ("bias", bias)))
    back = _float16_in_float32(x)
    if back or _autocast_dtype.get() is not None:  # norms in float32 (under md.autocast(), or float16 as PyTorch)
        x, weight, bias = cast_to_float32(x, weight, bias)
    y = Standardize.apply(x, axes=axes, eps=float(eps))
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return astype(y, float16) if back else y


def rms_norm(x: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last axes; ``eps=None`` is the dtype's machine epsilon,
    as in PyTorch."""
    axes = _normalized_axes("rms_norm", x, normalized_shape, (("weight", weight),))
    back = _float16_in_float32(x)
    if back or _autocast_dtype.get() is not None:  # norms in float32 (under md.autocast(), or float16 as PyTorch)
        x, weight = cast_to_float32(x, weight)
    if eps is None:
        eps = 2.0 ** -52 if x.dtype.name == "float64" else 2.0 ** -23
    y = x / sqrt(mean(x * x, axis=axes, keepdims=True) + float(eps))
    y = y * weight if weight is not None else y
    return astype(y, float16) if back else y


def _float16_in_float32(x: Tensor) -> bool:
    """Whether a float16 norm outside md.autocast() computes in float32 and casts back, as PyTorch's kernels do
    (x*x of small float16 values is subnormal: computed in float16 the result is off by percents)."""
    return x.dtype is float16 and _autocast_dtype.get() is None
