"""What each array library can do: one record per library, and `register()` for more.

The Array API standard fixes the arithmetic; it leaves open whether arrays
can be written in place, whether they compute at once or build a graph,
which devices they live on, how they come back to the host, and how a
scatter-add is spelled. minidl asks these questions of a `Library` record,
never of a name, so a library added with `register()` is treated the same
way as the built-in ones.

>>> from minidl.backend.capabilities import library
>>> library("jax").writeable, library("dask").lazy, library("torch").devices
(False, True, ('cpu', 'cuda'))
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy


@dataclasses.dataclass(frozen=True)
class Library:
    """An array library as minidl sees it.

    ``namespace`` is the module that implements the standard (imported on
    first use); ``array_modules`` are the top-level modules its array types
    come from (how an input array is recognised); ``package`` is what
    ``pip install`` wants. The other fields are the capabilities:

    - ``writeable``: arrays can be changed in place (``x[i] = v``); if not,
      writes make a copy (through ``array_api_extra.at``) and the Tensor
      takes the new array;
    - ``lazy``: operations build a graph that runs later; minidl then
      materialises the parameters once per optimizer step (``materialise``),
      and `md.compile` refuses the library (``has("eager")`` is its opposite,
      for test marks: ``pytest.mark.needs("eager")``);
    - ``devices``: the kinds of device its arrays can live on, the first the
      default; ``native_device`` turns a name such as ``"cuda:0"`` into the
      library's own device object (raising where there is no such device here);
    - ``to_host``: a NumPy array with the values; ``scatter_add``: the
      library's own ``out[index[i]] += values[i]``, or None for minidl's
      one-hot GEMM; ``erf``: the library's own error function (one kernel
      on a GPU), or None for minidl's, built from the standard's ``exp``;
    - ``negative_step_slices`` and ``checks_bounds``: whether ``x[::-1]``
      works and whether an out-of-range integer index raises (minidl emulates
      the one and checks the other where they are missing);
    - ``copies_host_arrays``: `minidl.backend.arrays.from_host` asks the
      library for a copy of a NumPy array (``copy=True``); False for CuPy (the
      transfer to the device is a copy already) and NumPy (the result is then
      the array given: ``md.tensor`` copies a user's array before);
    - ``takes_0d_host_arrays``: ``asarray`` accepts a 0-d NumPy array
      (array-api-strict refuses one: ``from_host`` passes the Python scalar);
    - ``float_masks``: build ReLU's 0/1 mask with float arithmetic,
      ``ceil(clip(a, 0, 1))``, rather than a comparison cast to float, and
      its output with ``clip(a, min=0)`` rather than ``maximum(a, 0)``. True
      for PyTorch, whose CPU kernels write and cast a bool array slowly (354
      us at 512 x 1024, against 89 for the float mask; `minidl.ops.piecewise`
      cites the measurement; on CUDA both ways are two kernels, not yet
      timed); on NumPy the comparison is the faster way;
    - ``synchronize``: wait for the device's queued work (None: nothing to wait for);
    - ``usable``: raise, with what to do, where the library cannot run here
      (CuPy without a GPU); checked when the namespace is first loaded;
    - ``random``: what the library offers of its own for random numbers
      (minidl draws on the host either way, so a seed means the same numbers);
    - ``setup``: run once when the namespace is first loaded (JAX: enable float64).
    """

    name: str
    namespace: str
    array_modules: tuple[str, ...]
    package: str
    writeable: bool = True
    lazy: bool = False
    devices: tuple[str, ...] = ("cpu",)
    to_host: Callable[[Any], numpy.ndarray] = numpy.asarray
    scatter_add: Callable[[int, Any, Any], Any] | None = None
    erf: Callable[[Any], Any] | None = None
    materialise: Callable[[list], list] | None = None
    native_device: Callable[[str], Any] | None = None
    synchronize: Callable[[], None] | None = None
    setup: Callable[[Any], None] | None = None
    usable: Callable[[], None] | None = None
    negative_step_slices: bool = True
    checks_bounds: bool = True
    copies_host_arrays: bool = True
    takes_0d_host_arrays: bool = True
    float_masks: bool = False
    random: str = "none of its own in the standard"

    def has(self, capability: str) -> bool:
        """Whether the library has a capability, by name (``"writeable"``, ``"lazy"``, ``"cuda"``, ...);
        ``"eager"`` is the opposite of ``"lazy"`` (operations run when called)."""
        if capability in ("cpu", "cuda", "gpu", "tpu"):
            return capability in self.devices
        if capability == "eager":
            return not self.lazy
        value = getattr(self, capability, None)
        if value is None and capability not in {f.name for f in dataclasses.fields(self)}:
            fields = ", ".join(f.name for f in dataclasses.fields(self) if f.name not in ("name", "namespace"))
            raise ValueError(f"unknown capability {capability!r}; known: a field of Library ({fields}), or a "
                             f"device kind (cpu, cuda, gpu, tpu), or eager")
        return bool(value)


_LIBRARIES: dict[str, Library] = {}
_BY_MODULE: dict[str, str] = {}
BACKENDS: dict[str, str] = {}  # name -> the module that implements the standard (minidl.backend.BACKENDS)
ALIASES: dict[str, str] = {}   # other spellings ("cpu", "gpu", "pytorch") -> name


def register(record: Library, aliases: tuple[str, ...] = ()) -> Library:
    """Add (or replace) a library: ``md.set_backend(record.name)`` then works, and its arrays are recognised."""
    _LIBRARIES[record.name] = record
    for module in record.array_modules:
        _BY_MODULE[module] = record.name
    BACKENDS[record.name] = record.namespace
    for alias in aliases:
        ALIASES[alias] = record.name
    return record


def library(name: str) -> Library:
    """The record of a library by its canonical name (see `minidl.backend.resolve_name`)."""
    try:
        return _LIBRARIES[name]
    except KeyError:
        raise ValueError(f"no array library named {name!r} is registered; known: {', '.join(sorted(_LIBRARIES))}"
                         ) from None


def libraries() -> dict[str, Library]:
    """Every registered library, by name."""
    return dict(_LIBRARIES)


def name_of_array(array: Any) -> str | None:
    """The library an array belongs to (by the module of its type), or None."""
    return _BY_MODULE.get(type(array).__module__.partition(".")[0])


# ---- the built-in records -------------------------------------------------------------------------------

def _numpy_scatter_add(rows: int, index: Any, values: Any) -> Any:
    out = numpy.zeros((rows,) + tuple(values.shape[1:]), dtype=values.dtype)
    numpy.add.at(out, index, values)
    return out


def _cupy_to_host(array: Any) -> numpy.ndarray:
    import cupy
    return cupy.asnumpy(array)


def _cupy_scatter_add(rows: int, index: Any, values: Any) -> Any:
    import cupy
    import cupyx
    out = cupy.zeros((rows,) + tuple(values.shape[1:]), dtype=values.dtype)
    cupyx.scatter_add(out, index, values)
    return out


def _cupy_synchronize() -> None:
    import cupy
    cupy.cuda.get_current_stream().synchronize()


def _cupy_usable() -> None:
    try:
        import cupy
    except ImportError as error:
        raise RuntimeError(
            "the 'cupy' backend needs CuPy, which is not installed: pip install the cupy-cuda12x or cupy-cuda13x "
            "wheel that matches your CUDA driver (or, from a minidl checkout, pip install '.[gpu]')"
        ) from error
    try:
        available = cupy.cuda.is_available()
    except Exception:  # a broken driver install raises instead of answering
        available = False
    if not available:
        raise RuntimeError(
            "CuPy is installed but found no usable CUDA GPU (cupy.cuda.is_available() is False); "
            "use the 'numpy' backend on this machine, or check the NVIDIA driver with nvidia-smi"
        )


def _torch_to_host(array: Any) -> numpy.ndarray:
    return array.detach().cpu().numpy()


def _torch_scatter_add(rows: int, index: Any, values: Any) -> Any:
    import torch
    out = torch.zeros((rows,) + tuple(values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add_(0, index, values)


def _torch_device(spec: str) -> Any:
    import torch
    device = torch.device(spec)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"torch sees no CUDA device here (torch.cuda.is_available() is False; torch "
                           f"{torch.__version__}); use device='cpu', or a CUDA build of torch on a machine with a GPU")
    return device


def _torch_synchronize() -> None:
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _jax_setup(xp: Any) -> None:
    import jax
    # Without x64 JAX turns every float64 array into float32 without a word; minidl's gradient checks
    # and md.float64 need the real thing.
    jax.config.update("jax_enable_x64", True)


def _jax_scatter_add(rows: int, index: Any, values: Any) -> Any:
    import jax.numpy as jnp
    return jnp.zeros((rows,) + tuple(values.shape[1:]), dtype=values.dtype).at[index].add(values)


def _jax_device(spec: str) -> Any:
    import jax
    kind, _, number = spec.partition(":")
    try:
        return jax.devices("gpu" if kind == "cuda" else kind)[int(number or 0)]
    except (RuntimeError, IndexError) as error:
        raise RuntimeError(f"jax has no device {spec!r} here: {error}") from None


def _dask_to_host(array: Any) -> numpy.ndarray:
    return numpy.asarray(array.compute())


def _dask_materialise(arrays: list) -> list:
    import dask
    return list(dask.persist(*arrays))


def _cupy_erf(array: Any) -> Any:
    import cupyx.scipy.special
    # (its float16 loop returns float64: back to the input's dtype, as torch and JAX keep it)
    return cupyx.scipy.special.erf(array).astype(array.dtype, copy=False)


def _torch_erf(array: Any) -> Any:
    import torch
    return torch.special.erf(array)


def _jax_erf(array: Any) -> Any:
    import jax.scipy.special
    return jax.scipy.special.erf(array)


def _ndonnx_to_host(array: Any) -> numpy.ndarray:
    return numpy.asarray(array.unwrap_numpy())


register(Library("numpy", "array_api_compat.numpy", ("numpy",), "numpy", scatter_add=_numpy_scatter_add,
                 copies_host_arrays=False, random="numpy.random.Generator (minidl's host generator)"),
         aliases=("cpu", "np"))
register(Library("cupy", "array_api_compat.cupy", ("cupy",), "cupy-cuda12x", devices=("cuda",),
                 to_host=_cupy_to_host, scatter_add=_cupy_scatter_add, erf=_cupy_erf, synchronize=_cupy_synchronize,
                 usable=_cupy_usable, copies_host_arrays=False, random="cupy.random (a device generator)"),
         aliases=("gpu", "cuda", "cuda:0", "cp"))
register(Library("array_api_strict", "array_api_strict", ("array_api_strict",), "array-api-strict",
                 takes_0d_host_arrays=False),
         aliases=("strict",))
register(Library("torch", "array_api_compat.torch", ("torch",), "torch", devices=("cpu", "cuda"),
                 to_host=_torch_to_host, scatter_add=_torch_scatter_add, erf=_torch_erf,
                 native_device=_torch_device,
                 synchronize=_torch_synchronize, negative_step_slices=False, float_masks=True,
                 random="torch.Generator, one per device (stateful)"),
         aliases=("pytorch",))
# JAX calls an NVIDIA GPU "gpu"; minidl's (and PyTorch's) "cuda" means the same one (see _jax_device)
register(Library("jax", "jax.numpy", ("jax", "jaxlib"), "jax", writeable=False, devices=("cpu", "cuda", "gpu", "tpu"),
                 scatter_add=_jax_scatter_add, erf=_jax_erf, native_device=_jax_device, setup=_jax_setup,
                 checks_bounds=False,
                 random="jax.random with explicit keys (no hidden state)"))
register(Library("dask", "array_api_compat.dask.array", ("dask",), "dask[array]", writeable=False, lazy=True,
                 to_host=_dask_to_host, materialise=_dask_materialise,
                 random="dask.array.random (chunked, lazy)"))
register(Library("ndonnx", "ndonnx", ("ndonnx",), "ndonnx", writeable=False, to_host=_ndonnx_to_host,
                 random="none (ONNX graphs have random ops, ndonnx exposes none)"))
