"""The MPI backend: collectives on host (NumPy) buffers through mpi4py.

MPI is the message-passing standard of supercomputers; ``mpirun -n 2 python
train.py`` starts two copies of the program, and ``MPI.COMM_WORLD`` connects
them. mpi4py passes NumPy arrays to the C library without a copy. Arrays of
other backends travel through the host (a CUDA-aware MPI could take CuPy arrays
directly; that path is not used here, see docs/parallel.md).
"""

from __future__ import annotations

from typing import Any

import numpy

from minidl import backend as _backend


def import_mpi() -> Any:
    """``mpi4py.MPI``, or an error that says how to install it."""
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as error:  # RuntimeError: mpi4py's wheel found no MPI library
        raise ImportError(
            "minidl.distributed's 'mpi' backend needs mpi4py and an MPI library: "
            "apt-get install openmpi-bin libopenmpi-dev, then pip install 'minidl[distributed]' (or mpi4py)"
        ) from error
    return MPI


class MpiComm:
    """A process group over ``MPI.COMM_WORLD``; buffers are contiguous NumPy arrays."""

    name = "mpi"

    def __init__(self) -> None:
        self.mpi = import_mpi()
        self.comm = self.mpi.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self._ops = {"sum": self.mpi.SUM, "avg": self.mpi.SUM, "max": self.mpi.MAX, "min": self.mpi.MIN}

    def native(self, array: Any) -> numpy.ndarray:
        """The array as a contiguous, writeable host buffer (the array itself when it already is one; a
        copy of a read-only view, such as NumPy's view of a JAX array, for MPI writes the result into it)."""
        host = numpy.ascontiguousarray(_backend.to_host(array))
        return host if host.flags.writeable else host.copy()

    def restore(self, buffer: numpy.ndarray, backend: str) -> Any:
        return buffer if backend == "numpy" else _backend.from_host(buffer, backend)

    def all_reduce(self, buffer: numpy.ndarray, op: str, async_op: bool) -> Any:
        if async_op:
            return self.comm.Iallreduce(self.mpi.IN_PLACE, buffer, self._ops[op])
        self.comm.Allreduce(self.mpi.IN_PLACE, buffer, self._ops[op])
        return None

    def progress(self, requests: list) -> None:
        """Let MPI move pending nonblocking collectives along (MPI progresses only inside its calls)."""
        if requests:
            self.mpi.Request.Testall(requests)

    def broadcast(self, buffer: numpy.ndarray, root: int) -> None:
        self.comm.Bcast(buffer, root=root)

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int) -> None:
        self.comm.Abort(code)

    def close(self) -> None:
        """Nothing to free: mpi4py finalizes MPI when the interpreter exits."""
