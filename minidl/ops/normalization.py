"""Batch normalisation: standardise each channel over the batch, then scale and shift.

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
"""

from __future__ import annotations

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.function import check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.ops.autocasting import cast_to_float32
from minidl.ops.checks import expect_tensor
from minidl.ops.elementwise import sqrt
from minidl.ops.reduction import mean
from minidl.ops.shape import reshape


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
    """Exponential moving averages on the raw arrays (no graph), with the unbiased variance."""
    xp = running_mean.xp
    shape = running_mean.data.shape
    new_mean = xp.reshape(batch_mean.data, shape)
    new_var = xp.reshape(batch_var.data, shape) * (count / (count - 1))
    running_mean.data = (1.0 - momentum) * running_mean.data + momentum * xp.astype(new_mean,
                                                                                     running_mean.data.dtype)
    running_var.data = (1.0 - momentum) * running_var.data + momentum * xp.astype(new_var, running_var.data.dtype)
