"""Exercise, chapter 9.2 (Define-by-run and static graphs): a learning rate that is an input of the replay.

``trace`` of ``exercises/replay.py`` turns every Python number it meets into a
constant of the program: trace a step with ``lr=0.1`` and every replay steps
with 0.1, whatever a schedule says.  ``md.compile`` makes an optimizer's
settings *inputs* instead, and carries its state (a momentum buffer) in and
out of each replay.  Do the same for a recorded step:

- ``trace_with_settings(fn, arrays, settings)``: run ``fn(*arrays, *settings)``
  once on stand-ins; the arrays and then the settings each get an input slot
  (``program.inputs``), so no setting becomes a constant; ``fn`` returns a tuple
  of stand-ins (the new state), whose slots go to ``program.outputs``.
- ``replay_with_settings(program, arrays, settings)``: fill the input slots
  with this call's arrays and settings, the constants with theirs, run the
  steps with ``OPS``, and return the tuple of output values.

The test traces SGD with momentum once and replays it through a learning-rate
schedule, feeding the new weights and momentum buffer back in at each step.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_settings_as_inputs.py -q``
"""

from __future__ import annotations

from exercises.replay import OPS, Program, Traced  # the recorder of exercises/replay.py (given)

__all__ = ["OPS", "Program", "Traced", "trace_with_settings", "replay_with_settings"]


def trace_with_settings(fn, arrays, settings) -> Program:
    raise NotImplementedError("exercise settings_as_inputs: give the settings input slots too, and record the "
                              "output slots in program.outputs")


def replay_with_settings(program: Program, arrays, settings) -> tuple:
    raise NotImplementedError("exercise settings_as_inputs: feed arrays and settings, run the steps, return outputs")
