"""Exercise, chapter 9.2 (Define-by-run and static graphs): record a computation once, replay it.

``trace(fn, *examples)`` is given: it runs ``fn`` once on ``Traced`` stand-ins that
record each operation as a step ``(op, argument slots, result slot)`` of a
``Program``, as ``md.compile`` records a training step.  Constants (Python
numbers in the computation) get slots of their own, filled in ``program.constants``.

Write ``replay(program, *arrays)``: put the arrays in the input slots and the
constants in theirs, run the steps in order with ``OPS[op]``, and return the
value of the output slot.  No Python function of the user runs any more: that
is what a static graph saves.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_replay.py -q``
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OPS = {"add": np.add, "mul": np.multiply, "matmul": np.matmul, "tanh": np.tanh, "maximum": np.maximum}


@dataclass
class Program:
    inputs: list[int] = field(default_factory=list)          # slot of each argument of fn
    constants: dict[int, float] = field(default_factory=dict)
    steps: list[tuple[str, tuple[int, ...], int]] = field(default_factory=list)
    output: int = -1
    slots: int = 0

    def new_slot(self) -> int:
        self.slots += 1
        return self.slots - 1


class Traced:
    """A stand-in for an array during tracing: it computes nothing, it records."""

    def __init__(self, program: Program, slot: int) -> None:
        self.program, self.slot = program, slot

    def _record(self, op: str, *others) -> "Traced":
        args = [self.slot]
        for other in others:
            if not isinstance(other, Traced):
                constant = self.program.new_slot()
                self.program.constants[constant] = other
                other = Traced(self.program, constant)
            args.append(other.slot)
        out = self.program.new_slot()
        self.program.steps.append((op, tuple(args), out))
        return Traced(self.program, out)

    def __add__(self, other): return self._record("add", other)
    def __radd__(self, other): return self._record("add", other)
    def __mul__(self, other): return self._record("mul", other)
    def __rmul__(self, other): return self._record("mul", other)
    def __matmul__(self, other): return self._record("matmul", other)
    def tanh(self): return self._record("tanh")
    def relu(self): return self._record("maximum", 0.0)


def trace(fn, *examples) -> Program:
    """Run ``fn`` once on stand-ins for ``examples``; return what it did, as a Program."""
    program = Program()
    program.inputs = [program.new_slot() for _ in examples]
    program.output = fn(*[Traced(program, slot) for slot in program.inputs]).slot
    return program


def replay(program: Program, *arrays):
    raise NotImplementedError("exercise replay: write replay (slots -> values, then each step in order)")
