"""Making tensors: from Python data or arrays, filled, and ranged.

Python data (numbers, nested lists) is read through NumPy, minidl's host
format, and random tensors are drawn on the host (see
[`minidl.ops.random`][minidl.ops.random]), so a seed gives the same numbers on every backend.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy  # the host format: Python data becomes a NumPy array before it moves to the backend

from minidl import backend as _backend
from minidl.autograd.dtypes import DEFAULT_FLOAT, DType, as_dtype, to_backend_dtype
from minidl.autograd.tensor import Tensor
from minidl.ops.spelling import torch_keywords

ShapeLike = int | Sequence[int]


def _shape(shape: tuple) -> tuple[int, ...]:
    """Accept ``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros([2, 3])``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for dim in shape:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 0:
            raise ValueError(f"a shape is a tuple of non-negative integers, got {shape!r}")
    return tuple(shape)


def _resolve(backend: str | None, device: Any = None) -> tuple[str, Any]:
    """The backend to create on: ``backend`` if named, else the one ``device`` means, else the current one."""
    if backend is not None:
        name = _backend.resolve_name(backend)
    else:
        name = _backend.get_backend() if device is None else _backend.backend_for(device)
    return name, _backend.namespace(name)


def _device_name(device: Any) -> str | None:
    """``device`` as a device name ("cuda:0") where it names one (a string or an ``md.device``), else None
    (a backend name given as ``device``, or nothing: the device chosen with ``md.set_backend`` then applies)."""
    return str(_backend.device(device)) if device is not None and _backend.names_a_device(device) else None


def _native_device(name: str, device: Any) -> Any:
    """The library's own device object for ``device`` (see `_device_name`); None for one-device libraries."""
    return _backend.native_device(name, _device_name(device))


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


@torch_keywords
def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, backend: str | None = None,
           device: Any = None) -> Tensor:
    """A new leaf tensor from a number, a (nested) list, a NumPy array or a backend array.

    Floating-point data becomes float32 unless ``dtype`` says otherwise; the
    tensor lands on the current backend unless ``backend`` (or PyTorch's
    ``device``, see `minidl.backend.devices`) names one.

    >>> import minidl as md
    >>> md.tensor([[1, 2], [3, 4]], dtype=md.float64).shape
    (2, 2)
    """
    name, xp = _resolve(backend, device)
    if isinstance(data, Tensor):
        data = data.data
    if _backend.is_array(data):
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
    array = _backend.from_host(host, name, to_backend_dtype(xp, chosen), device=_device_name(device))
    return _leaf(array, xp, name, requires_grad)


@torch_keywords
def as_tensor(data: Any, dtype: Any = None, device: Any = None, backend: str | None = None) -> Tensor:
    """Like `tensor`, but an array keeps its own dtype (a float64 array stays float64), as in PyTorch.

    (minidl always copies: the tensor does not share the array's memory.)
    """
    if isinstance(data, Tensor) and dtype is None and device is None and backend is None:
        return data
    if dtype is None and hasattr(data, "dtype") and hasattr(data, "shape"):
        dtype = data.dtype.name if isinstance(data, Tensor) else as_dtype(data.dtype)
    return tensor(data, dtype=dtype, backend=backend, device=device)


def from_numpy(array: Any) -> Tensor:
    """A tensor with a NumPy array's values and dtype (a copy: PyTorch's shares the memory, minidl's does not)."""
    if type(array).__module__.split(".")[0] != "numpy":
        raise TypeError(f"from_numpy takes a NumPy array, got {type(array).__name__}; use md.tensor(...)")
    return as_tensor(array)


def _as_host(data: Any) -> Any:
    try:
        return numpy.asarray(data)
    except (ValueError, TypeError) as error:
        raise TypeError(f"md.tensor could not read {type(data).__name__} data as an array: {error}") from None


def _leaf(array: Any, xp: Any, name: str, requires_grad: bool) -> Tensor:
    if requires_grad and not xp.isdtype(array.dtype, "real floating"):
        raise TypeError(f"only floating-point tensors can require grad, this one is {array.dtype}")
    return Tensor._wrap(array, xp, name, requires_grad)


@torch_keywords
def zeros(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False, backend: str | None = None,
          device: Any = None) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    name, xp = _resolve(backend, device)
    array = xp.zeros(_shape(shape), dtype=to_backend_dtype(xp, dtype or DEFAULT_FLOAT),
                     device=_native_device(name, device))
    return _leaf(array, xp, name, requires_grad)


@torch_keywords
def ones(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False, backend: str | None = None,
         device: Any = None) -> Tensor:
    """A tensor of ones (float32 unless ``dtype`` says otherwise)."""
    name, xp = _resolve(backend, device)
    array = xp.ones(_shape(shape), dtype=to_backend_dtype(xp, dtype or DEFAULT_FLOAT),
                    device=_native_device(name, device))
    return _leaf(array, xp, name, requires_grad)


@torch_keywords
def full(shape: ShapeLike, fill_value: float, dtype: Any = None, requires_grad: bool = False,
         backend: str | None = None, device: Any = None) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value as in PyTorch (bool, int64, else float32)."""
    name, xp = _resolve(backend, device)
    shape = _shape((shape,))
    if dtype is None:
        dtype = "bool" if isinstance(fill_value, bool) else "int64" if isinstance(fill_value, int) else DEFAULT_FLOAT
    array = xp.full(shape, fill_value, dtype=to_backend_dtype(xp, dtype), device=_native_device(name, device))
    return _leaf(array, xp, name, requires_grad)


def _elsewhere(other: Tensor, device: Any) -> str:
    """The backend of a ``*_like`` result given a ``device`` (``other``'s own where that device fits it)."""
    return _backend.backend_for(device, other.backend)


def _dtype_of_like(other: Tensor, dtype: Any) -> Any:
    return to_backend_dtype(other.xp, dtype) if dtype is not None else None


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Zeros of ``other``'s shape, dtype, backend and device (each may be overridden)."""
    if device is not None:
        return zeros(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad,
                     backend=_elsewhere(other, device), device=device)
    array = other.xp.zeros_like(other.data, dtype=_dtype_of_like(other, dtype))
    return _leaf(array, other.xp, other.backend, requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Ones of ``other``'s shape, dtype, backend and device (each may be overridden)."""
    if device is not None:
        return ones(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad,
                    backend=_elsewhere(other, device), device=device)
    array = other.xp.ones_like(other.data, dtype=_dtype_of_like(other, dtype))
    return _leaf(array, other.xp, other.backend, requires_grad)


def full_like(other: Tensor, fill_value: float, dtype: Any = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    """``fill_value`` in ``other``'s shape, dtype, backend and device (each may be overridden)."""
    if device is not None:
        return full(other.shape, fill_value, dtype=dtype or other.dtype, requires_grad=requires_grad,
                    backend=_elsewhere(other, device), device=device)
    array = other.xp.full_like(other.data, fill_value, dtype=_dtype_of_like(other, dtype))
    return _leaf(array, other.xp, other.backend, requires_grad)


@torch_keywords
def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           backend: str | None = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (int64 for integer arguments, else float32).

    ``arange(stop)``, ``arange(start, stop)`` and ``arange(start, stop, step)``, as in PyTorch and NumPy.
    """
    name, xp = _resolve(backend, device)
    if dtype is None:
        integral = all(isinstance(v, int) for v in (start, stop if stop is not None else 0, step))
        dtype = "int64" if integral else DEFAULT_FLOAT
    array = xp.arange(start, stop, step, dtype=to_backend_dtype(xp, dtype), device=_native_device(name, device))
    return _leaf(array, xp, name, requires_grad)


@torch_keywords
def linspace(start: float, end: float, steps: int, dtype: Any = None, backend: str | None = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32 by default)."""
    name, xp = _resolve(backend, device)
    array = xp.linspace(start, end, int(steps), dtype=to_backend_dtype(xp, dtype or DEFAULT_FLOAT),
                        device=_native_device(name, device))
    return _leaf(array, xp, name, requires_grad)


@torch_keywords
def eye(n: int, m: int | None = None, dtype: Any = None, backend: str | None = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` by ``m``)."""
    name, xp = _resolve(backend, device)
    array = xp.eye(n, m, dtype=to_backend_dtype(xp, dtype or DEFAULT_FLOAT), device=_native_device(name, device))
    return _leaf(array, xp, name, requires_grad)


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
