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
  caller hands in a ``bind(stream)`` context for its own cuBLAS handle
  ([`minidl.kernels.matmul.GraphGemm`][minidl.kernels.matmul.GraphGemm]), entered around the capture.

Only CuPy has graphs here; `supports_graphs()` says so for a backend.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, ContextManager, Sequence


def supports_graphs(backend: str) -> bool:
    """Whether ``backend`` can capture CUDA graphs (CuPy with a GPU)."""
    if backend != "cupy":
        return False
    from minidl.backend.arrays import is_gpu_available

    return is_gpu_available()


class CapturedGraph:
    """``function(*sources)`` captured once; `launch()` runs it again and returns the same output arrays.

    The outputs are overwritten at every launch (they are the graph's own
    arrays): copy what must outlive the next launch.
    """

    def __init__(self, function: Callable[..., Any], sources: Sequence[Any],
                 bind: Callable[[Any], ContextManager] | None = None) -> None:
        import cupy

        self._cupy = cupy
        self._pool = cupy.cuda.MemoryPool()          # the graph's own memory, see the module docstring
        self._stream = cupy.cuda.Stream(non_blocking=True)  # capture needs a stream other than the default
        self._sources = list(sources)                 # kept alive: the graph reads their addresses
        self._stream.wait_event(cupy.cuda.get_current_stream().record())
        error: BaseException | None = None
        graph = None
        bound = bind(self._stream) if bind is not None else contextlib.nullcontext()
        with bound:
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
        if error is not None:
            raise error
        self._graph = graph

    def launch(self) -> Any:
        """Run the recorded work on the current stream, after what is queued there; return the outputs."""
        self._graph.launch(stream=self._cupy.cuda.get_current_stream())
        return self.outputs
