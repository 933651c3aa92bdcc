"""The profiler: where the time of a training step goes, op by op.

Inside ``with md.profile() as prof:`` every op's forward and every node's
backward is timed. GEMM-type ops (matmul, linear, and with them convolution,
which is im2col plus one linear) also count their floating-point operations,
``2 * M * K * N`` per product, so the table shows the GFLOP/s each one
achieved and the share of the step spent in GEMM.

Two clocks (`minidl.tools.clocks`), and the table's first line says which
one each column used. On the CPU an op is done when its call returns, so
``time.perf_counter`` around the call is its time, one column. On a GPU a
call only queues work: each op's *device* time comes from two CUDA events
recorded in the stream around it (read after the block, with one wait for
the GPU, not two per op), and its *host* time, the Python and the launches,
from ``perf_counter``, in a column of its own.

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
from typing import Any, Callable, Iterable, Iterator

from minidl.autograd.function import Function
from minidl.autograd.hooks import install_hook
from minidl.backend import get_backend
from minidl.tools.clocks import Clock, CudaEventClock, HostClock

_ASYNC_BACKENDS = ("cupy",)  # backends whose ops return before their work is done
_DEVICE_CLOCKS: dict[str, Clock] = {}  # backend -> its CudaEventClock, made on first use and kept (it reuses events)
_CPU_CLOCK = HostClock("perf_counter around each call (CPU: device time = host time)")
_NOT_WAITED = HostClock("perf_counter around each call, GPU not waited for (queueing only)")
_READ_AFTER = 8192  # spans waiting to be read: past this, read them (one wait), so a long block holds few events


def _clock_of(backend: str, use_device_clock: bool) -> Clock:
    if backend not in _ASYNC_BACKENDS:
        return _CPU_CLOCK
    if not use_device_clock:
        return _NOT_WAITED
    clock = _DEVICE_CLOCKS.get(backend)
    if clock is None:
        clock = _DEVICE_CLOCKS[backend] = CudaEventClock()
    return clock


def _wait_for(clocks: Iterable[Clock]) -> None:
    for clock in set(clocks):  # one wait per clock (CPU backends share one that does not wait)
        clock.wait()


class Profile:
    """What ``md.profile()`` measured: a table (``print(prof)``) and the same figures as data.

    ``records``: one dict per (op, phase) with ``op``, ``phase``, ``calls``,
    ``seconds`` (device clock), ``host_seconds`` (host clock; the same number
    on the CPU), ``flops``, ``gflops_per_second`` and ``share`` (of the wall
    time), the slowest first.  ``wall_seconds`` is the time of the whole
    ``with`` block, ``op_seconds`` the part inside ops (device clock),
    ``host_op_seconds`` the same on the host clock, ``gemm_seconds`` the part
    inside GEMMs (device clock), ``gemm_share`` = gemm_seconds / wall_seconds.
    ``clocks`` names the clock of each figure.
    """

    def __init__(self, synchronize_device: bool = True) -> None:
        self._use_device_clock = synchronize_device
        self._clocks: dict[str, Clock] = {}  # backend -> its clock
        self._rows: dict[tuple[str, str], list] = {}  # (op, phase) -> [calls, host seconds, device seconds, flops]
        self._pending: list[tuple[Clock, Any, list | None, bool]] = []  # (clock, span, row, is a GEMM) not read yet
        self._depth = 0             # > 0 while an op runs; ops inside it are charged to the outermost
        self._inside_gemm = False
        self._flops_of_outermost = 0
        self._clock: Clock = _CPU_CLOCK  # the clock of the outermost op running
        self._backends: set[str] = set()
        self.gemm_seconds = 0.0
        self.gemm_flops = 0
        self.wall_seconds = 0.0
        self._started = 0.0

    def _clock_for(self, backend: str) -> Clock:
        clock = self._clocks.get(backend)
        if clock is None:
            clock = self._clocks[backend] = _clock_of(backend, self._use_device_clock)
        return clock

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
        # Nothing here waits for a device: a device clock's span is read after the block (_read_spans).
        counter = node.gemm_flops if phase == "forward" else None
        outermost = self._depth == 0
        if outermost:
            self._flops_of_outermost = 0
            backend = node.inputs[0].backend  # ops inside run on the same backend, maybe on raw arrays
            self._clock = self._clock_for(backend)
        clock = self._clock
        gemm = counter is not None and not self._inside_gemm
        self._inside_gemm |= gemm
        self._depth += 1
        try:
            mark = clock.start()
            start = perf_counter()
            result = call()
            host_seconds = perf_counter() - start
            span = clock.stop(mark, host_seconds)
        finally:
            self._depth -= 1
            if gemm:
                self._inside_gemm = False
        if gemm:  # a GEMM inside a GEMM's backward (create_graph) is already counted by that backward
            flops = counter()
            self._flops_of_outermost += flops
            self.gemm_flops += flops
        row = None
        if outermost:
            key = (type(node).__name__, phase)
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = [0, 0.0, 0.0, 0]
                self._backends.add(node.inputs[0].backend)
            row[0] += 1
            row[1] += host_seconds
            row[3] += self._flops_of_outermost
        if clock.deferred:  # a device clock: its span is read later, after one wait for the device
            self._pending.append((clock, span, row, gemm))
            if len(self._pending) >= _READ_AFTER:
                _wait_for({entry[0] for entry in self._pending})
                self._read_spans()
        else:               # the host clock: the span is the op's time already
            self._add_device_time(span, row, gemm)
        return result

    def _read_spans(self) -> None:
        """Add the device time of every pending span to its row and to the GEMM total (clocks waited for)."""
        pending, self._pending = self._pending, []
        for clock, span, row, gemm in pending:
            self._add_device_time(clock.seconds(span), row, gemm)

    def _add_device_time(self, seconds: float, row: list | None, gemm: bool) -> None:
        if row is not None:
            row[2] += seconds
        if gemm:
            self.gemm_seconds += seconds

    # ---- results ---------------------------------------------------------------------------------------------
    @property
    def op_seconds(self) -> float:
        """Time inside ops on the device clock (the sum of the rows)."""
        return sum(row[2] for row in self._rows.values())

    @property
    def host_op_seconds(self) -> float:
        """Time inside ops on the host clock: the host's side of each op (on the CPU, `op_seconds`)."""
        return sum(row[1] for row in self._rows.values())

    @property
    def gemm_share(self) -> float:
        """The fraction of the ``with`` block's wall time spent inside GEMMs."""
        return self.gemm_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def clocks(self) -> dict[str, str]:
        """Which clock each figure used: ``{"device": ..., "host": ..., "wall": ...}``."""
        timing = [self._clocks[backend] for backend in sorted(self._backends)] or list(self._clocks.values())
        device = "; ".join(dict.fromkeys(clock.label for clock in timing)) or _CPU_CLOCK.label
        gpu = any(clock.deferred for clock in timing)  # a clock read after the block: the GPU is waited for at its ends
        return {"device": device,
                "host": "perf_counter around each call (Python + queueing)" if gpu else device,
                "wall": "perf_counter over the block" + (", GPU waited for at both ends" if gpu else "")}

    @property
    def _separate_host_column(self) -> bool:
        return any(self._clocks[backend].deferred for backend in self._backends)

    @property
    def records(self) -> list[dict[str, Any]]:
        """One dict per (op, phase), the slowest first (device clock): data for plots."""
        rows = []
        for (op, phase), (calls, host_seconds, seconds, flops) in self._rows.items():
            rows.append({"op": op, "phase": phase, "calls": calls, "seconds": seconds, "host_seconds": host_seconds,
                         "flops": flops, "gflops_per_second": flops / seconds / 1e9 if flops and seconds else None,
                         "share": seconds / self.wall_seconds if self.wall_seconds else 0.0})
        return sorted(rows, key=lambda row: row["seconds"], reverse=True)

    def table(self) -> str:
        """The records as a text table: first the clock of each column, last the totals and the GEMM share."""
        clocks, split = self.clocks, self._separate_host_column
        times = f"{'device ms':>10}{'host ms':>10}" if split else f"{'total ms':>10}"
        lines = [f"clocks: device ms = {clocks['device']}; host ms = {clocks['host']}; wall = {clocks['wall']}"
                 if split else f"clocks: total ms = {clocks['device']}; wall = {clocks['wall']}",
                 f"{'op':<18}{'phase':<10}{'calls':>7}{times}{'% of wall':>10}{'GFLOP':>9}{'GFLOP/s':>9}"]
        for row in self.records:
            rate = f"{row['gflops_per_second']:9.1f}" if row["gflops_per_second"] else f"{'':9}"
            gflop = f"{row['flops'] / 1e9:9.3f}" if row["flops"] else f"{'':9}"
            host = f"{row['host_seconds'] * 1e3:>10.3f}" if split else ""
            lines.append(f"{row['op']:<18}{row['phase']:<10}{row['calls']:>7}{row['seconds'] * 1e3:>10.3f}{host}"
                         f"{row['share'] * 100:>9.1f}%{gflop}{rate}")
        wall_ms, host_ms = self.wall_seconds * 1e3, self.host_op_seconds * 1e3
        busy = (f"; device busy inside ops {self.op_seconds * 1e3:.3f} ms ({self.op_seconds / self.wall_seconds:.0%}"
                f" of wall)" if split and self.wall_seconds else "")
        rate = self.gemm_flops / self.gemm_seconds / 1e9 if self.gemm_seconds else 0.0
        lines += [
            f"wall {wall_ms:.3f} ms: {'host ' if split else ''}inside ops {host_ms:.3f} ms, outside ops "
            f"(Python between ops) {wall_ms - host_ms:.3f} ms{busy}",
            f"GEMM {self.gemm_seconds * 1e3:.3f} ms{' (device)' if split else ''} = {self.gemm_share * 100:.1f}% of "
            f"wall, {self.gemm_flops / 1e9:.3f} GFLOP at {rate:.1f} GFLOP/s",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<Profile {len(self._rows)} rows, wall {self.wall_seconds * 1e3:.3f} ms, GEMM {self.gemm_share:.0%}>"


class _Profiling:
    """The context manager that ``md.profile()`` returns; ``as`` gives the `Profile`."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._hook: Iterator[Any] | None = None

    def __enter__(self) -> Profile:
        profile = self.profile
        profile._clock_for(get_backend())
        _wait_for(profile._clocks.values())  # what was queued before belongs to someone else
        self._hook = install_hook(profile)
        self._hook.__enter__()
        profile._started = perf_counter()
        return profile

    def __exit__(self, *exc_info: Any) -> None:
        profile = self.profile
        _wait_for(profile._clocks.values())  # the one wait of the block: then every span is ready
        profile.wall_seconds += perf_counter() - profile._started
        self._hook.__exit__(*exc_info)
        profile._read_spans()


def profile(synchronize_device: bool = True) -> _Profiling:
    """Time every op inside a ``with`` block; ``as`` gives a `Profile` (print it, or read ``.records``).

    On a GPU each op's device time comes from CUDA events, read after the
    block with one wait for the GPU; ``synchronize_device=False`` records no
    events and never waits (times are then only the cost of queueing the work).

    >>> import minidl as md
    >>> x = md.randn(64, 32, requires_grad=True)
    >>> with md.profile() as prof:
    ...     (x @ x.T).sum().backward()
    >>> sorted({record["op"] for record in prof.records})
    ['Add', 'MatMul', 'PermuteDims', 'Sum']
    """
    return _Profiling(Profile(synchronize_device))
