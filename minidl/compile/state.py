"""The state a compiled step carries between calls: optimizer settings and state, module buffers, random draws.

A training step is more than parameters and gradients.  While ``md.compile``
traces one, a `StateObserver` watches three places through small hooks:

- each ``optimizer.step()`` (``minidl.optim.optimizer.observing_updates``):
  every float hyperparameter (``lr``, ``betas``, ``weight_decay``, ...)
  becomes an *input* of the program, read from the parameter group at each
  replay (the Python number itself, so a replay computes exactly as the
  eager step; a CUDA graph too, see ``minidl.compile.host_scalars``), and a
  learning-rate schedule never retraces; the
  optimizer's state (momentum buffers, Adam's moments, step counts) is an
  input and an output, written back after each replay, so
  ``optimizer.state_dict()`` stays right;
- each module call (``minidl.nn.module.observing_calls``): the module's
  buffers (BatchNorm's running statistics) are inputs and outputs like
  parameters, and the ``training`` flags of the modules choose the program
  (one per train/eval mode);
- each random draw (``minidl.backend.random.observing_draws``): the draw is
  recorded as a call that draws again at each replay, from the same host
  generator, so a seed gives the same dropout masks compiled and eager.

What the optimizer asks of a hyperparameter in Python (``if momentum:``,
``dampening == 0``) is answered from its Python value and noted as a *host
check*; a replay asks again (no device read) and traces anew if an answer
changed.
"""

from __future__ import annotations

import contextlib
import operator
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from minidl.autograd.tensor import Tensor
from minidl.backend import host_rng
from minidl.compile.tracer import CompileError, Instruction, Trace, TracedArray


@dataclass
class Hyperparameter:
    """Where a replay reads one hyperparameter: ``param_groups[group][key]`` (``[element]`` of a tuple)."""

    optimizer: Any
    group: int
    key: str
    element: int | None
    dtype: Any

    def read(self) -> Any:
        """The Python number: a replay computes with it as the eager code does (a CUDA graph too, on the host:
        `minidl.compile.host_scalars`); ``dtype`` is the parameters', in which it meets their arrays."""
        value = self.optimizer.param_groups[self.group][self.key]
        return value if self.element is None else value[self.element]


def mixed_dtype_group(inputs: Sequence[Any]) -> str | None:
    """Why a step's settings cannot reach a CUDA graph, or None: a parameter group whose updated parameters
    differ in dtype (a setting would reach the graph in one dtype and meet the others' arrays in it: float16's
    ``lr`` for float32 weights, a different update from the eager one)."""
    with_state = {id(source.param) for source in inputs if isinstance(source, OptimizerState)}
    for source in inputs:
        if isinstance(source, Hyperparameter):
            params = source.optimizer.param_groups[source.group]["params"]
            updated = [p for p in params if id(p) in with_state] or params  # (plain SGD keeps no state)
            dtypes = {p.dtype.name for p in updated}
            if len(dtypes) > 1:
                return (f"a parameter group mixes {' and '.join(sorted(dtypes))} parameters, and a graph would "
                        "see its settings in one dtype: put each dtype in its own group")
    return None


@dataclass
class OptimizerState:
    """One entry of an optimizer's per-parameter state: ``optimizer.state[param][key]``."""

    optimizer: Any
    param: Tensor
    key: str
    dtype: Any

    def read(self) -> Any:
        """The entry as it is (a step count may be a Python number)."""
        try:
            value = self.optimizer.state[self.param][self.key]
        except KeyError:
            raise CompileError(f"the optimizer state {self.key!r} of a parameter of shape {self.param.shape} is gone "
                               "since the trace (a new optimizer state loaded?): call step.reset()") from None
        return value

    def write(self, value: Any) -> None:
        self.optimizer.state[self.param][self.key] = value


class HostDraw:
    """A recorded random draw: calling it draws again (``make(*args)``) from the host generator."""

    def __init__(self, make: Callable[..., Any]) -> None:
        self.make = make
        self.__name__ = f"draw{getattr(make, '__name__', 'random')}"

    def __call__(self, *args: Any) -> Any:
        return self.make(*args)


class ScalarInput(TracedArray):
    """A hyperparameter during the trace: an input of the program whose value is the Python number."""

    __slots__ = ("host", "source", "checks")

    def ask(self, question: Callable[[Any], Any]) -> Any:
        answer = question(self.host)
        self.checks.append((self.source, question, answer))
        return answer

    def __bool__(self) -> bool:
        return self.ask(bool)

    def __float__(self) -> float:
        return self.ask(float)


def _compare(function: Callable[[Any, Any], Any]) -> Callable[[ScalarInput, Any], Any]:
    array_compare = getattr(TracedArray, f"__{function.__name__}__")

    def compare(self: ScalarInput, other: Any) -> Any:
        if isinstance(other, (int, float)):  # a question about the setting: answered on the host
            return self.ask(lambda value: function(value, other))
        return array_compare(self, other)

    return compare


for _function in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
    setattr(ScalarInput, f"__{_function.__name__}__", _compare(_function))


class StateObserver:
    """Watches optimizer updates, module calls and random draws during one trace (see the module docstring)."""

    def __init__(self, trace: Trace, adopt: Callable[[Tensor], None]) -> None:
        self.trace, self.adopt = trace, adopt
        self.inputs: list[tuple[Any, int]] = []        # (Hyperparameter or OptimizerState, slot)
        self.outputs: list[tuple[OptimizerState, int, bool]] = []  # (state, slot, updated in place)
        self.checks: list[tuple[Hyperparameter, Callable[[Any], Any], Any]] = []
        self.settings: list[tuple[Any, int, tuple]] = []  # (optimizer, group, its other settings as traced)
        self.modules: list[Any] = []
        self.rng_state = host_rng().bit_generator.state  # as the recorded draws leave it
        self._states: dict[tuple[int, int, str], tuple[OptimizerState, Any]] = {}
        self._read: dict[tuple[int, int, str], Any] = {}  # the array each state entry held at the start

    # ---- optimizers ------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def updating(self, optimizer: Any) -> Iterator[None]:
        """Inside: the optimizer's float settings and its state are traced arrays, inputs of the program."""
        saved = [self._settings_in(optimizer, index, group) for index, group in enumerate(optimizer.param_groups)]
        entries = self._state_in(optimizer)
        try:
            yield
        finally:
            for group, values in zip(optimizer.param_groups, saved):
                group.update(values)
            self._state_out(optimizer, entries)

    def _settings_in(self, optimizer: Any, index: int, group: dict) -> dict:
        if not group["params"]:
            return {}
        first = group["params"][0]
        dtype = first.data.dtype
        saved, others = {}, []
        for key, value in group.items():
            if key == "params":
                continue
            if type(value) is float:
                group[key] = self._scalar(Hyperparameter(optimizer, index, key, None, dtype), value)
            elif type(value) is tuple and value and all(type(item) is float for item in value):
                group[key] = tuple(self._scalar(Hyperparameter(optimizer, index, key, element, dtype), item)
                                   for element, item in enumerate(value))
            else:
                others.append((key, value))
                continue
            saved[key] = value
        self.settings.append((optimizer, index, tuple(others)))
        return saved

    def _scalar(self, source: Hyperparameter, value: float) -> ScalarInput:
        slot = self.trace.new_slot()
        scalar = ScalarInput(value, slot, self.trace)  # traced as the Python number: the eager arithmetic
        scalar.host, scalar.source, scalar.checks = value, source, self.checks
        self.inputs.append((source, slot))
        return scalar

    def _state_in(self, optimizer: Any) -> list[tuple[tuple, OptimizerState]]:
        entries = []
        for group in optimizer.param_groups:
            for p in group["params"]:
                state = optimizer.state.get(p, {})
                for key, value in list(state.items()):
                    if not (hasattr(value, "shape") or type(value) in (int, float)):
                        continue  # the backend's name, and the like
                    name = (id(optimizer), id(p), key)
                    if name in self._states:  # a second step() in this trace continues from the first
                        source, state[key] = self._states[name]
                    else:
                        data = p.data.value if isinstance(p.data, TracedArray) else p.data
                        source = OptimizerState(optimizer, p, key, data.dtype)
                        traced = self.trace.wrap(source.read())
                        self.inputs.append((source, traced.slot))
                        self._read[name] = traced.value
                        state[key] = traced
                    entries.append((name, source))
        return entries

    def _state_out(self, optimizer: Any, entries: list[tuple[tuple, OptimizerState]]) -> None:
        """Real arrays back into the state (the traced ones are remembered, to become outputs)."""
        for name, source in entries:
            value = optimizer.state[source.param][source.key]
            self._states[name] = (source, value)
            if isinstance(value, TracedArray):
                optimizer.state[source.param][source.key] = value.value
        for p, state in optimizer.state.items():
            made = [key for key, value in state.items() if isinstance(value, TracedArray)]
            for key in made:
                state[key] = state[key].value
            if made:
                raise CompileError(f"the optimizer made new state ({', '.join(made)}) for a parameter of shape "
                                   f"{p.shape} inside the traced call (its first gradient?): a replay could not "
                                   "start from it. Let the first calls run eagerly until every parameter has its "
                                   "state (call step.reset() after that), or run without md.compile")

    def finish(self) -> None:
        """The optimizer states' final traced values become outputs; nothing traced is held after this."""
        for name, (source, value) in self._states.items():
            if isinstance(value, TracedArray) and value.trace is self.trace:
                in_place = hasattr(value.value, "shape") and value.value is self._read.get(name)
                self.outputs.append((source, value.slot, in_place))
        self._states.clear()
        self._read.clear()

    def refuse(self, reason: str) -> None:
        raise CompileError(f"md.compile cannot trace this step: {reason}")

    # ---- modules -------------------------------------------------------------------------------------------------
    def module_called(self, module: Any) -> None:
        """A module runs: remember it (its mode picks the program) and bring its buffers into the trace."""
        if any(seen is module for seen in self.modules):
            return
        self.modules.append(module)
        for tensor in module._buffers.values():
            if tensor is not None and not (isinstance(tensor.data, TracedArray) and tensor.data.trace is self.trace):
                self.adopt(tensor)

    # ---- random draws -------------------------------------------------------------------------------------------
    def draw(self, make: Callable[..., Any], args: tuple) -> TracedArray:
        """Draw now (as eagerly), and record a call that draws again at each replay."""
        array = make(*args)
        slot = self.trace.new_slot()
        # mutates=True: kept even if unused, because each draw advances the generator.
        self.trace.steps.append(Instruction(HostDraw(make), args, {}, slot, mutates=True))
        self.rng_state = host_rng().bit_generator.state
        return self.trace.wrap(array, slot)


def host_checks_hold(checks: list, settings: list) -> bool:
    """Whether every host check and every other setting is as at the trace (False: trace again)."""
    for source, question, answer in checks:
        if question(source.read()) != answer:
            return False
    for optimizer, index, others in settings:
        group = optimizer.param_groups[index]
        if any(group.get(key, _MISSING) != value for key, value in others):
            return False
    return True


_MISSING = object()


def mode_of(modules: list) -> tuple:
    """The train/eval flags of the modules a trace saw: one program per combination."""
    return tuple(module.training for module in modules)


def has_draws(program: Any) -> bool:
    """Whether a traced program draws random numbers on the host (then it cannot be one CUDA graph)."""
    return any(isinstance(getattr(step, "function", None), HostDraw) for step in program.steps)


__all__ = ["HostDraw", "Hyperparameter", "OptimizerState", "ScalarInput", "StateObserver", "host_checks_hold",
           "mode_of", "has_draws"]
