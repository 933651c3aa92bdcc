"""Arrays across backends: which backend an array belongs to, host <-> device
moves, writes into arrays, materialising lazy ones, and the gaps of the
standard that autograd fills with a library's own function where it has one
(scatter-add, erf). Each asks the library's record
([`minidl.backend.capabilities`][minidl.backend.capabilities]), not its name."""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import array_api_compat
import numpy

from minidl.backend.capabilities import library, name_of_array
from minidl.backend.config import BACKENDS, device_for, namespace


def backend_of(array: Any) -> str:
    """The canonical backend name of an array (``"numpy"``, ``"torch"``, ``"jax"``, ...)."""
    name = name_of_array(array)
    if name is None:
        raise TypeError(
            f"minidl cannot use an array of type {type(array).__module__}.{type(array).__name__}; "
            f"pass an array of one of {', '.join(sorted(BACKENDS))} (minidl.backend.capabilities.register "
            "adds a library), or a Python list or number"
        )
    return name


def is_array(value: Any) -> bool:
    """Whether ``value`` is an array of a registered library."""
    return hasattr(value, "shape") and name_of_array(value) is not None


def is_gpu_available() -> bool:
    """True when CuPy is installed and sees a CUDA GPU."""
    try:
        import cupy
        return bool(cupy.cuda.is_available())
    except Exception:
        return False


def to_host(array: Any) -> numpy.ndarray:
    """A NumPy copy (or view, for NumPy arrays) of a backend array."""
    name = name_of_array(array)
    if name is None:
        return numpy.asarray(array)  # Python numbers and lists
    return library(name).to_host(array)


# Devices, in three words: `array_device(a)` is where an array is (the library's own object: pass it as
# ``device=`` to make a new array beside ``a``); `native_device(backend, "cuda:0")` is the library's object
# for a device name, or for the device chosen with md.set_backend; `minidl.backend.devices.device_of` is
# the portable ``md.device`` (what ``Tensor.device`` shows the user).
def array_device(array: Any) -> Any:
    """The device ``array`` (an array, not a Tensor) lives on, as its library names it: what the standard's
    creation functions take as ``device=`` to make a new array beside it. Creation functions called without
    ``device=`` use the library's default device (the CPU for torch and JAX), wherever the tensors are."""
    device = getattr(array, "device", None)  # the standard's attribute, where the array has it (not Dask)
    return device if device is not None and not callable(device) else array_api_compat.device(array)


def native_device(backend: str, device: Any = None) -> Any:
    """The library's own device object for ``device`` (default: the device chosen with
    ``md.set_backend(backend, device=...)``), or None where the library has one device or none was chosen."""
    device = device if device is not None else device_for(backend)
    record = library(backend)
    return record.native_device(str(device)) if device is not None and record.native_device is not None else None


def from_host(host_array: Any, backend: str, dtype: Any = None, device: str | None = None) -> Any:
    """Put a NumPy array (or nested list) on ``backend``, optionally casting to ``dtype``.

    ``device`` (``"cuda:0"``) defaults to the device chosen with
    ``md.set_backend(backend, device=...)``, else the library's default.
    Optimizers update parameters in place, so a tensor must not share memory
    with a caller's array: where the library would share it, the array is
    copied (``copies_host_arrays`` of its record), except on NumPy, where
    the result is ``host_array`` itself and the callers that hand over a
    user's array (``md.tensor``) copy it first.
    """
    xp = namespace(backend)
    record = library(backend)
    keywords: dict[str, Any] = {}
    chosen = native_device(backend, device)
    if chosen is not None:
        keywords["device"] = chosen
    if isinstance(host_array, numpy.ndarray):
        if host_array.ndim == 0 and not record.takes_0d_host_arrays:
            host_array = host_array.item()
        elif record.copies_host_arrays and host_array.ndim:
            keywords["copy"] = True
    array = xp.asarray(host_array, dtype=dtype, **keywords)
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"the {backend!r} backend made {array.dtype} where {dtype} was asked; "
                        f"it cannot hold this dtype (for JAX, float64 needs jax_enable_x64)")
    return array


def synchronize(backend: str) -> None:
    """Wait for the device to finish queued work (a no-op on CPU-only backends)."""
    wait = library(backend).synchronize
    if wait is not None:
        wait()


def materialise(arrays: list) -> list:
    """The arrays with their pending work done, for lazy libraries (Dask: one ``persist`` for all); else as given.

    A lazy library builds a graph for every operation; without this, a
    parameter's graph after n optimizer steps holds all n steps, and each
    step costs more than the one before.
    """
    if not arrays:
        return arrays
    record = library(backend_of(arrays[0]))
    return record.materialise(arrays) if record.materialise is not None else arrays


def set_at(array: Any, key: Any, value: Any) -> Any:
    """``array[key] = value``, in place where the library can write, into a copy where it cannot; returns the result.

    The copy is ``array_api_extra.at(array, key).set(value)``, which asks the
    array whether it can be written. Where the record already says it can, the
    write is done here directly: the same result, without the 15 us that
    ``at`` spends deciding (measured on NumPy; a plain write costs 0.5 us,
    and a getitem's backward writes once per call).
    """
    if is_writeable(array):
        array[key] = value
        return array
    import array_api_extra as xpx
    return xpx.at(array, key).set(value)


def add_at(array: Any, key: Any, value: Any) -> Any:
    """``array[key] += value`` (a basic key, no repeated positions), in place where possible; returns the result."""
    if is_writeable(array):
        array[key] += value
        return array
    import array_api_extra as xpx
    return xpx.at(array, key).add(value)


def is_writeable(array: Any) -> bool:
    """The record's answer; for an array of no registered library (a stand-in, such as the one
    md.compile traces with), whether it takes item assignment."""
    name = name_of_array(array)
    return library(name).writeable if name is not None else hasattr(type(array), "__setitem__")


def float_masks(array: Any) -> bool:
    """Whether the array's library builds 0/1 masks faster with float arithmetic (its record's ``float_masks``);
    False for an array of no registered library (md.compile's stand-in), which then takes the comparison."""
    name = name_of_array(array)
    return name is not None and library(name).float_masks


GAPS = ("erf", "scatter_add")  # the functions the standard lacks that a `Library` record may name


def own_function(array: Any, gap: str) -> Callable[..., Any] | None:
    """The array's library's own function for a gap in the standard (one of `GAPS`), or None.

    An array that stands for another (md.compile's `TracedArray`) answers
    through its ``library_function(gap)`` method: the library's function,
    recorded, so that a replay calls it too.
    """
    if gap not in GAPS:
        raise ValueError(f"own_function: {gap!r} is not one of the standard's gaps a record names: {GAPS}")
    name = name_of_array(array)
    if name is not None:
        return getattr(library(name), gap)
    stand_in = getattr(array, "library_function", None)
    return None if stand_in is None else stand_in(gap)


def scatter_add_rows(xp: ModuleType, num_rows: int, index: Any, values: Any) -> Any:
    """``out[index[i]] += values[i]`` for a 1-D integer ``index``, summing repeats.

    The Array API has no scatter-add (``array_api_extra.at(...).add`` drops
    repeated indices), so a library's record may name its own
    (``numpy.add.at``, ``cupyx.scatter_add``, torch's ``index_add_``, JAX's
    ``.at[].add``); elsewhere minidl uses a GEMM with a one-hot matrix,
    ``one_hot(index).T @ values``, which shows that even a gather's gradient
    is a matrix product.
    """
    own = own_function(values, "scatter_add")
    if own is not None:
        return own(num_rows, index, values)
    out_shape = (num_rows,) + tuple(values.shape[1:])
    rows = xp.arange(num_rows, dtype=index.dtype, device=array_device(index))
    one_hot = xp.astype(index[:, None] == rows[None, :], values.dtype)
    width = 1
    for dim in values.shape[1:]:
        width *= dim
    flat = xp.reshape(values, (values.shape[0], width))  # not -1: with no rows, -1 is ambiguous
    return xp.reshape(xp.matmul(xp.matrix_transpose(one_hot), flat), out_shape)
