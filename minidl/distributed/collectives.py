"""Collectives: every process calls the same function, and the data meet.

``all_reduce`` leaves every rank holding the sum (or mean, max, min) of all
ranks' arrays; ``broadcast`` copies rank ``src``'s array to every rank;
``barrier`` waits until all ranks reach it. Each works in place on a Tensor
(its ``.data`` is replaced by the result, as PyTorch's ops write into the tensor)
or on a NumPy array (MPI) or CuPy array (NCCL).

>>> import minidl as md, minidl.distributed as dist
>>> dist.init_process_group("mpi")            # one process here; mpirun -n N starts N
>>> grad = md.tensor([1.0, 2.0, 3.0])
>>> dist.all_reduce(grad, op="avg").tolist()   # the mean over ranks: with one rank, itself
[1.0, 2.0, 3.0]
>>> dist.destroy_process_group()
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.tensor import Tensor
from minidl.distributed.group import current_group

OPS = ("sum", "avg", "max", "min")


class Work:
    """A collective started with ``async_op=True``; ``wait()`` blocks until its result is in place."""

    def __init__(self, request: Any, finish: Any) -> None:
        self.request = request
        self._finish = finish
        self.done = False

    def wait(self) -> None:
        if not self.done:
            self.request.Wait()
            self._finish()
            self.done = True


def all_reduce(value: Any, op: str = "sum", async_op: bool = False) -> Any:
    """Reduce ``value`` over all ranks, in place; returns it, or a :class:`Work` when ``async_op``.

    ``op="avg"`` is a sum divided by the world size (what data-parallel training
    does to gradients); it needs a floating-point dtype.
    """
    group = current_group("all_reduce")
    if op not in OPS:
        raise ValueError(f"all_reduce: op must be one of {OPS}, got {op!r}")
    buffer, write_back = _buffer(group, value, "all_reduce")
    if op == "avg" and not _is_floating(buffer):
        raise TypeError(f"all_reduce(op='avg') needs a floating-point array, got {buffer.dtype}; "
                        "use op='sum' and divide, or cast first")

    def finish() -> None:
        if op == "avg" and group.size > 1:
            buffer[...] = buffer / group.size
        write_back()

    request = group.all_reduce(buffer, op, async_op)
    if async_op:
        return Work(request, finish)
    finish()
    return value


def broadcast(value: Any, src: int = 0) -> Any:
    """Copy rank ``src``'s ``value`` into ``value`` on every rank (in place); returns it."""
    group = current_group("broadcast")
    if not 0 <= src < group.size:
        raise ValueError(f"broadcast: src must be a rank in 0..{group.size - 1}, got {src}")
    buffer, write_back = _buffer(group, value, "broadcast")
    group.broadcast(buffer, src)
    write_back()
    return value


def barrier() -> None:
    """Wait until every rank has reached this call."""
    current_group("barrier").barrier()


def _buffer(group: Any, value: Any, caller: str) -> tuple[Any, Any]:
    """The communicator's buffer for ``value`` and a function that puts the result back into ``value``."""
    if isinstance(value, Tensor):
        buffer = group.native(value.data)

        def write_back() -> None:
            if buffer is not value.data:
                value.data = group.restore(buffer, value.backend)
        return buffer, write_back
    module = type(value).__module__.split(".")[0]
    if module not in ("numpy", "cupy"):
        raise TypeError(f"{caller} takes a minidl Tensor, a NumPy array or a CuPy array, got "
                        f"{type(value).__module__}.{type(value).__name__}; wrap it with md.tensor(...)")
    buffer = group.native(value)

    def copy_back() -> None:
        if buffer is not value:
            value[...] = buffer  # a non-contiguous array: the result goes back into it
    return buffer, copy_back


def _is_floating(buffer: Any) -> bool:
    return buffer.dtype.kind in "fc"
