"""The process group: which processes take part, this one's rank, and what happens when one fails.

``init_process_group`` connects the processes that ``mpirun -n N`` started.
It also makes a failure in one rank end them all: otherwise the other ranks
would wait forever in their next collective for a partner that is gone.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

_BACKENDS = ("mpi", "nccl")
_group: Any = None
_previous_excepthook: Any = None


def init_process_group(backend: str = "mpi") -> None:
    """Join the job's process group: ``"mpi"`` (CPU arrays, through mpi4py) or ``"nccl"`` (CuPy arrays).

    Start the job with ``mpirun -n N python script.py``; run without mpirun, the
    group has one process (rank 0 of 1), which is how single-process code and
    tests run the same script.

    >>> import minidl.distributed as dist
    >>> dist.init_process_group("gloo")
    Traceback (most recent call last):
    ...
    ValueError: init_process_group: unknown backend 'gloo'; minidl has 'mpi' (CPU, through mpi4py) and 'nccl' (CuPy arrays on NVIDIA GPUs)
    """
    global _group, _previous_excepthook
    if backend not in _BACKENDS:
        raise ValueError(f"init_process_group: unknown backend {backend!r}; minidl has 'mpi' (CPU, through "
                         "mpi4py) and 'nccl' (CuPy arrays on NVIDIA GPUs)")
    if _group is not None:
        raise RuntimeError(f"init_process_group: a {_group.name!r} process group is already initialized; "
                           "call destroy_process_group() first")
    if backend == "mpi":
        from minidl.distributed.mpi import MpiComm
        _group = MpiComm()
    else:
        from minidl.distributed.nccl import NcclComm
        _group = NcclComm()
    _previous_excepthook = sys.excepthook
    sys.excepthook = _abort_all


def destroy_process_group() -> None:
    """Leave the process group (and stop aborting the job on an uncaught exception)."""
    global _group, _previous_excepthook
    group = _require("destroy_process_group")
    group.close()
    if sys.excepthook is _abort_all:
        sys.excepthook = _previous_excepthook
    _group, _previous_excepthook = None, None


def is_initialized() -> bool:
    """Whether ``init_process_group`` has been called (and not undone)."""
    return _group is not None


def get_backend() -> str:
    """``"mpi"`` or ``"nccl"``: the backend of the current process group."""
    return _require("get_backend").name


def get_rank() -> int:
    """This process's number in the group, 0 to ``get_world_size() - 1``; rank 0 logs and saves."""
    return _require("get_rank").rank


def get_world_size() -> int:
    """How many processes are in the group."""
    return _require("get_world_size").size


def current_group(caller: str) -> Any:
    """The process group's communicator (for collectives and DistributedDataParallel)."""
    return _require(caller)


def _require(caller: str) -> Any:
    if _group is None:
        raise RuntimeError(f"{caller}: no process group; call minidl.distributed.init_process_group('mpi') first "
                           "(and start the job with mpirun -n N python script.py)")
    return _group


def _abort_all(kind: type, value: BaseException, trace: Any) -> None:
    """An uncaught exception in any rank: print it, then take the whole job down (MPI_Abort)."""
    group = _group
    rank = "?" if group is None else group.rank
    sys.stderr.write(f"[rank {rank}] uncaught exception:\n" + "".join(traceback.format_exception(kind, value, trace)))
    if group is None or group.size == 1:
        return
    sys.stderr.write(f"[rank {rank}] minidl.distributed: aborting all {group.size} processes "
                     "(the others would wait for this one forever)\n")
    sys.stderr.flush()
    group.abort(1)
