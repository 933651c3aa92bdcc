"""Run under ``mpirun -n 2``: rank 1 raises while rank 0 waits in a collective; the job must end, not hang."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import minidl as md  # noqa: E402
import minidl.distributed as dist  # noqa: E402

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise ValueError("rank 1 fails on purpose")
dist.all_reduce(md.tensor([1.0]))  # rank 0 would wait here forever without the abort
print("rank 0 should never get here")
