"""The casts that ``md.autocast()`` inserts, as differentiable ``astype`` nodes (see minidl.autograd.autocast).

An op consults the mode with one read, and calls these only when it is on::

    if _autocast_dtype.get() is not None:
        a, b = cast_for_gemm(a, b)

Each cast is an ``AsType`` node, whose backward casts the gradient back: a
float32 weight used in a float16 product receives a float32 gradient.
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.dtypes import float16, float32
from minidl.autograd.tensor import Tensor
from minidl.ops.elementwise import astype


def cast_for_gemm(*tensors: Any) -> tuple[Any, ...]:
    """float32 Tensors among ``tensors`` in the autocast dtype; others pass unchanged.

    float64 is left alone, as PyTorch's autocast leaves it: someone asked for
    it on purpose (a gradient check), and a product that mixes it with float16
    is then an error that names both.
    """
    dtype = _autocast_dtype.get()
    return tuple(astype(t, dtype) if dtype is not None and isinstance(t, Tensor) and t.dtype is float32 else t
                 for t in tensors)


def cast_to_float32(*tensors: Any) -> tuple[Any, ...]:
    """float16 Tensors among ``tensors`` in float32 (the ops that need range: sums, softmax, norms, losses)."""
    return tuple(astype(t, float32) if isinstance(t, Tensor) and t.dtype is float16 else t for t in tensors)
