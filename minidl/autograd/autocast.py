"""Autocast: the mode in which matrix products run in half precision and the touchy ops stay in float32.

Tensor cores multiply float16 (or TF32) matrices several times faster than
float32 ones, but float16 keeps only 11 bits of mantissa and overflows past
65504. PyTorch's answer, copied here, sorts the ops into two lists:

- **GEMM-type ops** (``matmul``, ``linear``, ``conv2d``) cast their float32
  inputs to float16 (float64 is left alone, as in PyTorch): that is where the
  time goes and where the hardware is fast;
- **ops that need range or precision** (``sum``, ``mean``, ``softmax``,
  ``log_softmax``, ``batch_norm`` and the losses) cast float16 inputs to
  float32 and return float32;
- every other op runs in its inputs' dtype, and inside autocast an op that
  meets float16 and float32 promotes to float32, as PyTorch always does
  (outside autocast minidl refuses to mix float widths).

The casts are ordinary ``astype`` nodes, so gradients flow back through them:
a float32 parameter used by a float16 matmul gets a float32 gradient. The
lists follow PyTorch's CUDA autocast (torch.amp docs, "CUDA Ops that can
autocast to float32"); PyTorch's CPU autocast keeps softmax and sum in the low
dtype. The state is one `contextvars` value, so each thread has its own
and an op pays one read when autocast is off.

>>> import minidl as md
>>> x, w = md.ones((2, 3)), md.ones((4, 3))
>>> with md.autocast(dtype=md.float16):
...     y = x @ w.T
...     p = md.nn.functional.softmax(y)
>>> y.dtype, p.dtype
(minidl.float16, minidl.float32)
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable

from minidl.autograd.dtypes import DType, as_dtype, float16

# The low dtype while autocast is on; None when off (the one value each op reads).
_autocast_dtype: contextvars.ContextVar[DType | None] = contextvars.ContextVar("minidl_autocast", default=None)

_DEVICE_TYPES = ("cuda", "cpu", "gpu", "cupy", "numpy", "array_api_strict")


def autocast_dtype() -> DType | None:
    """The dtype GEMM-type ops cast to (``md.float16``) inside ``md.autocast()``; None outside."""
    return _autocast_dtype.get()


def is_autocast_enabled() -> bool:
    """True inside an enabled ``md.autocast()`` block."""
    return _autocast_dtype.get() is not None


class autocast:
    """Run GEMM-type ops in ``dtype`` (float16) and reductions, softmax, norms and losses in float32.

    A ``with`` block or a decorator, shaped like ``torch.autocast``:
    ``device_type`` is accepted so scripts port unchanged, and ignored (the
    tensors' backend decides where they compute); ``enabled=False`` turns
    autocast off inside the block; ``cache_enabled`` is accepted and ignored
    (each cast is computed where it is needed).

    >>> import minidl as md
    >>> with md.autocast("cuda"):
    ...     md.is_autocast_enabled()
    True
    """

    def __init__(self, device_type: str | None = None, dtype: Any = float16, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if device_type is not None and device_type not in _DEVICE_TYPES:
            raise ValueError(f"autocast: unknown device_type {device_type!r}; use one of {', '.join(_DEVICE_TYPES)} "
                             "(it is accepted for porting and does not choose the device: the tensors' backend does)")
        dtype = as_dtype(dtype)
        if dtype is not float16:
            raise TypeError(f"autocast computes GEMMs in float16 only, got {dtype.name}; minidl's backends have no "
                            "bfloat16 (write md.autocast(dtype=md.float16))")
        self.device_type, self.dtype, self.enabled = device_type, dtype, bool(enabled)
        self._tokens: list[contextvars.Token] = []

    def __enter__(self) -> "autocast":
        self._tokens.append(_autocast_dtype.set(self.dtype if self.enabled else None))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _autocast_dtype.reset(self._tokens.pop())

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device_type, self.dtype, self.enabled):
                return function(*args, **kwargs)
        return wrapped
