"""A compiled step replayed as one CUDA graph (CuPy): what ``md.compile`` adds on a GPU.

The program of a traced step (``minidl.compile.program``) is captured once
by [`minidl.backend.graphs.CapturedGraph`][minidl.backend.graphs.CapturedGraph]; each later call copies the
batch in, runs the guard check, and launches the graph with one call.  The
long version, with measurements, is ``docs/static-graphs.md``.
"""

from __future__ import annotations

import operator
from typing import Any, Sequence

from minidl.autograd.tensor import Tensor
from minidl.backend.graphs import CapturedGraph, supports_graphs
from minidl.compile.host_scalars import fed_views, fill, split
from minidl.compile.program import Program
from minidl.compile.state import mixed_dtype_group
from minidl.compile.tracer import CompileError
from minidl.kernels.matmul import GraphGemm


def capture(program: Program, sources: list, leaves: list[Tensor], tensors: list[Tensor],
            mode: bool | None, state_sources: Sequence[Any] = ()) -> tuple["GraphReplay | None", str | None]:
    """``(graph replay, None)``, or ``(None, why not)``: ``mode`` False never tries, None and True try.

    ``sources`` are the program's input values (the batch, the leaves', then
    the optimizer settings and state that ``state_sources`` read: Python
    numbers where the eager step has numbers), ``tensors`` every Tensor the
    step takes or reads (their backends decide).
    """
    if mode is False:
        return None, "cuda_graph=False"
    backends = {tensor.backend for tensor in tensors}
    if len(backends) != 1 or not supports_graphs(next(iter(backends))):
        return None, f"CUDA graphs need every array on CuPy with a GPU; this step uses {sorted(backends)}"
    mixed = mixed_dtype_group(state_sources)
    if mixed is not None:
        return None, f"{mixed}; replays run the program instead"
    try:
        return GraphReplay(program, sources, leaves, tensors[0].xp, [s.dtype for s in state_sources]), None
    except Exception as error:  # noqa: BLE001 - the reason is reported (raised by the caller when demanded)
        return None, f"capture failed: {type(error).__name__}: {error}"


class GraphReplay:
    """The program as a CUDA graph, the input arrays it owns, and what runs on the host before each launch.

    A graph reads fixed addresses, so it owns one array per input: each call
    copies the batch in, and the step's leaf tensors (its parameters) move
    into the graph's arrays at the capture, where updates then happen in
    place.  A leaf given a new array later is copied in the same way; no
    array the caller passes in is ever written to.  Optimizer state arrays
    are copied in when they are not the graph's arrays already: the state
    written back after a launch is.  Settings and step counts stay Python
    numbers: the arithmetic on them runs on the host (`minidl.compile.host_scalars`)
    and its results reach the graph through one small buffer per launch.
    """

    def __init__(self, program: Program, sources: list, leaves: list[Tensor], xp: Any,
                 state_dtypes: Sequence[Any] = ()) -> None:
        self.xp = xp
        self.batch_count = len(sources) - len(leaves) - len(state_dtypes)
        self.leaf_end = self.batch_count + len(leaves)
        numbers = {self.leaf_end + index: dtype for index, dtype in enumerate(state_dtypes)
                   if type(sources[self.leaf_end + index]) in (int, float)}
        self.parts = split(program, numbers)
        # Matrix products go through the graph's own cuBLAS call (CuPy's refuses to be captured).
        graph_gemm = GraphGemm()
        self.check, unguarded = self.parts.device.split_guards({operator.matmul: graph_gemm, xp.matmul: graph_gemm})
        copies: dict[int, Any] = {}  # one copy per array: tensors that share one (tied weights) still do
        self.static: dict[int, Any] = {}  # position among the sources -> the graph's own array
        for position in self.parts.device_inputs:
            array = sources[position]
            if id(array) not in copies:
                copies[id(array)] = xp.asarray(array, copy=True)
            self.static[position] = copies[id(array)]
        for index, leaf in enumerate(leaves):
            leaf.data = self.static[self.batch_count + index]
        self.buffers, fed = fed_views(xp, self.parts.fed_dtypes)
        self.inputs = [self.static[position] for position in self.parts.device_inputs] + fed
        self.graph = CapturedGraph(unguarded, self.inputs, bind=graph_gemm.bound_to)

    def run(self, sources: list, leaves: list[Tensor]) -> list:
        """Copy what changed into the graph's inputs, run the host part, check the guards, launch; return the
        values of the program's results, in order (Python numbers for those the host part computes)."""
        for position, static in self.static.items():
            new = sources[position]
            if new is static:
                continue
            if not hasattr(new, "shape") or tuple(new.shape) != tuple(static.shape) or new.dtype != static.dtype:
                was = f"{tuple(static.shape)} {static.dtype}"
                now = f"{tuple(new.shape)} {new.dtype}" if hasattr(new, "shape") else f"the number {new!r}"
                raise CompileError(f"a tensor or optimizer state the compiled step reads changed since the capture "
                                   f"({was} -> {now}); call step.reset() to trace again")
            static[...] = new  # a copy on the device, queued before the launch
            if self.batch_count <= position < self.leaf_end:
                leaves[position - self.batch_count].data = static
        numbers = [sources[position] for position in self.parts.host_inputs]
        for value in numbers:
            if type(value) not in (int, float):
                raise CompileError(f"an optimizer setting or state that was a Python number at the capture is now "
                                   f"{type(value).__name__}; call step.reset() to trace again")
        try:
            host = self.parts.host.run(*numbers)
        except ArithmeticError as error:  # the numbers took a value the traced Python code did not expect
            raise CompileError(f"the compiled step's arithmetic on optimizer settings failed ({error}): the step "
                               "may branch on them in Python; call step.reset(), or run it without "
                               "md.compile") from error
        fill(self.xp, self.buffers, self.parts.fed_dtypes, host[:len(self.parts.fed)])
        if self.check is not None:
            self.check(*self.inputs)
        return self.parts.merge(host, self.graph.launch())

    def copy(self, array: Any) -> Any:
        """An output of the graph, copied: the next launch overwrites the graph's own."""
        return self.xp.asarray(array, copy=True)
