"""From a trace to a program: drop dead work, then write the rest as one straight-line Python function.

The generated function is what a replay runs: one line per array
operation, arguments read from local variables (``s12``), arrays freed
(``del s12``) after their last use, guards checked where the step read a
value.  ``print(step.source)`` shows it: the whole training step as the
list of array operations that Theano or TensorFlow 1 would have built as a
graph before running anything.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

from minidl.compile.tracer import CompileError, Guard, Instruction, Slot


def slots_in(spec: Any) -> list[int]:
    """Every slot an argument reads (arguments may nest tuples, lists and slices)."""
    if isinstance(spec, Slot):
        return [spec.index]
    if isinstance(spec, (tuple, list)):
        return [slot for item in spec for slot in slots_in(item)]
    if isinstance(spec, slice):
        return slots_in((spec.start, spec.stop, spec.step))
    if isinstance(spec, dict):
        return slots_in(tuple(spec.values()))
    return []


def reads(step: Instruction | Guard) -> list[int]:
    if isinstance(step, Guard):
        return [step.slot]
    return slots_in(step.args) + slots_in(step.kwargs)


def live_steps(steps: Sequence[Instruction | Guard], results: Sequence[int]) -> list[Instruction | Guard]:
    """The steps that matter: those the results depend on, guards, and changes made in place."""
    needed = set(results)
    kept = []
    for step in reversed(steps):
        if isinstance(step, Guard) or step.mutates or step.out in needed:
            kept.append(step)
            needed.update(reads(step))
    kept.reverse()
    return kept


def guard_prefix(steps: Sequence[Instruction | Guard]) -> list[Instruction | Guard]:
    """The guards, and the instructions they read from, in order; CompileError if a change in place is among them.

    A slot's *ancestry* is itself and, through the instructions that made it,
    every slot it was computed from: all it may depend on or share memory
    with (a view is made from its base).  Walking back from the end, an
    instruction that changes an array in place refuses the split when that
    array may share memory with something a later guard reads.
    """
    ancestry: dict[int, frozenset] = {}
    for step in steps:
        if isinstance(step, Instruction) and step.out is not None:
            ancestry[step.out] = frozenset({step.out}).union(*(ancestry.get(slot, {slot}) for slot in reads(step)))
    needed: set[int] = set()            # slots that the guards (and the work kept for them) read
    needed_ancestry: set[int] = set()   # and everything those were made from
    prefix = []
    for step in reversed(steps):
        if isinstance(step, Guard) or step.out in needed:
            if isinstance(step, Instruction) and step.mutates:
                raise _in_place_refusal(step)
            prefix.append(step)
            for slot in reads(step):
                needed.add(slot)
                needed_ancestry.update(ancestry.get(slot, {slot}))
        elif step.mutates:
            target = slots_in(step.args[:1])
            if target and (ancestry.get(target[0], {target[0]}) & needed or target[0] in needed_ancestry):
                raise _in_place_refusal(step)
    prefix.reverse()
    return prefix


def _in_place_refusal(step: Instruction) -> CompileError:
    name = getattr(step.function, "__name__", type(step.function).__name__)
    return CompileError(f"a value the step reads into Python may depend on an array changed in place ({name}) "
                        "before it is read, so it cannot be checked before the step runs")


def replace_function(step: Instruction, replace: dict) -> Instruction:
    """The instruction calling ``replace[its function]`` instead, if there is one."""
    function = step.function
    try:
        substitute = replace.get(function)
    except TypeError:  # an unhashable callable: never replaced
        substitute = None
    if substitute is None:
        return step
    return Instruction(substitute, step.args, step.kwargs, step.out, step.mutates)


class Program:
    """A compiled trace: ``run(*source_values)`` returns the values of ``results``, in order."""

    def __init__(self, steps: Sequence[Instruction | Guard], sources: Sequence[int], results: Sequence[int]) -> None:
        self.steps = live_steps(steps, results)
        self.guards = [step for step in self.steps if isinstance(step, Guard)]
        self._names: dict[int, str] = {}       # id(constant) -> name in the generated code
        self._globals: dict[str, Any] = {"_guard_failed": self._guard_failed}
        self._sources, self._results = list(sources), list(results)
        self.source = self._generate(self.steps, self._sources, self._results)
        self.run = self._define(self.source)

    def _define(self, source: str, name: str = "replay") -> Any:
        exec(compile(source, f"<minidl.compile {name}>", "exec"), self._globals)
        return self._globals[name]

    def split_guards(self, replace: dict | None = None) -> tuple[Any, Any]:
        """``(check, unguarded)``, for a replay that cannot read values mid-way (a CUDA graph).

        ``unguarded(*sources)`` is the program without its guards: all of its
        work, none of its reads to the host.  ``check(*sources)`` (None if
        there are no guards) computes only what the guards read, and checks
        them: run it first, and nothing has changed when a guard fails.
        ``replace`` maps functions of the trace to others that ``unguarded``
        calls instead (a CUDA graph's matmul).  Raises `CompileError`
        if a guard may depend on a change made in place (checking it first
        would then need that change, and the step would make it twice).
        """
        # Without its guards, the work that only fed them is dead too (the label check's sum).
        steps = live_steps([step for step in self.steps if not isinstance(step, Guard)], self._results)
        if replace:
            steps = [replace_function(step, replace) for step in steps]
        unguarded = self._define(self._generate(steps, self._sources, self._results, "unguarded"), "unguarded")
        if not self.guards:
            return None, unguarded
        prefix = guard_prefix(self.steps)
        return self._define(self._generate(prefix, self._sources, [], "check"), "check"), unguarded

    @property
    def instruction_count(self) -> int:
        return sum(isinstance(step, Instruction) for step in self.steps)

    def _generate(self, steps: list, sources: list[int], results: list[int], name: str = "replay") -> str:
        last_read: dict[int, int] = {}
        for position, step in enumerate(steps):
            for slot in reads(step):
                last_read[slot] = position
        keep = set(results)
        lines = [f"def {name}({', '.join(f's{slot}' for slot in sources)}):"]
        for position, step in enumerate(steps):
            if isinstance(step, Guard):
                number = self.guards.index(step)
                lines.append(f"    if {self._name(step.convert)}(s{step.slot}) != {self._expression(step.expected)}: "
                             f"_guard_failed({number}, s{step.slot})")
            else:
                arguments = [self._expression(arg) for arg in step.args]
                arguments += [f"{key}={self._expression(value)}" for key, value in step.kwargs.items()]
                call = f"{self._name(step.function)}({', '.join(arguments)})"
                lines.append(f"    s{step.out} = {call}" if step.out is not None else f"    {call}")
            dead = sorted(slot for slot in set(reads(step)) if last_read[slot] == position and slot not in keep)
            if dead:
                lines.append(f"    del {', '.join(f's{slot}' for slot in dead)}")
        unread = [slot for slot in sources if slot not in last_read and slot not in keep]
        if unread:  # arguments nothing reads (a parameter the step did not use after all)
            lines.insert(1, f"    del {', '.join(f's{slot}' for slot in unread)}")
        lines.append(f"    return ({''.join(f's{slot}, ' for slot in results)})")
        return "\n".join(lines) + "\n"

    def _expression(self, spec: Any) -> str:
        """Python source for one argument: a slot, a literal, or the name of a constant."""
        if isinstance(spec, Slot):
            return f"s{spec.index}"
        if spec is None or spec is Ellipsis or type(spec) in (bool, int, str):
            return repr(spec)
        if type(spec) is float and math.isfinite(spec):
            return repr(spec)
        if type(spec) in (tuple, list):
            inner = ", ".join(self._expression(item) for item in spec) + ("," if len(spec) == 1 else "")
            return f"({inner})" if type(spec) is tuple else f"[{inner}]"
        if type(spec) is slice:
            return f"slice({', '.join(self._expression(v) for v in (spec.start, spec.stop, spec.step))})"
        return self._name(spec)

    def _name(self, constant: Any) -> str:
        """A name for a constant in the generated code (the function's own name where it has one)."""
        if id(constant) in self._names:
            return self._names[id(constant)]
        base = getattr(constant, "__name__", None) or type(constant).__name__
        base = re.sub(r"\W", "_", str(base))
        if not base.isidentifier() or re.fullmatch(r"s\d+", base):  # s12 and the like name slots
            base = f"c_{base}"
        name, number = base, 1
        while name in self._globals or name in ("replay", "unguarded", "check", "del", "return", "if"):
            number += 1
            name = f"{base}_{number}"
        self._names[id(constant)] = name
        self._globals[name] = constant
        return name

    def _guard_failed(self, number: int, array: Any) -> None:
        guard = self.guards[number]
        raise CompileError(
            f"the compiled step read a value into Python during its trace ({guard.convert.__name__}(...) at "
            f"{guard.where}), which was {guard.expected!r} then and is {guard.convert(array)!r} now: the Python "
            "code around it may take another path (an if on a tensor, a data check), so the trace no longer "
            "describes the step. Keep value-dependent Python out of the compiled function, or run it without "
            "md.compile")

    def __str__(self) -> str:
        return self.source


__all__ = ["CompileError", "Program", "live_steps"]
