"""The registry of GEMM kernels: the ladder as data, and the code that runs one rung on arrays.

A kernel is named by a spec ``"<device>:<name>"``: ``"numba-cpu:packed"``,
``"numba-cuda:tiled"``...  The table below is plain data, so a spec can be
checked (``md.set_matmul`` does) without importing Numba; the kernel's module
is imported, and compiled, only when a matmul first runs on it.

>>> from minidl.kernels.registry import parse_spec
>>> parse_spec("numba-cpu:ikj")
KernelSpec(device='numba-cpu', name='ikj')
"""

from __future__ import annotations

import importlib
import itertools
import math
from typing import Any, Callable, NamedTuple

DEVICES = ("numba-cpu", "numba-cuda")


class Kernel(NamedTuple):
    module: str      # the module under minidl.kernels that defines it
    launcher: str    # function there: launcher(a, b, out) fills out = a @ b for 2-D contiguous arrays
    idea: str        # the one idea this rung of the ladder adds


# The ladder, rung by rung, in climbing order (the benchmark and the docs use this order).
KERNELS: dict[str, dict[str, Kernel]] = {
    "numba-cpu": {
        "naive": Kernel("cpu_loops", "naive", "i-j-k triple loop: the textbook formula, walking B down its columns"),
        "ikj": Kernel("cpu_loops", "ikj", "loop order i-k-j: the inner loop streams rows of B and C (SIMD)"),
        "blocked": Kernel("cpu_blocked", "blocked", "cache blocking: tiles that stay in cache, rows split over cores"),
        "packed": Kernel("cpu_packed", "packed", "packing + an 8x16 register micro-kernel, rows split over cores"),
    },
    "numba-cuda": {
        "naive": Kernel("cuda_simple", "naive", "one thread per output, neighbouring threads on neighbouring rows"),
        "coalesced": Kernel("cuda_simple", "coalesced", "neighbouring threads on neighbouring columns: coalesced"),
        "tiled": Kernel("cuda_simple", "tiled", "32x32 tiles of A and B staged in shared memory"),
        "blocktile1d": Kernel("cuda_blocktile", "blocktile1d", "each thread: 8 outputs of a column, in registers"),
        "blocktile2d": Kernel("cuda_blocktile", "blocktile2d", "each thread: an 8x8 square of C, in registers"),
        "conflict_free": Kernel("cuda_tuned", "conflict_free", "strided columns per thread: no bank conflicts"),
        "prefetch": Kernel("cuda_tuned", "prefetch", "double buffering: load the next tiles while computing this one"),
        "warptile": Kernel("cuda_warptile", "warptile", "warp tiling: each warp owns a 64x32 block of C, each thread "
                                                        "2x2 squares of 4x4 in it"),
        "gemv": Kernel("cuda_gemv", "gemv", "matrix-vector product per row of A: the memory-bound twin of GEMM"),
    },
}

_INSTALL_HINT = "pip install 'minidl[numba]' (from a minidl checkout: pip install '.[numba]')"


class KernelSpec(NamedTuple):
    device: str
    name: str

    def __str__(self) -> str:
        return f"{self.device}:{self.name}"


def parse_spec(spec: str) -> KernelSpec:
    """Check a kernel spec such as ``"numba-cuda:tiled"`` (no Numba import) and split it.

    >>> parse_spec("numba-cuda:tiled").name
    'tiled'
    """
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(
            f"unknown matmul {spec!r}: use 'xp' (the backend's BLAS) or '<device>:<kernel>' with device "
            f"one of {', '.join(DEVICES)}, e.g. 'numba-cpu:packed'; {_known()}"
        )
    device, name = (part.strip() for part in spec.split(":", 1))
    if device not in KERNELS:
        raise ValueError(f"unknown kernel device {device!r} in matmul {spec!r}; devices are {', '.join(DEVICES)}")
    if name not in KERNELS[device]:
        raise ValueError(
            f"unknown kernel {name!r} in matmul {spec!r}; the {device} kernels are: {', '.join(KERNELS[device])}"
        )
    return KernelSpec(device, name)


def _known() -> str:
    return "; ".join(f"{device} kernels: {', '.join(names)}" for device, names in KERNELS.items())


def available(device: str) -> list[str]:
    """The kernel names of one device, in ladder order.

    >>> available("numba-cpu")
    ['naive', 'ikj', 'blocked', 'packed']
    """
    return list(KERNELS[device])


def launcher(spec: str | KernelSpec) -> Callable[[Any, Any, Any], None]:
    """The Python function that runs a kernel on 2-D contiguous arrays: ``launcher(a, b, out)``.

    Importing it compiles nothing yet; the first call compiles (or loads Numba's cache).
    """
    spec = spec if isinstance(spec, KernelSpec) else parse_spec(spec)
    kernel = KERNELS[spec.device][spec.name]
    _require_numba(spec)
    module = importlib.import_module(f"minidl.kernels.{kernel.module}")
    return getattr(module, kernel.launcher)


def _require_numba(spec: KernelSpec) -> None:
    try:
        import numba  # noqa: F401
    except ImportError as error:
        raise RuntimeError(f"the matmul kernel {spec} needs Numba, which is not installed: {_INSTALL_HINT}") from error
    if spec.device == "numba-cuda":
        try:
            from numba import cuda  # noqa: F401
        except ImportError as error:
            raise RuntimeError(
                f"the matmul kernel {spec} needs Numba's CUDA target (the numba-cuda package): {_INSTALL_HINT}"
            ) from error


def run_matmul(spec: str, a: Any, b: Any) -> Any:
    """``a @ b`` computed by the kernel ``spec``, with ``xp.matmul``'s rules for batch axes.

    ``a`` and ``b`` are raw backend arrays (any strides); the result is a new
    C-contiguous array of the same backend (the arrays themselves say which
    library they are).  CPU kernels take NumPy arrays in
    float32 or float64; CUDA kernels take CuPy arrays (NumPy arrays under
    ``NUMBA_ENABLE_CUDASIM=1``) in float32 only.

    >>> import numpy as np
    >>> run_matmul("numba-cpu:ikj", np.ones((2, 3), np.float32), np.ones((3, 4), np.float32))[0, 0]
    np.float32(3.0)
    """
    spec = parse_spec(spec)
    run_2d = launcher(spec)            # first, so that a missing Numba is what gets reported
    array_module = _array_module(spec, a, b)
    _check_dtypes(spec, a, b)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul kernel {spec}: shapes {tuple(a.shape)} and {tuple(b.shape)} do not fit "
                         "(need (..., m, k) @ (..., k, n))")
    batch = tuple(array_module.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    if b.ndim == 2 and batch:
        # A stack of inputs times one weight matrix (a layer on a batch of sequences):
        # fold the stack into the rows, so it is one big GEMM instead of many small ones.
        rows = math.prod(batch) * m
        out = _gemm_2d(run_2d, array_module, array_module.reshape(a, (rows, k)), b)
        return array_module.reshape(out, batch + (m, n))
    if not batch:
        return _gemm_2d(run_2d, array_module, a, b)
    a = array_module.broadcast_to(a, batch + (m, k))
    b = array_module.broadcast_to(b, batch + (k, n))
    out = array_module.empty(batch + (m, n), dtype=a.dtype)
    for index in _indices(batch):
        out[index] = _gemm_2d(run_2d, array_module, a[index], b[index])
    return out


def _gemm_2d(run_2d: Callable, array_module: Any, a: Any, b: Any) -> Any:
    a, b = _contiguous(array_module, a), _contiguous(array_module, b)
    out = array_module.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    if out.size == 0:
        return out
    if a.shape[1] == 0:
        out[...] = 0
        return out
    run_2d(a, b, out)
    return out


def _contiguous(array_module: Any, x: Any) -> Any:
    """A C-ordered, writable version of ``x`` (``x`` itself when it already is one)."""
    x = array_module.ascontiguousarray(x)  # the kernels index rows directly: they need C order
    if not getattr(x.flags, "writeable", True):
        # Broadcast views are read-only, and Numba's CUDA simulator copies every argument back
        # after a launch (and the CPU kernels would compile a second, read-only version).
        x = x.copy()
    return x


def _indices(batch: tuple[int, ...]):
    return itertools.product(*(range(size) for size in batch))


def _array_module(spec: KernelSpec, a: Any, b: Any) -> Any:
    """NumPy or CuPy, whichever the kernel runs on, after checking that the arrays live there."""
    kinds = {type(a).__module__.split(".")[0], type(b).__module__.split(".")[0]}
    if spec.device == "numba-cpu":
        wanted = "numpy"
        advice = "use the 'numpy' backend (md.set_backend('numpy')), or a numba-cuda kernel on 'cupy'"
    elif _simulating_cuda():
        wanted = "numpy"
        advice = "under NUMBA_ENABLE_CUDASIM=1 the CUDA kernels run on NumPy arrays: use the 'numpy' backend"
    else:
        wanted = "cupy"
        advice = "use the 'cupy' backend (md.set_backend('cupy')), or a numba-cpu kernel on 'numpy'"
    if kinds != {wanted}:
        found = " and ".join(sorted(kinds))
        raise TypeError(f"the matmul kernel {spec} runs on {wanted} arrays, but got {found} arrays; {advice}, "
                        "or md.set_matmul('xp')")
    return importlib.import_module(wanted)


def _simulating_cuda() -> bool:
    import numba

    return bool(numba.config.ENABLE_CUDASIM)


def _check_dtypes(spec: KernelSpec, a: Any, b: Any) -> None:
    allowed = ("float32",) if spec.device == "numba-cuda" else ("float32", "float64")
    names = {str(a.dtype), str(b.dtype)}
    if len(names) != 1 or not names <= set(allowed):
        raise TypeError(
            f"the matmul kernel {spec} computes in {' or '.join(allowed)} (both operands alike), got "
            f"{a.dtype} {tuple(a.shape)} and {b.dtype} {tuple(b.shape)}; cast with .astype(md.float32), "
            "or use md.set_matmul('xp') (e.g. for float64 gradient checks)"
        )
