"""The optimizer's arithmetic on Python numbers, kept on the host when a compiled step runs as a CUDA graph.

An eager Adam step computes its bias corrections on Python numbers
(``lr * sqrt(1 - beta2 ** t) / (1 - beta1 ** t)``), and each result meets
an array once, as a weak scalar: rounded to float32 a single time. A plain
replay does the same, because its hyperparameters and step counts are the
Python numbers themselves. A CUDA graph reads only device memory, so those
numbers must reach it as arrays; if the arithmetic on them ran inside the
graph, it would be a handful of one-element kernels per parameter (about a
third of the compiled Adam step's kernels), in float32 where the eager step
works in float64 (on the H200 on 2026-12-04 that gave Adam's losses 1-ulp
differences from eager ones after a few steps).

`split` cuts a program in two instead: the *host part*, every
instruction that only does arithmetic on such numbers, runs in Python
before each launch, exactly as in the eager step; the *device part* is what
the graph captures, and reads the host part's results from a small buffer
per dtype, filled before each launch (one transfer from the host and one
device copy per dtype). What that saves in time on a GPU is not measured yet.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Sequence

from minidl.compile.program import Program, reads, slots_in
from minidl.compile.tracer import CompileError, Instruction, Slot

# What Python numbers go through on the host: the operators that the trace records for ``a + b``, ``a ** b``, ...
HOST_ARITHMETIC = frozenset({
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod, operator.pow,
    operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv, operator.imod,
    operator.ipow, operator.neg, operator.pos, operator.abs,
})
# ``number *= array`` rebinds a Python name to a new array; on a 0-d view into the buffer it would write there
IN_PLACE_TO_PLAIN = {operator.iadd: operator.add, operator.isub: operator.sub, operator.imul: operator.mul,
                     operator.itruediv: operator.truediv, operator.ifloordiv: operator.floordiv,
                     operator.imod: operator.mod, operator.ipow: operator.pow}


@dataclass
class HostSplit:
    """A program cut in two: ``host.run(*numbers)`` gives the values of ``fed`` then of ``host_results``;
    ``device`` reads its own inputs followed by one 0-d array per ``fed`` slot (of ``fed_dtypes``)."""

    host: Program
    device: Program
    host_inputs: list[int]       # positions, among the program's sources, of the numbers the host part reads
    device_inputs: list[int]     # positions of the arrays the device part reads (before the fed slots)
    fed: list[int]               # host slots that device instructions read
    fed_dtypes: list[Any]
    host_results: list[int]      # result slots the host part computes (a step count written back, say)
    results: list[int]           # the whole program's result slots, in order

    def merge(self, host: Sequence[Any], device: Sequence[Any]) -> list:
        """The whole program's results, in order, from the host part's values and the device part's."""
        on_host = dict(zip(self.host_results, host[len(self.fed):]))
        from_device = iter(device)
        return [on_host[slot] if slot in on_host else next(from_device) for slot in self.results]


def _on_host(step: Any, dtype_of: dict[int, Any]) -> bool:
    """Whether ``step`` is arithmetic on numbers only (slots in ``dtype_of`` and literals), of one dtype:
    numbers of float16 and float32 parameters that meet stay on the device."""
    if not (isinstance(step, Instruction) and step.function in HOST_ARITHMETIC and step.out is not None
            and not step.kwargs and all(isinstance(arg, Slot) or type(arg) in (int, float) for arg in step.args)):
        return False
    read = reads(step)
    dtypes = [dtype_of.get(slot) for slot in read]
    return bool(read) and None not in dtypes and all(dtype == dtypes[0] for dtype in dtypes)


# Operators that always return a new array: what they make from a number is never the number's own buffer.
FRESH = HOST_ARITHMETIC - set(IN_PLACE_TO_PLAIN) | {
    operator.matmul, operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
    operator.and_, operator.or_, operator.xor, operator.invert, operator.lshift, operator.rshift,
}


def _no_writes_into_numbers(steps: list, host_slots: set[int]) -> list:
    """The device steps, with ``number *= array`` as ``number * array``; CompileError for other writes.

    Eagerly a number is immutable: ``x *= y`` rebinds ``x``, and an array made
    from it (``xp.asarray(lr)``) is new. In the graph the number is a 0-d view
    into the buffer, shared by every use, and may come back from ``asarray``
    or ``reshape`` as itself; so an in-place write into anything that may be
    that view would change the setting for the rest of the step.
    """
    may_alias, out = set(host_slots), []
    for step in steps:
        target = slots_in(step.args[:1]) if isinstance(step, Instruction) else []
        if isinstance(step, Instruction) and step.mutates and target and target[0] in may_alias:
            if target[0] not in host_slots or step.function not in IN_PLACE_TO_PLAIN:
                name = getattr(step.function, "__name__", type(step.function).__name__)
                raise CompileError(f"the step changes in place ({name}) an array made from an optimizer setting "
                                   "or step count; in a CUDA graph that array can be the setting itself. Write "
                                   "`x = x * y` rather than `x *= y` there, or compile with cuda_graph=False")
            step = Instruction(IN_PLACE_TO_PLAIN[step.function], step.args, step.kwargs, step.out, mutates=False)
        elif target and target[0] in may_alias and step.out is not None and step.function not in FRESH:
            may_alias.add(step.out)  # asarray, reshape, a slice...: possibly the same memory
        out.append(step)
    return out


def split(program: Program, numbers: dict[int, Any]) -> HostSplit:
    """Cut ``program``: ``numbers`` maps positions of its sources that hold Python numbers to their dtype
    on the device (that of the parameters they belong to)."""
    sources, results = program._sources, program._results
    dtype_of: dict[int, Any] = {sources[position]: dtype for position, dtype in numbers.items()}
    host_steps, device_steps = [], []
    for step in program.steps:
        if _on_host(step, dtype_of):
            host_steps.append(step)
            dtype_of[step.out] = dtype_of[reads(step)[0]]
        else:
            device_steps.append(step)
    host_slots = set(dtype_of)
    device_steps = _no_writes_into_numbers(device_steps, host_slots)
    device_reads = {slot for step in device_steps for slot in reads(step)}
    fed = [slot for slot in dict.fromkeys(sources + [step.out for step in host_steps])
           if slot in host_slots and slot in device_reads]
    host_results = [slot for slot in dict.fromkeys(results) if slot in host_slots]
    host_inputs = sorted(numbers)
    device_inputs = [position for position, slot in enumerate(sources) if slot not in host_slots]
    host = Program(host_steps, [sources[p] for p in host_inputs], fed + host_results)
    device = Program(device_steps, [sources[p] for p in device_inputs] + fed,
                     [slot for slot in results if slot not in host_slots])
    return HostSplit(host, device, host_inputs, device_inputs, fed, [dtype_of[slot] for slot in fed],
                     host_results, list(results))


def fed_views(xp: Any, dtypes: Sequence[Any]) -> tuple[dict[Any, Any], list[Any]]:
    """One buffer per dtype, and a 0-d view into it per fed value (what the device part reads)."""
    buffers, views, counts = {}, [], {}
    for dtype in dtypes:
        counts[dtype] = counts.get(dtype, 0) + 1
    for dtype, count in counts.items():
        buffers[dtype] = xp.zeros((count,), dtype=dtype)
    used: dict[Any, int] = {}
    for dtype in dtypes:
        index = used.get(dtype, 0)
        used[dtype] = index + 1
        views.append(xp.reshape(buffers[dtype][index:index + 1], ()))
    return buffers, views


def fill(xp: Any, buffers: dict[Any, Any], dtypes: Sequence[Any], values: Sequence[Any]) -> None:
    """Write ``values`` (Python numbers, in fed order) into the buffers: per dtype, one transfer from the host
    and one copy on the device, queued before the launch."""
    grouped: dict[Any, list] = {dtype: [] for dtype in buffers}
    for dtype, value in zip(dtypes, values):
        grouped[dtype].append(value)
    for dtype, buffer in buffers.items():
        buffer[...] = xp.asarray(grouped[dtype], dtype=dtype)


__all__ = ["FRESH", "HOST_ARITHMETIC", "IN_PLACE_TO_PLAIN", "HostSplit", "fed_views", "fill", "split"]
