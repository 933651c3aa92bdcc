"""Arrays across backends: which backend an array belongs to, host <-> device
moves, and scatter-add, the one gap of the standard that autograd needs."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy

from minidl.backend.config import namespace


def backend_of(array: Any) -> str:
    """The canonical backend name of an array (``"numpy"``, ``"cupy"``, ``"array_api_strict"``)."""
    module = type(array).__module__.split(".")[0]
    if module == "numpy":
        return "numpy"
    if module == "cupy":
        return "cupy"
    if module == "array_api_strict":
        return "array_api_strict"
    raise TypeError(
        f"minidl cannot use an array of type {type(array).__module__}.{type(array).__name__}; "
        "pass a NumPy, CuPy or array-api-strict array, or a Python list or number"
    )


def is_gpu_available() -> bool:
    """True when CuPy is installed and sees a CUDA GPU."""
    try:
        import cupy
        return bool(cupy.cuda.is_available())
    except Exception:
        return False


def to_host(array: Any) -> numpy.ndarray:
    """A NumPy copy (or view, for NumPy arrays) of a backend array."""
    if backend_of(array) == "cupy":
        import cupy
        return cupy.asnumpy(array)
    return numpy.asarray(array)  # NumPy (scalars become 0-d arrays) and array-api-strict


def from_host(host_array: Any, backend: str, dtype: Any = None) -> Any:
    """Put a NumPy array (or nested list) on ``backend``, optionally casting to ``dtype``."""
    xp = namespace(backend)
    if backend == "array_api_strict" and isinstance(host_array, numpy.ndarray):
        if host_array.ndim == 0:
            host_array = host_array.item()  # strict refuses 0-d NumPy arrays
        else:
            # strict would wrap the caller's array without a copy; optimizers update parameters in
            # place, so md.tensor(host_array) must own its memory, as it does on numpy and cupy.
            return xp.asarray(host_array, dtype=dtype, copy=True)
    return xp.asarray(host_array, dtype=dtype)


def synchronize(backend: str) -> None:
    """Wait for the device to finish queued work (a no-op on CPU backends)."""
    if backend == "cupy":
        import cupy
        cupy.cuda.get_current_stream().synchronize()


def scatter_add_rows(xp: ModuleType, num_rows: int, index: Any, values: Any) -> Any:
    """``out[index[i]] += values[i]`` for a 1-D integer ``index``, summing repeats.

    The Array API has no scatter-add (``array_api_extra.at(...).add`` drops
    repeated indices), so each backend gets its own: ``numpy.add.at``,
    ``cupyx.scatter_add``, and elsewhere a GEMM with a one-hot matrix,
    ``one_hot(index).T @ values``, which shows that even a gather's gradient
    is a matrix product.
    """
    try:
        name = backend_of(values)
    except TypeError:  # a stand-in array (md.compile's tracer): the GEMM below, made of operations it records
        name = None
    out_shape = (num_rows,) + tuple(values.shape[1:])
    if name == "numpy":
        out = numpy.zeros(out_shape, dtype=values.dtype)
        numpy.add.at(out, index, values)
        return out
    if name == "cupy":
        import cupy
        import cupyx
        out = cupy.zeros(out_shape, dtype=values.dtype)
        cupyx.scatter_add(out, index, values)
        return out
    one_hot = xp.astype(index[:, None] == xp.arange(num_rows, dtype=index.dtype)[None, :], values.dtype)
    width = 1
    for dim in values.shape[1:]:
        width *= dim
    flat = xp.reshape(values, (values.shape[0], width))  # not -1: with no rows, -1 is ambiguous
    return xp.reshape(xp.matmul(xp.matrix_transpose(one_hot), flat), out_shape)
