"""Reference solution of exercises/replay.py."""

from __future__ import annotations

from exercises.replay import OPS, Program, trace

__all__ = ["Program", "trace", "replay"]


def replay(program: Program, *arrays):
    values = dict(zip(program.inputs, arrays))
    values.update(program.constants)
    for op, args, out in program.steps:
        values[out] = OPS[op](*[values[slot] for slot in args])
    return values[program.output]
