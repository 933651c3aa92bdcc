"""Data-parallel training: every process runs the whole model on its shard of the batch.

``DistributedDataParallel(model)`` makes every rank start from rank 0's
parameters, and after each ``backward()`` every parameter's ``.grad`` holds the
mean of all ranks' gradients, so every rank's optimizer takes the same step:
the same step one process would take on the whole batch (for a loss that is a
mean over samples and equal shards).

The fast path: gradients are reduced in buckets (about ``bucket_cap_mb`` each,
parameters in reverse order, the order backward produces them). A parameter's
post-accumulate-grad hook marks it ready; when a bucket is complete, its
gradients are flattened into one buffer and a nonblocking all-reduce starts
while backward goes on computing earlier layers. At the end of ``backward()``
(an engine callback the hooks queue) DDP waits for every bucket and
writes the averaged gradients back, so ``optimizer.step()`` needs no extra call.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from minidl.autograd.engine import queue_callback
from minidl.autograd.tensor import Tensor
from minidl.distributed.collectives import all_reduce, broadcast
from minidl.distributed.group import current_group
from minidl.nn.module import Module


class _Bucket:
    """Parameters whose gradients travel together in one flat buffer."""

    def __init__(self, parameters: list[tuple[str, Tensor]]) -> None:
        self.names = [name for name, _ in parameters]
        self.parameters = [parameter for _, parameter in parameters]
        self.ready: set[int] = set()
        self.reduced_too_early = False  # a gradient grew after its bucket was sent (a parameter used twice)
        self.flat: Tensor | None = None
        self.work: Any = None

    def launch(self) -> None:
        """Flatten the bucket's gradients into one buffer and start averaging it over all ranks."""
        first = self.parameters[0]
        xp = first.xp
        flat = xp.concat([xp.reshape(parameter.grad.data, (-1,)) for parameter in self.parameters])
        self.flat = Tensor._wrap(flat, xp, first.backend)
        self.work = all_reduce(self.flat, op="avg", async_op=True)

    def write_back(self) -> None:
        """Wait for the all-reduce, then give each parameter its slice of the averaged buffer."""
        self.work.wait()
        xp, flat, offset = self.flat.xp, self.flat.data, 0
        for parameter in self.parameters:
            size = parameter.size
            parameter.grad.data = xp.reshape(flat[offset:offset + size], parameter.shape)
            offset += size
        self.reset()

    def reset(self) -> None:
        """Forget this backward's state (after write_back, or after a backward that failed half-way)."""
        if self.work is not None and not self.work.done:
            self.work.wait()
        self.ready.clear()
        self.reduced_too_early, self.flat, self.work = False, None, None


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training in the current process group.

    >>> import minidl as md, minidl.nn as nn, minidl.distributed as dist
    >>> dist.init_process_group("mpi")                     # mpirun -n N: N ranks; here one
    >>> model = nn.parallel.DistributedDataParallel(nn.Linear(3, 2))
    >>> model(md.ones((4, 3))).sum().backward()             # gradients averaged over the ranks
    >>> model.module.weight.grad.shape
    (2, 3)
    >>> dist.destroy_process_group()

    ``overlap=False`` starts every bucket's all-reduce only at the end of
    backward (for measuring what overlapping buys). Inside ``with
    model.no_sync():`` gradients only accumulate locally (gradient
    accumulation); the next backward outside it averages the total.
    Buffers (BatchNorm's running statistics) are copied from rank 0 once, at
    construction; each rank then updates its own.
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25.0, overlap: bool = True) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a minidl.nn.Module, got {type(module).__name__}")
        if bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.overlap = bool(overlap)
        self.require_backward_grad_sync = True
        group = current_group("DistributedDataParallel")
        for tensor in [*module.parameters(), *module.buffers()]:  # every rank starts from rank 0's state
            broadcast(tensor, src=0)
        trainable = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        self._buckets = _make_buckets(trainable[::-1], int(bucket_cap_mb * 2**20))
        self._bucket_of = {id(p): bucket for bucket in self._buckets for p in bucket.parameters}
        self._progress = group.progress
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._on_gradient) for _, p in trainable]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        for bucket in self._buckets:  # clean unless the last backward raised half-way
            if bucket.ready:
                bucket.reset()
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Accumulate gradients locally, without communication, for the backward passes in this block."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _on_gradient(self, parameter: Tensor) -> None:
        """A parameter's gradient is accumulated: mark it ready, send its bucket when the bucket is full."""
        if not self.require_backward_grad_sync:
            return
        queue_callback(self._finish)  # once per backward, however many hooks ask
        bucket = self._bucket_of[id(parameter)]
        if id(parameter) in bucket.ready:
            if bucket.work is not None:
                bucket.reduced_too_early = True
            return
        bucket.ready.add(id(parameter))
        if self.overlap and len(bucket.ready) == len(bucket.parameters):
            bucket.launch()
        self._progress([b.work.request for b in self._buckets if b.work is not None and not b.work.done])

    def _finish(self) -> None:
        """End of backward: send what is not sent yet, wait for everything, write the means back."""
        missing = [name for bucket in self._buckets for name, p in zip(bucket.names, bucket.parameters)
                   if id(p) not in bucket.ready]
        if missing:
            for bucket in self._buckets:
                bucket.reset()
            raise RuntimeError(
                f"DistributedDataParallel: these parameters got no gradient in this backward: {missing}; every "
                "rank must reduce the same gradients, so freeze unused parameters (requires_grad=False) "
                "or leave them out of the wrapped module")
        for bucket in self._buckets:  # the same order on every rank, as collectives require
            if bucket.reduced_too_early:
                bucket.work.wait()  # its result is stale: the gradient grew after it was sent
                bucket.work = None
            if bucket.work is None:
                bucket.launch()
        for bucket in self._buckets:
            bucket.write_back()


def _make_buckets(parameters: list[tuple[str, Tensor]], cap_bytes: int) -> list[_Bucket]:
    """Consecutive parameters of one dtype and backend, each bucket up to ``cap_bytes`` (at least one)."""
    buckets: list[list[tuple[str, Tensor]]] = []
    size = 0
    for name, parameter in parameters:
        nbytes = parameter.size * parameter.xp.finfo(parameter.data.dtype).bits // 8  # parameters are floating
        current = buckets[-1] if buckets else None
        fits = current is not None and size + nbytes <= cap_bytes and (
            current[0][1].dtype is parameter.dtype and current[0][1].backend == parameter.backend)
        if fits:
            current.append((name, parameter))
            size += nbytes
        else:
            buckets.append([(name, parameter)])
            size = nbytes
    return [_Bucket(bucket) for bucket in buckets]
