"""Run under ``mpirun -n 2``: data-parallel training on half-batches equals one process on the full batch.

Every rank also trains the single-process reference itself (no communication),
so the comparison needs nothing but this script. Exits 0 and prints
``ddp ok`` on rank 0 when every variant agrees to 1e-10 (float64).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the worktree's minidl, not an installed one

import minidl as md  # noqa: E402
import minidl.distributed as dist  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
import minidl.optim as optim  # noqa: E402

STEPS, BATCH, TOLERANCE = 24, 16, 1e-10


class Tied(nn.Module):
    """One Linear used twice in a forward: its gradient is accumulated twice per backward."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Linear(6, 6, dtype=md.float64)
        self.head = nn.Linear(6, 4, dtype=md.float64)

    def forward(self, x: md.Tensor) -> md.Tensor:
        return self.head(self.inner(self.inner(x).tanh()).tanh())


def make_model(kind: str, seed: int) -> nn.Module:
    md.manual_seed(seed)
    if kind == "tied":
        return Tied()
    return nn.Sequential(nn.Linear(6, 32, dtype=md.float64), nn.Tanh(), nn.Linear(32, 16, dtype=md.float64),
                         nn.ReLU(), nn.Linear(16, 4, dtype=md.float64))


def data() -> tuple[numpy.ndarray, numpy.ndarray]:
    rng = numpy.random.default_rng(7)
    return rng.standard_normal((STEPS * BATCH, 6)), rng.integers(0, 4, STEPS * BATCH)


def train(model: nn.Module, rows: slice, accumulate: int, ddp: nn.Module | None = None) -> nn.Module:
    """SGD with momentum over STEPS batches; each step's batch split into ``accumulate`` micro-batches."""
    x, y = data()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    runner = model if ddp is None else ddp
    for step in range(STEPS):
        batch_x, batch_y = x[step * BATCH:(step + 1) * BATCH][rows], y[step * BATCH:(step + 1) * BATCH][rows]
        optimizer.zero_grad()
        chunks = numpy.array_split(numpy.arange(len(batch_y)), accumulate)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            loss = F.cross_entropy(runner(md.tensor(batch_x[chunk], dtype=md.float64)), md.tensor(batch_y[chunk])) / accumulate
            if ddp is not None and not last:
                with ddp.no_sync():
                    loss.backward()
            else:
                loss.backward()
        optimizer.step()
    return model


def check(kind: str, accumulate: int = 1, **ddp_options: object) -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    reference = train(make_model(kind, seed=0), slice(None), accumulate)
    # Rank 0 starts as the reference does, the others elsewhere: DDP must broadcast rank 0's parameters.
    model = make_model(kind, seed=0 if rank == 0 else 100 + rank)
    ddp = nn.parallel.DistributedDataParallel(model, **ddp_options)
    share = BATCH // size
    train(model, slice(rank * share, (rank + 1) * share), accumulate, ddp)
    for (name, expected), got in zip(reference.named_parameters(), model.parameters()):
        error = float(numpy.max(numpy.abs(expected.numpy() - got.numpy())))
        if not error <= TOLERANCE:
            raise AssertionError(f"[rank {rank}] {kind} {ddp_options} accumulate={accumulate}: "
                                 f"{name} differs from single-process training by {error:.3g}")


def main() -> None:
    dist.init_process_group("mpi")
    check("mlp")                                    # one bucket, overlapped
    check("mlp", bucket_cap_mb=0.001)               # one bucket per parameter, overlapped
    check("mlp", bucket_cap_mb=0.001, overlap=False)
    check("mlp", accumulate=2, bucket_cap_mb=0.001)  # no_sync for the first micro-batch
    check("tied", bucket_cap_mb=0.0001)             # a parameter whose gradient grows after its bucket left
    with md.using_backend("array_api_strict"):      # arrays that MPI cannot take: they travel through the host
        check("mlp", bucket_cap_mb=0.001)
    value = md.tensor([float(dist.get_rank() + 1)] * 3)
    dist.all_reduce(value, op="sum")
    assert value.tolist() == [3.0] * 3, value.tolist()
    dist.barrier()
    if dist.get_rank() == 0:
        print("ddp ok")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
