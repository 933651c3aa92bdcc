"""The profiler: where the time of a training step goes, op by op.

Inside ``with md.profile() as prof:`` every op's forward and every node's
backward is timed (waiting for the GPU first and after, so a time is the
op's own, not the queue's).  GEMM-type ops (matmul, linear, and with them
convolution, which is im2col plus one linear) also count their floating-point
operations, ``2 * M * K * N`` per product, so the table shows the GFLOP/s
each one achieved and the share of the step spent in GEMM.

Ops that a node's backward calls (the backward of ``linear`` is two matmuls
and a sum) are charged to that backward: the table has one row per op type
and phase, and the rows add up to the time spent inside ops.  The GEMMs
inside a backward are timed and counted one by one as well, so the GEMM
figures include the backward's products.  What is left of the step is
Python around the ops (the "outside ops" line).  An op is a GEMM for the
profiler when its class defines ``gemm_flops()``.

>>> import minidl as md, minidl.nn.functional as F
>>> w = md.randn(32, 16, requires_grad=True)
>>> with md.profile() as prof:
...     F.linear(md.randn(8, 16), w).sum().backward()
>>> [row["op"] for row in prof.records if row["flops"]]  # doctest: +SKIP
['Linear', 'Linear']
>>> prof.gemm_flops  # forward 2*8*16*32; backward one more product of that size (x needs no gradient)
16384

Outside the ``with`` block no hook is installed: an op pays nothing for the
profiler's existence.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Callable, Iterator

from minidl.autograd.function import Function
from minidl.autograd.hooks import install_hook
from minidl.backend import get_backend, synchronize

_DEVICE_BACKENDS = ("cupy",)  # backends whose ops run asynchronously and must be waited for


class Profile:
    """What ``md.profile()`` measured: a table (``print(prof)``) and the same figures as data.

    ``records``: one dict per (op, phase) with ``op``, ``phase``, ``calls``,
    ``seconds``, ``flops``, ``gflops_per_second`` and ``share`` (of the wall
    time), the slowest first.  ``wall_seconds`` is the time of the whole
    ``with`` block, ``op_seconds`` the part inside ops, ``gemm_seconds`` the
    part inside GEMMs, ``gemm_share`` = gemm_seconds / wall_seconds.
    """

    def __init__(self, synchronize_device: bool = True) -> None:
        self._wait_for = _DEVICE_BACKENDS if synchronize_device else ()
        self._rows: dict[tuple[str, str], list] = {}  # (op, phase) -> [calls, seconds, flops]
        self._depth = 0             # > 0 while an op runs; ops inside it are charged to the outermost
        self._inside_gemm = False
        self._flops_of_outermost = 0
        self._backend = ""
        self._backends: set[str] = set()
        self.gemm_seconds = 0.0
        self.gemm_flops = 0
        self.wall_seconds = 0.0
        self._started = 0.0

    # ---- the hook protocol of minidl.autograd.function.install_hook --------------------------------------
    def forward(self, node: Function, call: Callable[[], Any]) -> Any:
        if self._depth and node.gemm_flops is None:
            return call()  # inside another op, which is timed as a whole; only GEMMs are timed again
        return self._timed(node, call, "forward")

    def backward(self, node: Function, call: Callable[[], Any]) -> Any:
        return self._timed(node, call, "backward")

    def _timed(self, node: Function, call: Callable[[], Any], phase: str) -> Any:
        # Runs around every op while profiling: kept lean, its cost is the profiler's overhead.
        # A node's backward is not itself a GEMM: the products it runs are timed one by one inside it.
        counter = node.gemm_flops if phase == "forward" else None
        outermost = self._depth == 0
        if outermost:
            self._flops_of_outermost = 0
            self._backend = node.inputs[0].backend  # ops inside run on the same backend, maybe on raw arrays
        gemm = counter is not None and not self._inside_gemm
        backend = self._backend
        wait = backend in self._wait_for
        self._inside_gemm |= gemm
        self._depth += 1
        try:
            if wait:
                synchronize(backend)  # what was queued before belongs to someone else
            start = perf_counter()
            result = call()
            if wait:
                synchronize(backend)
            elapsed = perf_counter() - start
        finally:
            self._depth -= 1
            if gemm:
                self._inside_gemm = False
        if gemm:  # a GEMM inside a GEMM's backward (create_graph) is already counted by that backward
            flops = counter()
            self._flops_of_outermost += flops
            self.gemm_seconds += elapsed
            self.gemm_flops += flops
        if outermost:
            key = (type(node).__name__, phase)
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = [0, 0.0, 0]
                self._backends.add(backend)
            row[0] += 1
            row[1] += elapsed
            row[2] += self._flops_of_outermost
        return result

    # ---- results ---------------------------------------------------------------------------------------------
    @property
    def op_seconds(self) -> float:
        """Time inside ops (the sum of the rows)."""
        return sum(row[1] for row in self._rows.values())

    @property
    def gemm_share(self) -> float:
        """The fraction of the ``with`` block's wall time spent inside GEMMs."""
        return self.gemm_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def records(self) -> list[dict[str, Any]]:
        """One dict per (op, phase), the slowest first: data for plots."""
        rows = []
        for (op, phase), (calls, seconds, flops) in self._rows.items():
            rows.append({"op": op, "phase": phase, "calls": calls, "seconds": seconds, "flops": flops,
                         "gflops_per_second": flops / seconds / 1e9 if flops and seconds else None,
                         "share": seconds / self.wall_seconds if self.wall_seconds else 0.0})
        return sorted(rows, key=lambda row: row["seconds"], reverse=True)

    def table(self) -> str:
        """The records as a text table, with totals and the GEMM share."""
        wall_ms = self.wall_seconds * 1e3
        lines = [f"{'op':<18}{'phase':<10}{'calls':>7}{'total ms':>10}{'% of wall':>10}{'GFLOP':>9}{'GFLOP/s':>9}"]
        for row in self.records:
            rate = f"{row['gflops_per_second']:9.1f}" if row["gflops_per_second"] else f"{'':9}"
            gflop = f"{row['flops'] / 1e9:9.3f}" if row["flops"] else f"{'':9}"
            lines.append(f"{row['op']:<18}{row['phase']:<10}{row['calls']:>7}{row['seconds'] * 1e3:>10.3f}"
                         f"{row['share'] * 100:>9.1f}%{gflop}{rate}")
        outside = self.wall_seconds - self.op_seconds
        rate = self.gemm_flops / self.gemm_seconds / 1e9 if self.gemm_seconds else 0.0
        lines += [
            f"wall {wall_ms:.3f} ms: inside ops {self.op_seconds * 1e3:.3f} ms, outside ops (Python between ops) "
            f"{outside * 1e3:.3f} ms",
            f"GEMM {self.gemm_seconds * 1e3:.3f} ms = {self.gemm_share * 100:.1f}% of wall, "
            f"{self.gemm_flops / 1e9:.3f} GFLOP at {rate:.1f} GFLOP/s",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<Profile {len(self._rows)} rows, wall {self.wall_seconds * 1e3:.3f} ms, GEMM {self.gemm_share:.0%}>"

    # ---- the with block ---------------------------------------------------------------------------------------
    def _wait_for_devices(self) -> None:
        for backend in self._backends:
            if backend in self._wait_for:
                synchronize(backend)


class _Profiling:
    """The context manager that ``md.profile()`` returns; ``as`` gives the `Profile`."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._hook: Iterator[Any] | None = None

    def __enter__(self) -> Profile:
        self.profile._backends.add(get_backend())
        self.profile._wait_for_devices()
        self._hook = install_hook(self.profile)
        self._hook.__enter__()
        self.profile._started = perf_counter()
        return self.profile

    def __exit__(self, *exc_info: Any) -> None:
        self.profile._wait_for_devices()
        self.profile.wall_seconds += perf_counter() - self.profile._started
        self._hook.__exit__(*exc_info)


def profile(synchronize_device: bool = True) -> _Profiling:
    """Time every op inside a ``with`` block; ``as`` gives a `Profile` (print it, or read ``.records``).

    ``synchronize_device=False`` skips waiting for the GPU around each op
    (times are then only the cost of queueing the work).

    >>> import minidl as md
    >>> x = md.randn(64, 32, requires_grad=True)
    >>> with md.profile() as prof:
    ...     (x @ x.T).sum().backward()
    >>> sorted({record["op"] for record in prof.records})
    ['Add', 'MatMul', 'PermuteDims', 'Sum']
    """
    return _Profiling(Profile(synchronize_device))
