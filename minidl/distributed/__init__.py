"""More than one process: a process group, collectives, and what data-parallel training is built on.

``import minidl`` imports neither MPI nor NCCL; this package loads mpi4py (or
CuPy's NCCL) only when ``init_process_group`` is called. Data-parallel training
itself is :class:`minidl.nn.parallel.DistributedDataParallel`, and each rank's
share of a data set comes from :class:`minidl.data.DistributedSampler`.

    mpirun -n 2 python examples/train_ddp.py --quick
"""

from minidl.distributed.collectives import Work, all_reduce, barrier, broadcast
from minidl.distributed.group import (
    destroy_process_group, get_backend, get_rank, get_world_size, init_process_group, is_initialized,
)

__all__ = [
    "Work", "all_reduce", "barrier", "broadcast", "destroy_process_group", "get_backend", "get_rank",
    "get_world_size", "init_process_group", "is_initialized",
]
