"""Which GEMM runs every matrix product: the setting, the call, and the cuBLAS call a CUDA graph captures.

All of matmul routing lives here:

- the setting: ``md.set_matmul(spec)``, ``md.using_matmul(spec)`` or the
  environment variable ``MINIDL_MATMUL``; ``"xp"`` (the default) is the
  backend's own ``@`` (BLAS / cuBLAS), ``"numba-cpu:<kernel>"`` and
  ``"numba-cuda:<kernel>"`` a rung of the ladder in [`minidl.kernels.registry`][minidl.kernels.registry];
- `gemm()`, which every GEMM of the engine calls, forward and backward
  (``MatMul``, ``Linear``, and through them convolution);
- the precision of float32 products: ``md.set_matmul_precision("highest" |
  "high" | "medium")``, PyTorch's spelling. On CuPy, ``"high"`` lets cuBLAS
  run float32 GEMMs on TF32 tensor cores (inputs rounded to 10 bits of
  mantissa, sums in float32; several times SGEMM's speed on an H100, not yet
  measured here: docs/gemm.md), ``"medium"`` on
  bfloat16 ones; ``"highest"`` is true FP32. NumPy's BLAS has no such mode:
  there the setting is recorded and changes nothing;
- `GraphGemm`, cuBLAS called through ``ctypes`` on a handle of a CUDA
  graph's own, because CuPy refuses to call cuBLAS while a stream is being
  captured ("calling cuBLAS API during stream capture is currently unsupported").

The kernel setting lives in `contextvars`, so each thread has its own;
the precision is one setting for the process, as CuPy's (and PyTorch's) is.

>>> import minidl as md
>>> with md.using_matmul("numba-cpu:ikj"):
...     md.get_matmul()
'numba-cpu:ikj'
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import importlib.util
import os
import threading
import weakref
from typing import Any, Iterator

from minidl.kernels.registry import parse_spec, run_matmul

_matmul: contextvars.ContextVar[str] = contextvars.ContextVar(
    "minidl_matmul", default=os.environ.get("MINIDL_MATMUL", "xp"))


def get_matmul() -> str:
    """The matmul implementation in use: ``"xp"`` (the backend's BLAS) or a kernel spec."""
    return _matmul.get()


def set_matmul(spec: str) -> None:
    """Route every matmul, forward and backward, through ``spec`` (``"xp"`` or ``"numba-cpu:packed"``, ...)."""
    _matmul.set(_checked(spec))


@contextlib.contextmanager
def using_matmul(spec: str) -> Iterator[str]:
    """Use the matmul ``spec`` inside a ``with`` block, then restore the previous one."""
    token = _matmul.set(_checked(spec))
    try:
        yield spec
    finally:
        _matmul.reset(token)


def _checked(spec: str) -> str:
    if spec != "xp":
        parse_spec(spec)  # a clear error now, not at the first product
    return spec


# ---- the precision of float32 products ------------------------------------------------------------------
PRECISIONS = ("highest", "high", "medium")
# CuPy reads CUPY_TF32 once, at its first float32 GEMM: start from what it will do.
_precision = "high" if os.environ.get("CUPY_TF32", "0").strip() not in ("", "0") else "highest"


def get_matmul_precision() -> str:
    """``"highest"`` (true FP32), ``"high"`` (TF32 tensor cores allowed) or ``"medium"`` (bfloat16 allowed).

    >>> import minidl as md
    >>> md.get_matmul_precision() in ("highest", "high", "medium")
    True
    """
    return _precision


def set_matmul_precision(precision: str) -> None:
    """Let float32 GEMMs trade precision for speed, as ``torch.set_float32_matmul_precision``.

    ``"high"``: cuBLAS may use TF32 tensor cores (CuPy's compute type TF32;
    the same as ``CUPY_TF32=1``). ``"medium"``: bfloat16 tensor cores.
    ``"highest"``: true FP32. Effective on the CuPy backend (GPUs of compute
    capability 8.0 or more); on NumPy it is recorded and has no effect.
    Graph captures (``md.compile`` on CuPy) follow it too.
    """
    global _precision
    if precision not in PRECISIONS:
        raise ValueError(f"unknown matmul precision {precision!r}; use one of {', '.join(map(repr, PRECISIONS))}")
    _apply_to_cupy(precision)
    _precision = precision


def _apply_to_cupy(precision: str) -> None:
    if importlib.util.find_spec("cupy") is None:
        return
    import cupy

    if not cupy.cuda.is_available():
        return
    from cupy._core import _routines_linalg as linalg  # where CuPy keeps its cuBLAS compute type per dtype

    compute_type = {"highest": getattr(linalg, "COMPUTE_TYPE_DEFAULT", 1),
                    "high": getattr(linalg, "COMPUTE_TYPE_TF32", 7),
                    "medium": getattr(linalg, "COMPUTE_TYPE_BF16", 6)}[precision]
    linalg.set_compute_type(cupy.float32, compute_type)


def gemm(a: Any, b: Any) -> Any:
    """``a @ b`` for raw arrays, by the GEMM the setting names (with ``matmul``'s rules for batch axes)."""
    spec = _matmul.get()
    if spec == "xp":
        return a @ b  # the standard's operator: no array-api-compat wrapper per product
    return run_matmul(spec, a, b)


# ---- cuBLAS through ctypes, for a CUDA graph capture ----------------------------------------------------
_CUBLAS_OP_N, _CUBLAS_OP_T = 0, 1
_CUBLAS_DEFAULT_MATH, _CUBLAS_TF32_TENSOR_OP_MATH = 0, 3
_WORKSPACE_BYTES = 32 * 2**20  # what cuBLAS asks for on Hopper; 4 MiB suffices on older cards


class GraphGemm:
    """cuBLAS SGEMM/DGEMM on a handle of a graph's own, bound to its capture stream with a fixed workspace.

    cuBLAS then allocates nothing while captured. Call it like ``gemm``, on
    float32/float64 CuPy arrays, 2-D (or a stack of rows times a 2-D matrix),
    inside ``with graph_gemm.bound_to(stream):``.
    """

    def __init__(self) -> None:
        import cupy

        self._cupy = cupy
        self._library = _cublas_library()
        handle = ctypes.c_void_p()
        _check(self._library.cublasCreate_v2(ctypes.byref(handle)), "cublasCreate")
        weakref.finalize(self, self._library.cublasDestroy_v2, handle)
        self._handle = handle
        self._workspace = cupy.empty(_WORKSPACE_BYTES, dtype=cupy.uint8)
        self._bound = threading.local()

    @contextlib.contextmanager
    def bound_to(self, stream: Any) -> Iterator[None]:
        library, handle = self._library, self._handle
        _check(library.cublasSetStream_v2(handle, ctypes.c_void_p(stream.ptr)), "cublasSetStream")
        math_mode = _CUBLAS_DEFAULT_MATH if _precision == "highest" else _CUBLAS_TF32_TENSOR_OP_MATH
        _check(library.cublasSetMathMode(handle, math_mode), "cublasSetMathMode")
        _check(library.cublasSetWorkspace_v2(handle, ctypes.c_void_p(self._workspace.data.ptr),
                                             ctypes.c_size_t(_WORKSPACE_BYTES)), "cublasSetWorkspace")
        self._bound.active = True
        try:
            yield
        finally:
            self._bound.active = False

    def __call__(self, a: Any, b: Any) -> Any:
        cupy = self._cupy
        if not getattr(self._bound, "active", False):
            raise RuntimeError("GraphGemm runs only inside a CUDA graph capture (with graph_gemm.bound_to(stream))")
        if a.ndim > 2 and b.ndim == 2:  # a stack of rows times one matrix (a layer on sequences): one GEMM
            rows = self(cupy.reshape(a, (-1, a.shape[-1])), b)
            return cupy.reshape(rows, tuple(a.shape[:-1]) + (b.shape[1],))
        if a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype or a.dtype not in (cupy.float32, cupy.float64):
            raise NotImplementedError(f"a captured matmul takes two 2-D float32 or float64 arrays, got shapes "
                                      f"{tuple(a.shape)} and {tuple(b.shape)} of {a.dtype} and {b.dtype}")
        (m, k), n = a.shape, b.shape[1]
        out = cupy.empty((m, n), dtype=a.dtype)
        if m == 0 or n == 0 or k == 0:
            out.fill(0)
            return out
        # Row-major C = A @ B is column-major C^T = B^T @ A^T: cuBLAS gets B first, then A.
        b, op_b, ld_b = _operand(b, cupy)
        a, op_a, ld_a = _operand(a, cupy)
        scalar = ctypes.c_float if a.dtype == cupy.float32 else ctypes.c_double
        call = self._library.cublasSgemm_v2 if a.dtype == cupy.float32 else self._library.cublasDgemm_v2
        one, zero = scalar(1.0), scalar(0.0)
        _check(call(self._handle, op_b, op_a, n, m, k, ctypes.byref(one), b.data.ptr, ld_b, a.data.ptr, ld_a,
                    ctypes.byref(zero), out.data.ptr, n), "cublasGemm")
        return out


def _cublas_library() -> ctypes.CDLL:
    """The libcublas that CuPy loaded (found in this process's memory map, so the versions agree)."""
    import cupy

    cupy.cuda.device.get_cublas_handle()  # makes CuPy load libcublas, if it has not yet
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "/libcublas.so" in line}
    if not paths:
        raise RuntimeError("CUDA graphs: libcublas is not loaded in this process (CuPy's cuBLAS not found)")
    library = ctypes.CDLL(sorted(paths)[0])
    for name in ("cublasSgemm_v2", "cublasDgemm_v2"):
        getattr(library, name).argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                           ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                                           ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                           ctypes.c_int]
    return library


def _check(status: int, call: str) -> None:
    if status != 0:
        raise RuntimeError(f"CUDA graphs: {call} failed with cuBLAS status {status}")


def _operand(array: Any, cupy: Any) -> tuple[Any, int, int]:
    """A row-major matrix as cuBLAS (column-major) sees its transpose: (array, op, leading dimension)."""
    rows, cols = array.shape
    if array.flags.c_contiguous:
        return array, _CUBLAS_OP_N, max(cols, 1)
    if array.flags.f_contiguous:  # a transposed view (weight.T): cuBLAS transposes it back
        return array, _CUBLAS_OP_T, max(rows, 1)
    return _operand(cupy.ascontiguousarray(array), cupy)
