"""Train the digits CNN with data parallelism: one process per shard of every batch.

    mpirun -n 2 python examples/train_ddp.py            # two processes (add --oversubscribe on a 2-core VM)
    mpirun -n 2 python examples/train_ddp.py --quick    # one epoch, as CI runs it
    python examples/train_ddp.py                        # also runs: a group of one process

Every rank holds the whole model. DistributedSampler gives each rank its own
part of the data, each rank computes gradients on its half of the batch, and
DistributedDataParallel averages them with an MPI all-reduce (overlapped with
backward) so every rank takes the same step. Rank 0 alone prints, draws the
progress bar, tests and saves. BatchNorm normalizes over each rank's own
samples (minidl has no synchronized BatchNorm), so this is not bit-for-bit
the one-process run; tests/mpi/ddp_matches_single.py shows a model that is.
"""

from __future__ import annotations

import sys
from typing import Sequence

import minidl as md
import minidl.distributed as dist
import minidl.nn as nn
import minidl.optim as optim

from _common import accuracy, parser, progress_bar, train_epoch, training_step
from train_cnn import build_model, load_data


def main(argv: Sequence[str] | None = None) -> float:
    """Train on every rank; returns rank 0's final test accuracy (0..1), -1.0 on the other ranks."""
    p = parser(__doc__.splitlines()[0], plot=False, compile=False, epochs=10, lr=5e-3, batch_size=64)
    p.add_argument("--dataset", choices=["digits", "mnist", "fashion_mnist"], default="digits")
    p.add_argument("--bucket-mb", type=float, default=25.0, help="gradient bucket size in MB (default: 25)")
    p.add_argument("--save", metavar="PATH", help="rank 0 saves the trained weights here (.npz)")
    args = p.parse_args(argv)
    epochs = min(args.epochs, 1) if args.quick else args.epochs

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} must divide among {world} processes")
    with md.using_backend(args.backend):
        md.manual_seed(args.seed + rank)  # different on each rank: DDP copies rank 0's weights to all
        train_set, test_set, size = load_data(args.dataset, args.quick)
        sampler = md.data.DistributedSampler(train_set, seed=args.seed, drop_last=True)
        train = md.data.DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler)
        model = nn.parallel.DistributedDataParallel(build_model(size), bucket_cap_mb=args.bucket_mb)
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        talk = rank == 0 and not args.quiet
        if talk:
            print(f"{world} process(es), batch {args.batch_size} = {world} x {args.batch_size // world}, "
                  f"{len(model._buckets)} gradient bucket(s), backend {md.get_backend()}")
        result = -1.0
        for epoch in range(1, epochs + 1):
            sampler.set_epoch(epoch)  # a new shuffle, the same on every rank
            progress = progress_bar(len(train), f"epoch {epoch}/{epochs}") if talk else None
            loss = md.tensor([train_epoch(model, train, training_step(model, optimizer), progress)], dtype=md.float64)
            dist.all_reduce(loss, op="avg")  # every rank's mean loss, averaged for the log
            if rank == 0:
                result = accuracy(model.module, md.data.DataLoader(test_set, batch_size=500))
            if progress is not None:
                progress.close()
            if talk:
                print(f"epoch {epoch}/{epochs}  loss {loss.item():.4f}  test accuracy {100 * result:.2f}%", flush=True)
    if rank == 0:
        print(f"test accuracy: {100 * result:.2f}% ({len(test_set)} test images, {epochs} epochs, {world} processes)")
        if args.save:
            md.save(model.module.state_dict(), args.save)  # one copy, from rank 0: all ranks hold the same
    dist.destroy_process_group()
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
