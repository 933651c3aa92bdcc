"""CUDA graphs: record a fixed sequence of GPU work once, then launch it with one call.

A training step on small arrays is bound by launches, not by arithmetic:
each of its ~60 kernels costs the CPU several microseconds to queue.  A CUDA
graph is the whole sequence, recorded once by *stream capture* (the work is
queued on a capturing stream, which stores it instead of running it) and
then launched at the cost of a single call.

What a capture fixes, and how this module keeps it true:

- Addresses.  The kernels read and write the very arrays they saw at the
  capture, so the caller passes arrays that stay put (its "static" inputs)
  and copies each new batch into them.
- Memory.  Arrays allocated during the capture come from a memory pool of
  the graph's own, which nothing else ever allocates from: a block the
  recorded work frees and reuses stays the graph's, and no later array of
  the program can land on an address that a launch will write.
- No host work inside.  A value read back to the host (``int(array)``) cannot
  be captured; callers run such checks before the launch.
- cuBLAS.  CuPy refuses to call cuBLAS while a stream captures ("calling
  cuBLAS API during stream capture is currently unsupported"), so the
  captured program multiplies matrices with :meth:`CapturedGraph.matmul`:
  cuBLAS's own SGEMM/DGEMM, called through ``ctypes`` on a handle of the
  graph's, bound to the capturing stream and given a fixed workspace before
  the capture starts (cuBLAS then allocates nothing while captured).

Only CuPy has graphs here; :func:`supports_graphs` says so for a backend.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Any, Callable, Sequence

_CUBLAS_OP_N, _CUBLAS_OP_T = 0, 1
_WORKSPACE_BYTES = 32 * 2**20  # what cuBLAS asks for on Hopper; 4 MiB suffices on older cards
_capturing = threading.local()  # .cublas: the (library, handle) of the capture running in this thread


def supports_graphs(backend: str) -> bool:
    """Whether ``backend`` can capture CUDA graphs (CuPy with a GPU)."""
    if backend != "cupy":
        return False
    from minidl.backend.arrays import is_gpu_available

    return is_gpu_available()


class CapturedGraph:
    """``function(*sources)`` captured once; :meth:`launch` runs it again and returns the same output arrays.

    The outputs are overwritten at every launch (they are the graph's own
    arrays): copy what must outlive the next launch.
    """

    def __init__(self, function: Callable[..., Any], sources: Sequence[Any]) -> None:
        import cupy

        self._cupy = cupy
        self._pool = cupy.cuda.MemoryPool()          # the graph's own memory, see the module docstring
        self._stream = cupy.cuda.Stream(non_blocking=True)  # capture needs a stream other than the default
        self._sources = list(sources)                 # kept alive: the graph reads their addresses
        library = _cublas_library()
        handle = ctypes.c_void_p()
        _check(library.cublasCreate_v2(ctypes.byref(handle)), "cublasCreate")
        weakref.finalize(self, library.cublasDestroy_v2, handle)
        self._workspace = cupy.empty(_WORKSPACE_BYTES, dtype=cupy.uint8)
        _check(library.cublasSetStream_v2(handle, ctypes.c_void_p(self._stream.ptr)), "cublasSetStream")
        _check(library.cublasSetWorkspace_v2(handle, ctypes.c_void_p(self._workspace.data.ptr),
                                             ctypes.c_size_t(_WORKSPACE_BYTES)), "cublasSetWorkspace")
        self._stream.wait_event(cupy.cuda.get_current_stream().record())
        error: BaseException | None = None
        graph = None
        _capturing.cublas = (library, handle)
        try:
            with cupy.cuda.using_allocator(self._pool.malloc), self._stream:
                self._stream.begin_capture()
                try:
                    self.outputs = function(*self._sources)
                except BaseException as raised:  # noqa: BLE001 - re-raised below, after the capture is closed
                    error = raised
                try:
                    graph = self._stream.end_capture()
                except Exception as ended:  # noqa: BLE001 - a capture that an error invalidated
                    error = error or ended
        finally:
            _capturing.cublas = None
        if error is not None:
            raise error
        self._graph = graph

    @staticmethod
    def matmul(a: Any, b: Any) -> Any:
        """``a @ b`` for float32/float64 CuPy arrays, 2-D (or a stack of rows times a 2-D matrix), while capturing."""
        return _captured_gemm(a, b)

    def launch(self) -> Any:
        """Run the recorded work on the current stream, after what is queued there; return the outputs."""
        self._graph.launch(stream=self._cupy.cuda.get_current_stream())
        return self.outputs


# ---- cuBLAS through ctypes, for the capture ------------------------------------------------------------
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


def _captured_gemm(a: Any, b: Any) -> Any:
    import cupy

    active = getattr(_capturing, "cublas", None)
    if active is None:
        raise RuntimeError("CapturedGraph.matmul runs only inside a CUDA graph capture")
    if a.ndim > 2 and b.ndim == 2:  # a stack of rows times one matrix (a layer on sequences): one GEMM
        rows = _captured_gemm(cupy.reshape(a, (-1, a.shape[-1])), b)
        return cupy.reshape(rows, tuple(a.shape[:-1]) + (b.shape[1],))
    if a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype or a.dtype not in (cupy.float32, cupy.float64):
        raise NotImplementedError(f"a captured matmul takes two 2-D float32 or float64 arrays, got shapes "
                                  f"{tuple(a.shape)} and {tuple(b.shape)} of {a.dtype} and {b.dtype}")
    library, handle = active
    (m, k), n = a.shape, b.shape[1]
    out = cupy.empty((m, n), dtype=a.dtype)
    if m == 0 or n == 0 or k == 0:
        out.fill(0)
        return out
    # Row-major C = A @ B is column-major C^T = B^T @ A^T: cuBLAS gets B first, then A.
    b, op_b, ld_b = _operand(b, cupy)
    a, op_a, ld_a = _operand(a, cupy)
    scalar = ctypes.c_float if a.dtype == cupy.float32 else ctypes.c_double
    gemm = library.cublasSgemm_v2 if a.dtype == cupy.float32 else library.cublasDgemm_v2
    one, zero = scalar(1.0), scalar(0.0)
    _check(gemm(handle, op_b, op_a, n, m, k, ctypes.byref(one), b.data.ptr, ld_b, a.data.ptr, ld_a,
                ctypes.byref(zero), out.data.ptr, n), "cublasGemm")
    return out
