"""Static graphs: ``md.compile(step_fn)`` traces a training step once and replays its array operations.

minidl is define-by-run: each call builds its graph as the Python runs.
Theano and TensorFlow 1 worked the other way: first describe the whole
computation, then run the fixed description many times.  ``md.compile``
gets the second model from the first: it runs the step once while recording
every array operation ([`minidl.compile.tracer`][minidl.compile.tracer]), turns the recording
into one straight-line Python function ([`minidl.compile.program`][minidl.compile.program]), and
replays that function at every later call ([`minidl.compile.step`][minidl.compile.step]).
"""

from minidl.compile.step import CompiledStep, compile
from minidl.compile.tracer import CompileError

__all__ = ["CompileError", "CompiledStep", "compile"]
