"""Making tensors: from Python data or arrays, filled, ranged, and random.

Python data (numbers, nested lists) is read through NumPy, minidl's host
format, and random tensors are drawn on the host (see
:mod:`minidl.backend.random`), so a seed gives the same numbers on every backend.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy  # the host format: Python data becomes a NumPy array before it moves to the backend

from minidl import backend as _backend
from minidl.autograd.dtypes import DEFAULT_FLOAT, DType, as_dtype, to_backend_dtype
from minidl.autograd.tensor import Tensor

ShapeLike = int | Sequence[int]


def _shape(shape: tuple) -> tuple[int, ...]:
    """Accept ``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros([2, 3])``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for dim in shape:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 0:
            raise ValueError(f"a shape is a tuple of non-negative integers, got {shape!r}")
    return tuple(shape)


def _resolve(backend: str | None) -> tuple[str, Any]:
    name = _backend.get_backend() if backend is None else _backend.resolve_name(backend)
    return name, _backend.namespace(name)


def _host_dtype_for(host_array: Any, dtype: Any) -> DType:
    """float data defaults to float32; integers to int64; booleans stay bool."""
    if dtype is not None:
        return as_dtype(dtype)
    kind = host_array.dtype.kind
    if kind == "f":
        return DEFAULT_FLOAT
    if kind in "iu":
        return as_dtype("int64") if kind == "i" or host_array.dtype.itemsize >= 4 else as_dtype(host_array.dtype.name)
    if kind == "b":
        return as_dtype("bool")
    raise TypeError(f"md.tensor cannot hold data of dtype {host_array.dtype}; give numbers or booleans")


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, backend: str | None = None) -> Tensor:
    """A new leaf tensor from a number, a (nested) list, a NumPy array or a backend array.

    Floating-point data becomes float32 unless ``dtype`` says otherwise; the
    tensor lands on the current backend unless ``backend`` names one.

    >>> import minidl as md
    >>> md.tensor([[1, 2], [3, 4]], dtype=md.float64).shape
    (2, 2)
    """
    name, xp = _resolve(backend)
    if isinstance(data, Tensor):
        data = data.data
    if type(data).__module__.split(".")[0] in ("cupy", "array_api_strict", "numpy") and hasattr(data, "shape"):
        source = _backend.backend_of(data)
        if source == name:
            target = to_backend_dtype(xp, dtype) if dtype is not None else None
            if target is None and xp.isdtype(data.dtype, "real floating"):
                target = to_backend_dtype(xp, DEFAULT_FLOAT)
            array = xp.asarray(data, dtype=target, copy=True)
            return _leaf(array, xp, name, requires_grad)
        data = _backend.to_host(data)
    host = _as_host(data)
    chosen = _host_dtype_for(host, dtype)
    array = _backend.from_host(host, name, to_backend_dtype(xp, chosen))
    return _leaf(array, xp, name, requires_grad)


def _as_host(data: Any) -> Any:
    try:
        return numpy.asarray(data)
    except (ValueError, TypeError) as error:
        raise TypeError(f"md.tensor could not read {type(data).__name__} data as an array: {error}") from None


def _leaf(array: Any, xp: Any, name: str, requires_grad: bool) -> Tensor:
    if requires_grad and not xp.isdtype(array.dtype, "real floating"):
        raise TypeError(f"only floating-point tensors can require grad, this one is {array.dtype}")
    return Tensor._wrap(array, xp, name, requires_grad)


def zeros(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False, backend: str | None = None) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    name, xp = _resolve(backend)
    array = xp.zeros(_shape(shape), dtype=to_backend_dtype(xp, dtype or DEFAULT_FLOAT))
    return _leaf(array, xp, name, requires_grad)


def ones(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False, backend: str | None = None) -> Tensor:
    """A tensor of ones (float32 unless ``dtype`` says otherwise)."""
    name, xp = _resolve(backend)
    array = xp.ones(_shape(shape), dtype=to_backend_dtype(xp, dtype or DEFAULT_FLOAT))
    return _leaf(array, xp, name, requires_grad)


def full(shape: ShapeLike, fill_value: float, dtype: Any = None, requires_grad: bool = False,
         backend: str | None = None) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value as in PyTorch (bool, int64, else float32)."""
    name, xp = _resolve(backend)
    shape = _shape((shape,))
    if dtype is None:
        dtype = "bool" if isinstance(fill_value, bool) else "int64" if isinstance(fill_value, int) else DEFAULT_FLOAT
    array = xp.full(shape, fill_value, dtype=to_backend_dtype(xp, dtype))
    return _leaf(array, xp, name, requires_grad)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad, backend=other.backend)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad, backend=other.backend)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           backend: str | None = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (int64 for integer arguments, else float32)."""
    name, xp = _resolve(backend)
    if dtype is None:
        integral = all(isinstance(v, int) for v in (start, stop if stop is not None else 0, step))
        dtype = "int64" if integral else DEFAULT_FLOAT
    array = xp.arange(start, stop, step, dtype=to_backend_dtype(xp, dtype))
    return Tensor._wrap(array, xp, name)


def eye(n: int, m: int | None = None, dtype: Any = None, backend: str | None = None) -> Tensor:
    """The identity matrix (``n`` by ``m``)."""
    name, xp = _resolve(backend)
    return Tensor._wrap(xp.eye(n, m, dtype=to_backend_dtype(xp, dtype or DEFAULT_FLOAT)), xp, name)


def randn(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False, backend: str | None = None) -> Tensor:
    """Standard normal samples, drawn on the host so a seed gives the same values everywhere."""
    chosen = as_dtype(dtype or DEFAULT_FLOAT)
    host = _backend.host_rng().standard_normal(_shape(shape)).astype(chosen.name)
    return tensor(host, dtype=chosen, requires_grad=requires_grad, backend=backend)


def rand(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False, backend: str | None = None) -> Tensor:
    """Uniform samples in ``[0, 1)``, drawn on the host."""
    chosen = as_dtype(dtype or DEFAULT_FLOAT)
    host = _backend.host_rng().random(_shape(shape)).astype(chosen.name)
    return tensor(host, dtype=chosen, requires_grad=requires_grad, backend=backend)


def constant_like(value: Any, like: Tensor) -> Tensor:
    """Turn the other operand of a binary op (a number or an array) into a Tensor beside ``like``."""
    if isinstance(value, Tensor):
        return value
    xp = like.xp
    if isinstance(value, (bool, int, float)):
        dtype = like.data.dtype
        # PyTorch's rules for a Python scalar: it takes the tensor's dtype within its kind, and lifts
        # the kind where it must (int tensor + 2.5 -> float32, bool tensor + 1 -> int64)
        if isinstance(value, float) and not xp.isdtype(dtype, "real floating"):
            dtype = to_backend_dtype(xp, DEFAULT_FLOAT)
        elif type(value) is int and xp.isdtype(dtype, "bool"):
            dtype = xp.int64
        return Tensor._wrap(xp.asarray(value, dtype=dtype), xp, like.backend)
    return tensor(value, dtype=None, backend=like.backend) if not hasattr(value, "shape") else _wrap_array(value, like)


def _wrap_array(array: Any, like: Tensor) -> Tensor:
    source = _backend.backend_of(array)
    if source != like.backend:
        raise ValueError(
            f"an operation mixed a {like.backend!r} tensor with a {source!r} array; "
            f"wrap the array with md.tensor(..., backend={like.backend!r}) first"
        )
    return Tensor._wrap(like.xp.asarray(array), like.xp, like.backend)
