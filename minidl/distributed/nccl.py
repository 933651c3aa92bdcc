"""The NCCL backend: collectives on CuPy arrays through CuPy's NCCL bindings.

NCCL (NVIDIA Collective Communications Library) runs an all-reduce as CUDA
kernels that copy and add over NVLink, PCIe or InfiniBand, on a CUDA stream of
its own, so the GPU keeps computing while gradients travel. The processes
still need one way to meet: rank 0 makes a unique id and MPI broadcasts it
(one process alone needs no MPI). Each process uses GPU ``rank % device count``.

Written for a multi-GPU machine; the project's one-GPU machine can run one rank only.
"""

from __future__ import annotations

import os
from typing import Any


def import_nccl() -> tuple[Any, Any]:
    """``(cupy, cupy.cuda.nccl)``, or an error that says what is missing."""
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError as error:
        raise ImportError("minidl.distributed's 'nccl' backend needs CuPy built with NCCL: "
                          "pip install 'minidl[gpu]' (cupy-cuda12x) on a machine with an NVIDIA GPU") from error
    if not cupy.cuda.is_available():
        raise RuntimeError("minidl.distributed's 'nccl' backend needs a CUDA GPU and none is visible; "
                           "use init_process_group('mpi') on CPU")
    return cupy, nccl


class _NcclWork:
    """An all-reduce queued on the communication stream; ``wait()`` orders the current stream after it."""

    def __init__(self, cupy: Any, stream: Any) -> None:
        self.cupy = cupy
        self.done = stream.record()

    def Wait(self) -> None:  # the name MPI requests use, so both backends' work waits the same way
        self.cupy.cuda.get_current_stream().wait_event(self.done)


class NcclComm:
    """A process group of one GPU per process; buffers are contiguous CuPy arrays."""

    name = "nccl"

    def __init__(self) -> None:
        self.cupy, self.nccl = import_nccl()
        self.mpi_comm = _mpi_world_if_launched()
        self.rank = 0 if self.mpi_comm is None else self.mpi_comm.Get_rank()
        self.size = 1 if self.mpi_comm is None else self.mpi_comm.Get_size()
        self.cupy.cuda.Device(self.rank % self.cupy.cuda.runtime.getDeviceCount()).use()
        unique_id = self.nccl.get_unique_id() if self.rank == 0 else None
        if self.mpi_comm is not None:
            unique_id = self.mpi_comm.bcast(unique_id, root=0)
        self.comm = self.nccl.NcclCommunicator(self.size, unique_id, self.rank)
        self.stream = self.cupy.cuda.Stream(non_blocking=True)
        nccl = self.nccl
        self._ops = {"sum": nccl.NCCL_SUM, "avg": nccl.NCCL_SUM, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN}
        self._types = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
                       "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64}

    def native(self, array: Any) -> Any:
        if type(array).__module__.split(".")[0] != "cupy":
            raise TypeError(f"the 'nccl' backend reduces CuPy arrays (GPU), got {type(array).__module__}."
                            f"{type(array).__name__}; move the model with .to('cupy'), or use the 'mpi' backend")
        return self.cupy.ascontiguousarray(array)

    def restore(self, buffer: Any, backend: str) -> Any:
        return buffer

    def _type(self, buffer: Any) -> int:
        name = str(buffer.dtype)
        if name not in self._types:
            raise TypeError(f"the 'nccl' backend reduces {sorted(self._types)}, not {name}")
        return self._types[name]

    def _after_compute(self) -> None:
        """Make the communication stream wait for the work already queued on the current stream."""
        self.stream.wait_event(self.cupy.cuda.get_current_stream().record())

    def all_reduce(self, buffer: Any, op: str, async_op: bool) -> Any:
        self._after_compute()
        pointer = buffer.data.ptr
        self.comm.allReduce(pointer, pointer, buffer.size, self._type(buffer), self._ops[op], self.stream.ptr)
        work = _NcclWork(self.cupy, self.stream)
        if async_op:
            return work
        work.Wait()
        return None

    def progress(self, requests: list) -> None:
        """NCCL kernels progress on their own stream: nothing to do."""

    def broadcast(self, buffer: Any, root: int) -> None:
        self._after_compute()
        pointer = buffer.data.ptr
        self.comm.broadcast(pointer, pointer, buffer.size, self._type(buffer), root, self.stream.ptr)
        _NcclWork(self.cupy, self.stream).Wait()

    def barrier(self) -> None:
        """NCCL has no barrier: a one-number all-reduce, waited for on the host, serves as one."""
        token = self.cupy.zeros((1,), dtype=self.cupy.float32)
        self.all_reduce(token, "sum", async_op=False)
        self.cupy.cuda.get_current_stream().synchronize()

    def abort(self, code: int) -> None:
        self.comm.abort()
        if self.mpi_comm is not None:
            self.mpi_comm.Abort(code)
        raise SystemExit(code)

    def close(self) -> None:
        self.stream.synchronize()
        self.comm.destroy()


def _mpi_world_if_launched() -> Any:
    """MPI's world communicator when this process was started by mpirun, else None (one process)."""
    if not any(name in os.environ for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK")):
        return None
    from minidl.distributed.mpi import import_mpi
    return import_mpi().COMM_WORLD
