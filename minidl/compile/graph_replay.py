"""A compiled step replayed as one CUDA graph (CuPy): what ``md.compile`` adds on a GPU.

The program of a traced step (``minidl.compile.program``) is captured once
by [`minidl.backend.graphs.CapturedGraph`][minidl.backend.graphs.CapturedGraph]; each later call copies the
batch in, runs the guard check, and launches the graph with one call.  The
long version, with measurements, is ``docs/static-graphs.md``.
"""

from __future__ import annotations

import operator
from typing import Any

from minidl.autograd.tensor import Tensor
from minidl.backend.graphs import CapturedGraph, supports_graphs
from minidl.kernels.matmul import GraphGemm
from minidl.compile.program import Program
from minidl.compile.tracer import CompileError


def capture(program: Program, sources: list, leaves: list[Tensor], tensors: list[Tensor],
            mode: bool | None, state_count: int = 0) -> tuple["GraphReplay | None", str | None]:
    """``(graph replay, None)``, or ``(None, why not)``: ``mode`` False never tries, None and True try.

    ``sources`` are the program's input arrays (the batch, the leaves', then
    ``state_count`` of optimizer settings and state), ``tensors`` every
    Tensor the step takes or reads (their backends decide).
    """
    if mode is False:
        return None, "cuda_graph=False"
    backends = {tensor.backend for tensor in tensors}
    if len(backends) != 1 or not supports_graphs(next(iter(backends))):
        return None, f"CUDA graphs need every array on CuPy with a GPU; this step uses {sorted(backends)}"
    try:
        return GraphReplay(program, sources, leaves, tensors[0].xp, state_count), None
    except Exception as error:  # noqa: BLE001 - the reason is reported (raised by the caller when demanded)
        return None, f"capture failed: {type(error).__name__}: {error}"


class GraphReplay:
    """The program as a CUDA graph, the input arrays it owns, and the guard check that runs before each launch.

    A graph reads fixed addresses, so it owns one array per input: each call
    copies the batch in, and the step's leaf tensors (its parameters) move
    into the graph's arrays at the capture, where updates then happen in
    place.  A leaf given a new array later is copied in the same way; no
    array the caller passes in is ever written to.  Optimizer settings and
    state (the last ``state_count`` inputs) are copied in when they are not
    the graph's arrays already: the state written back after a launch is.
    """

    def __init__(self, program: Program, sources: list, leaves: list[Tensor], xp: Any, state_count: int = 0) -> None:
        self.xp = xp
        # Matrix products go through the graph's own cuBLAS call (CuPy's refuses to be captured).
        graph_gemm = GraphGemm()
        self.check, unguarded = program.split_guards({operator.matmul: graph_gemm, xp.matmul: graph_gemm})
        self.batch_count = len(sources) - len(leaves) - state_count
        self.leaf_end = self.batch_count + len(leaves)
        copies: dict[int, Any] = {}  # one copy per array: tensors that share one (tied weights) still do
        for array in sources:
            if id(array) not in copies:
                copies[id(array)] = xp.asarray(array, copy=True)
        self.inputs = [copies[id(array)] for array in sources]
        for leaf, static in zip(leaves, self.inputs[self.batch_count:]):
            leaf.data = static
        self.graph = CapturedGraph(unguarded, self.inputs, bind=graph_gemm.bound_to)

    def run(self, sources: list, leaves: list[Tensor]) -> Any:
        """Copy what changed into the graph's inputs, check the guards, launch; return the graph's outputs."""
        for index, (new, static) in enumerate(zip(sources, self.inputs)):
            if new is static:
                continue
            if tuple(new.shape) != tuple(static.shape) or new.dtype != static.dtype:
                raise CompileError(f"a tensor the compiled step reads changed shape or dtype since the capture "
                                   f"({tuple(static.shape)} {static.dtype} -> {tuple(new.shape)} {new.dtype}); "
                                   "call step.reset() to trace again")
            static[...] = new  # a copy on the device, queued before the launch
            if self.batch_count <= index < self.leaf_end:
                leaves[index - self.batch_count].data = static
        if self.check is not None:
            self.check(*self.inputs)
        return self.graph.launch()

    def copy(self, array: Any) -> Any:
        """An output of the graph, copied: the next launch overwrites the graph's own."""
        return self.xp.asarray(array, copy=True)
