"""Weight initialisation, drawn on the host so one seed gives the same weights on every backend.

Each function fills a tensor in place (replacing its array) and returns it,
as in PyTorch.  The numbers come from minidl's host generator
(`minidl.backend.host_rng()`, reseeded by ``md.manual_seed``), drawn in
float64 and then cast to the tensor's dtype.

Why the scales: a layer computes ``y = W x`` with ``fan_in`` terms per
output.  If the entries of ``W`` have variance ``gain**2 / fan_in``, the
variance of ``y`` matches that of ``x``, so signals neither explode nor vanish
through a deep stack (Kaiming He et al., 2015).  Xavier (Glorot & Bengio,
2010) averages the forward and backward fans: ``2 / (fan_in + fan_out)``.
A uniform distribution on ``[-b, b]`` has variance ``b**2 / 3``, hence the
``sqrt(3)`` in the uniform bounds.
"""

from __future__ import annotations

import math
from typing import Any

from minidl import backend as _backend
from minidl.autograd.tensor import Tensor

_GAINS = {"linear": 1.0, "identity": 1.0, "conv1d": 1.0, "conv2d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0,
          "relu": math.sqrt(2.0), "selu": 0.75}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps a signal's variance through ``nonlinearity`` (PyTorch's values).

    >>> import minidl.nn as nn
    >>> round(nn.init.calculate_gain("relu"), 4)
    1.4142
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; "
                         f"known: {', '.join(sorted(_GAINS))}, leaky_relu")
    return _GAINS[nonlinearity]


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """Inputs and outputs per unit: weight (out, in, *kernel) has fan_in = in * prod(kernel)."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, got shape {shape}")
    receptive_field = 1
    for dim in shape[2:]:
        receptive_field *= dim
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fill(tensor: Tensor, host_values: Any) -> Tensor:
    if not tensor.dtype.is_floating:
        raise TypeError(f"initialisers fill floating-point tensors, got {tensor.dtype.name}")
    tensor.data = _backend.from_host(host_values.astype(tensor.dtype.name), tensor.backend)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of the uniform distribution on ``[a, b)``."""
    return _fill(tensor, _backend.host_rng().uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of the normal distribution N(mean, std**2)."""
    return _fill(tensor, _backend.host_rng().normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with ``value``."""
    tensor.data = tensor.xp.full_like(tensor.data, value)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones."""
    return constant_(tensor, 1.0)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"kaiming init of a weight with a zero-sized fan (shape {tensor.shape})")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He initialisation, uniform: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)``.

    >>> import minidl as md, minidl.nn as nn
    >>> w = nn.init.kaiming_uniform_(md.zeros((128, 64)), nonlinearity="relu")
    >>> bool(abs(w).max().item() <= (6 / 64) ** 0.5)
    True
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He initialisation, normal: ``N(0, std**2)`` with ``std = gain / sqrt(fan)``."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def _xavier_std(tensor: Tensor, gain: float) -> float:
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot initialisation, uniform: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    bound = math.sqrt(3.0) * _xavier_std(tensor, gain)
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot initialisation, normal: ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain))


def default_layer_init_(weight: Tensor, bias: Tensor | None) -> None:
    """What Linear and Conv2d use: PyTorch's defaults.

    The weight gets ``kaiming_uniform_(a=sqrt(5))``, which works out to
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``; the bias gets the same bound.
    """
    kaiming_uniform_(weight, a=math.sqrt(5.0))
    if bias is not None:
        fan_in, _ = fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
