"""Recording one run of a step as a list of array operations.

While a step is traced, every array it touches is a `TracedArray`:
the real array (so the step really runs, with real numbers), plus the number
of the *slot* that will hold it when the recording is replayed.  Every
function of the namespace (``xp.matmul``, ``xp.exp``, ...) and every array
operator (``a + b``, ``a[key]``, ``a -= b``) is called on the real arrays and
appended to the trace as an `Instruction`: which function, which
slots or constants as arguments, which slot receives the result.

Python values read from arrays (``int(xp.sum(mask))``, ``if loss > 0``) are
recorded as *guards*: a replay recomputes them and stops with an error if
one differs, because the Python code around it might then take another path.
"""

from __future__ import annotations

import gc
import operator
import traceback
import weakref
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

from minidl import backend as _backend


class CompileError(RuntimeError):
    """md.compile cannot trace this step, or a replay no longer matches the trace."""


@dataclass(frozen=True)
class Slot:
    """Where an argument comes from at replay: the value of slot ``index``."""

    index: int


@dataclass
class Instruction:
    """``out = function(*args, **kwargs)``, where args may hold `Slot` markers (also nested)."""

    function: Callable[..., Any]
    args: tuple
    kwargs: dict
    out: int | None          # None: called for its side effect only (setitem)
    mutates: bool = False    # in place: the first argument's array changes


@dataclass
class Guard:
    """``convert(slot) == expected`` must hold at replay (a value the step read into Python)."""

    convert: Callable[[Any], Any]
    slot: int
    expected: Any
    where: str


@dataclass
class Trace:
    """The recording in progress: slots, instructions (and guards, in order), constants."""

    steps: list = field(default_factory=list)   # Instructions and Guards, in the order they ran
    slot_count: int = 0
    made: list = field(default_factory=list)      # a weak reference to every TracedArray made (leak check)
    finished: bool = False
    _namespaces: dict = field(default_factory=dict)

    def new_slot(self) -> int:
        self.slot_count += 1
        return self.slot_count - 1

    def wrap(self, value: Any, slot: int | None = None) -> "TracedArray":
        traced = TracedArray(value, self.new_slot() if slot is None else slot, self)
        self.made.append(weakref.ref(traced))
        return traced

    def kept(self) -> list["TracedArray"]:
        """The traced arrays still alive (after the trace, something outside the step holds them)."""
        gc.collect()  # a reference cycle is not a holder
        return [traced for traced in (ref() for ref in self.made) if traced is not None]

    def namespace(self, xp: ModuleType) -> "TracingNamespace":
        """The tracing stand-in for the real namespace ``xp`` (one per namespace)."""
        if isinstance(xp, TracingNamespace):
            return xp
        if id(xp) not in self._namespaces:
            self._namespaces[id(xp)] = TracingNamespace(xp, self)
        return self._namespaces[id(xp)]

    def call(self, function: Callable[..., Any], args: tuple, kwargs: dict, mutates: bool = False) -> Any:
        """Run ``function`` on the real arrays and record it; return the result as traced arrays."""
        if self.finished:
            raise CompileError("an array from a finished md.compile trace was used: it was kept outside the "
                               "step (in optimizer state, a module attribute or a list) by a step that "
                               "md.compile refused; recreate that state and run the step without md.compile")
        found: list[bool] = []
        real_args = tuple(self._unwrap(a, found) for a in args)
        real_kwargs = {k: self._unwrap(v, found) for k, v in kwargs.items()}
        result = function(*real_args, **real_kwargs)
        if not found and not _is_array(result) and not _is_array_sequence(result):
            return result  # a question about dtypes or constants (xp.isdtype, xp.finfo): nothing to replay
        spec_args = tuple(self._spec(a) for a in args)
        spec_kwargs = {k: self._spec(v) for k, v in kwargs.items()}
        if result is None:  # setitem: only its effect on the first argument counts
            self.steps.append(Instruction(function, spec_args, spec_kwargs, None, mutates=True))
            return None
        out = self.new_slot()
        self.steps.append(Instruction(function, spec_args, spec_kwargs, out, mutates))
        if _is_array_sequence(result):  # several arrays (xp.broadcast_arrays, xp.meshgrid): one slot each
            parts = []
            for index, part in enumerate(result):
                part_slot = self.new_slot()
                self.steps.append(Instruction(operator.getitem, (Slot(out), index), {}, part_slot))
                parts.append(self.wrap(part, part_slot))
            return type(result)(*parts) if hasattr(result, "_fields") else type(result)(parts)
        return self.wrap(result, out)

    def read(self, traced: "TracedArray", convert: Callable[[Any], Any]) -> Any:
        """A Python value read from an array: computed now, and re-checked at every replay."""
        value = convert(traced.value)
        frames = [f for f in traceback.extract_stack()
                  if "/minidl/compile/" not in f.filename and "/minidl/autograd/" not in f.filename]
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"
        self.steps.append(Guard(convert, traced.slot, value, where))
        return value

    def _unwrap(self, value: Any, found: list[bool]) -> Any:
        if isinstance(value, TracedArray):
            if value.trace is not self:
                raise CompileError("an array from another md.compile trace was used in this one")
            found.append(True)
            return value.value
        if isinstance(value, (tuple, list)):
            return type(value)(self._unwrap(v, found) for v in value)
        if isinstance(value, slice):
            return slice(*(self._unwrap(v, found) for v in (value.start, value.stop, value.step)))
        return value

    def _spec(self, value: Any) -> Any:
        """The argument as a replay sees it: traced arrays become Slots, the rest stays as it is."""
        if isinstance(value, TracedArray):
            return Slot(value.slot)
        if isinstance(value, (tuple, list)):
            return type(value)(self._spec(v) for v in value)
        if isinstance(value, slice):
            return slice(*(self._spec(v) for v in (value.start, value.stop, value.step)))
        return value


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type)


def _is_array_sequence(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and len(value) > 0 and all(_is_array(v) for v in value)


def real_namespace(xp: Any) -> Any:
    """The namespace behind a tracing stand-in (or ``xp`` itself)."""
    return xp._xp if isinstance(xp, TracingNamespace) else xp


class TracingNamespace:
    """Stands in for ``xp`` during a trace: each function call runs for real and is recorded."""

    def __init__(self, xp: ModuleType, trace: Trace) -> None:
        self._xp, self._trace = xp, trace

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._xp, name)
        if not callable(attribute) or isinstance(attribute, type):
            return attribute  # dtypes, constants (xp.float32, xp.pi, xp.newaxis)
        trace = self._trace

        def recorded(*args: Any, **kwargs: Any) -> Any:
            return trace.call(attribute, args, kwargs)

        recorded.__name__ = name
        setattr(self, name, recorded)  # next time, found without __getattr__
        return recorded

    def __repr__(self) -> str:
        return f"<tracing {self._xp.__name__}>"


class TracedArray:
    """A real array during a trace, plus the slot that holds it at replay."""

    __slots__ = ("value", "slot", "trace", "__weakref__")
    __array_ufunc__ = None  # NumPy: ``numpy_array + traced`` defers to TracedArray.__radd__
    __hash__ = None         # like arrays: unhashable

    def __init__(self, value: Any, slot: int, trace: Trace) -> None:
        self.value, self.slot, self.trace = value, slot, trace

    # What is known without running anything: shape and dtype are fixed by the trace.
    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    device = property(lambda self: _backend.array_device(self.value))  # (NumPy 1.26 arrays have no .device)
    T = property(lambda self: self.trace.call(operator.attrgetter("T"), (self,), {}))
    mT = property(lambda self: self.trace.call(operator.attrgetter("mT"), (self,), {}))

    def __len__(self) -> int:
        return self.value.shape[0]

    def library_function(self, gap: str) -> Callable[..., Any] | None:
        """The library's own function for a gap in the standard (`minidl.backend.own_function`), recorded:
        called on the real arrays now, and again at each replay."""
        own = _backend.own_function(self.value, gap)
        if own is None:
            return None
        return lambda *args, **kwargs: self.trace.call(own, args, kwargs)

    def __array_namespace__(self, api_version: str | None = None) -> TracingNamespace:
        return self.trace.namespace(self.value.__array_namespace__(api_version=api_version))

    def __getitem__(self, key: Any) -> "TracedArray":
        return self.trace.call(operator.getitem, (self, key), {})

    def __setitem__(self, key: Any, value: Any) -> None:
        if _backend.is_writeable(self.value):
            self.trace.call(operator.setitem, (self, key, value), {}, mutates=True)
        else:  # an immutable library (JAX): record the copy that set_at makes, and stand for it from now on
            written = self.trace.call(_backend.set_at, (self, key, value), {})
            self.value, self.slot = written.value, written.slot

    # Values read into Python: guards.
    def __bool__(self) -> bool:
        return self.trace.read(self, bool)

    def __int__(self) -> int:
        return self.trace.read(self, int)

    def __float__(self) -> float:
        return self.trace.read(self, float)

    def __index__(self) -> int:
        return self.trace.read(self, operator.index)

    def __iter__(self):
        raise TypeError("a TracedArray (inside md.compile) cannot be iterated over; index it instead")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a TracedArray (inside md.compile) cannot be copied to the host during the trace: "
                        "return the tensor from the step and read it after the call")

    def __repr__(self) -> str:
        return f"TracedArray(slot={self.slot}, shape={tuple(self.value.shape)}, dtype={self.value.dtype})"


def _binary(function: Callable[[Any, Any], Any], reflected: bool = False, mutates: bool = False):
    if reflected:
        return lambda self, other: self.trace.call(function, (other, self), {})
    return lambda self, other: self.trace.call(function, (self, other), {}, mutates=mutates)


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"):
    _function = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(TracedArray, f"__{_name}__", _binary(_function))
    setattr(TracedArray, f"__r{_name}__", _binary(_function, reflected=True))
    setattr(TracedArray, f"__i{_name}__", _binary(getattr(operator, f"i{_name}"), mutates=True))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(TracedArray, f"__{_name}__", _binary(getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(TracedArray, f"__{_name}__",
            (lambda function: lambda self: self.trace.call(function, (self,), {}))(getattr(operator, _name)))
