"""Module: the base class of every layer and model.

A Module keeps three registries, filled by plain attribute assignment:
Parameters (learned), buffers (state that is saved but not learned, such as
BatchNorm's running mean) and child Modules.  Everything else a model can
do (list its parameters, save them, move them to the GPU, switch to
evaluation) is a walk over that tree.

Registered objects also live in the instance ``__dict__``, so ``self.weight``
inside ``forward`` is an ordinary attribute hit, not a ``__getattr__`` call:
that keeps small models fast.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Mapping
from os import PathLike
from typing import Any, Callable, Iterator, NamedTuple

from minidl import backend as _backend
from minidl.autograd.dtypes import DTYPES, DType, as_dtype, float16, float32, float64, to_backend_dtype
from minidl.autograd.tensor import Tensor
from minidl.nn.parameter import Parameter, move_tensor_
from minidl.ops.creation import zeros_like
from minidl.ops.views import changed_in_place


# Who watches module calls (md.compile's tracer, for buffers and train/eval mode), if anyone.
_call_observer: contextvars.ContextVar[Callable[["Module"], None] | None] = contextvars.ContextVar(
    "minidl_call_observer", default=None)


@contextlib.contextmanager
def observing_calls(observer: Callable[["Module"], None]) -> Iterator[None]:
    """Inside the block, every module call first calls ``observer(module)``."""
    token = _call_observer.set(observer)
    try:
        yield
    finally:
        _call_observer.reset(token)


class LoadResult(NamedTuple):
    """What ``load_state_dict`` did not match (both empty after a strict load)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclass it, assign layers and Parameters, write ``forward``.

    >>> import minidl as md, minidl.nn as nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(4, 8)
    ...         self.out = nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> model = TwoLayer()
    >>> model(md.ones((3, 4))).shape
    (3, 2)
    >>> [name for name, _ in model.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool

    def __init__(self) -> None:
        set_plain = object.__setattr__
        set_plain(self, "_parameters", {})
        set_plain(self, "_buffers", {})
        set_plain(self, "_non_persistent", set())
        set_plain(self, "_modules", {})
        set_plain(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        observer = _call_observer.get()
        if observer is not None:
            observer(self)
        return self.forward(*args, **kwargs)

    # ---- registration ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        registries = self.__dict__.get("_parameters")
        if registries is None:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called; "
                                 f"call super().__init__() first in {type(self).__name__}.__init__")
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to the parameter {name!r} of "
                                f"{type(self).__name__}: wrap it as nn.Parameter(...) (or assign None)")
            self._parameters[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"buffer {name!r} of {type(self).__name__} must be a Tensor or None, "
                                f"got {type(value).__name__}")
            self._buffers[name] = value
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to the submodule {name!r}; "
                                "assign a Module (or None)")
            self._modules[name] = None
        elif isinstance(value, Tensor) and value.requires_grad and value.creator is None:
            # A learner's classic bug: the tensor trains nowhere, silently. (Outputs of ops are allowed.)
            raise TypeError(f"{type(self).__name__}.{name}: a plain Tensor with requires_grad=True is not a parameter "
                            "(parameters() would miss it, so no optimizer would update it, and state_dict() would "
                            f"not save it); assign nn.Parameter(tensor), or use self.register_buffer({name!r}, "
                            "tensor.detach()) for state that is not learned")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._non_persistent.discard(name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` with the module (moved by ``to``; saved by ``state_dict`` when persistent)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None, got {type(tensor).__name__}")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, parameter: Parameter | None) -> None:
        """Register ``parameter`` under ``name`` (the same as assigning it as an attribute)."""
        if parameter is not None and not isinstance(parameter, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected nn.Parameter or None, "
                            f"got {type(parameter).__name__}")
        self._forget(name)
        self._parameters[name] = parameter
        object.__setattr__(self, name, parameter)

    # ---- walking the tree ---------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and every descendant, each once, with dotted names ("" for self)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs; a Parameter shared by two layers appears once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, parameter in module._parameters.items():
                if parameter is None or id(parameter) in seen:
                    continue
                seen.add(id(parameter))
                yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every learnable Parameter (what an optimizer takes)."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers():
            yield buffer

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every submodule and then on self (for custom initialisation)."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ---- modes, gradients, devices ---------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (Dropout drops, BatchNorm uses batch statistics) for self and all children."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode: the same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: set it to None (PyTorch's default), or fill it with zeros."""
        for parameter in self.parameters():
            if set_to_none or parameter.grad is None:
                parameter.grad = None
            else:
                parameter.grad = zeros_like(parameter.grad)

    def to(self, *args: Any, device: Any = None, dtype: Any = None) -> "Module":
        """Move every parameter and buffer to a backend (or device name), and/or convert the floating ones to
        ``dtype``, in place; returns self. ``model.to("cupy")``, ``model.to("cuda")``, ``model.to(md.float64)``,
        ``model.to("cpu", md.float64)``, ``model.to(device=..., dtype=...)``, as in PyTorch.

        The Parameter objects stay the same, so an optimizer built before the
        move still updates them (its own state follows on its next step).
        """
        for arg in args:
            if isinstance(arg, DType) or (isinstance(arg, str) and arg in DTYPES):
                dtype = arg
            else:
                device = arg
        tensors = list(self.parameters()) + list(self.buffers())
        if device is not None:
            current = tensors[0].backend if tensors else None  # "cuda" keeps a torch model on torch
            _backend.namespace(_backend.backend_for(device, current))  # fail early with the backend's own message
            for tensor in tensors:
                move_tensor_(tensor, device)
        if dtype is not None:
            dtype = as_dtype(dtype)
            if not dtype.is_floating:
                raise TypeError(f"Module.to: dtype must be a floating type (parameters train), got {dtype.name}")
            for tensor in tensors:
                if tensor.dtype.is_floating:  # integer buffers (counts) stay, as in PyTorch
                    tensor._data = tensor.xp.astype(tensor._data, to_backend_dtype(tensor.xp, dtype))
                    if tensor.grad is not None:
                        tensor.grad = tensor.grad.astype(dtype)
        return self

    def float(self) -> "Module":
        """The floating parameters and buffers as float32 (``model.to(md.float32)``)."""
        return self.to(dtype=float32)

    def double(self) -> "Module":
        """The floating parameters and buffers as float64 (``model.to(md.float64)``)."""
        return self.to(dtype=float64)

    def half(self) -> "Module":
        """The floating parameters and buffers as float16 (``model.to(md.float16)``)."""
        return self.to(dtype=float16)

    def cpu(self) -> "Module":
        """To the NumPy backend (``model.to("cpu")``)."""
        return self.to("cpu")

    def cuda(self, device: Any = None) -> "Module":
        """To CuPy (``model.to("cuda")``)."""
        return self.to("cuda" if device is None else device)

    # ---- saving and loading ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Tensor]:
        """Name -> Tensor for every parameter and persistent buffer, in registration order.

        The tensors are detached and share the current arrays, as in PyTorch:
        optimizers update parameters in place, so a later step changes them
        too. ``md.save(model.state_dict(), path)`` writes them out at once; to
        keep a snapshot in memory, copy (``{k: md.tensor(v) for k, v in ...}``).
        """
        return {key: tensor.detach() for key, tensor in self._state_targets().items()}

    def _state_targets(self) -> dict[str, Tensor]:
        """Name -> the live Tensor behind each entry of ``state_dict`` (parameters never are non-persistent)."""
        targets: dict[str, Tensor] = {}
        for module_name, module in self.named_modules():
            dotted = f"{module_name}." if module_name else ""
            for registry in (module._parameters, module._buffers):
                for name, tensor in registry.items():
                    if tensor is not None and name not in module._non_persistent:
                        targets[dotted + name] = tensor
        return targets

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> LoadResult:
        """Copy values from ``state`` (name -> Tensor or array) into this module's parameters and buffers.

        Each value is copied onto the parameter's own backend and dtype, so a
        state saved on one backend loads on another. Shapes must match; with
        ``strict`` the key sets must match too. All problems are reported in
        one RuntimeError, before anything is changed; the values are all
        converted before the first one is assigned, so a failed load leaves
        the module as it was.
        """
        if not isinstance(state, Mapping):
            hint = ("to load a file, call model.load_state_dict(md.load(path))" if isinstance(state, (str, PathLike))
                    else "pass other.state_dict()" if isinstance(state, Module)
                    else "pass model.state_dict() or md.load(path)")
            raise TypeError(f"load_state_dict expects a dict of name -> Tensor, got a {type(state).__name__}; {hint}")
        targets = self._state_targets()
        missing = [key for key in targets if key not in state]
        unexpected = [key for key in state if key not in targets]
        mismatched = []
        for key, target in targets.items():
            if key in state:
                shape = getattr(state[key], "shape", None)
                if shape is None:
                    mismatched.append(f"{key}: checkpoint has a {type(state[key]).__name__}, not a Tensor or array")
                elif tuple(shape) != target.shape:
                    mismatched.append(f"{key}: checkpoint has shape {tuple(shape)}, this model has {target.shape}")
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatch: " + "; ".join(mismatched))
        nested = [key for key in unexpected if isinstance(state[key], Mapping) and set(state[key]) & set(targets)]
        if problems:
            hint = (f" (the weights are nested under {nested[0]!r}: pass state[{nested[0]!r}])" if nested
                    else "" if mismatched else " (pass strict=False to load only the matching keys)")
            raise RuntimeError(f"load_state_dict into {type(self).__name__} failed: " + " | ".join(problems) + hint)
        values = {}
        for key, target in targets.items():
            if key in state:
                try:
                    values[key] = _copy_onto(state[key], target)
                except (TypeError, ValueError) as error:
                    raise TypeError(f"load_state_dict into {type(self).__name__}: {key!r} cannot be read as "
                                    f"{target.dtype.name} numbers ({error}); nothing was loaded") from None
        for key, value in values.items():  # only now: a failed conversion above changed nothing
            targets[key]._data = value     # in place, as PyTorch's copy_: the same objects, views see the values,
            changed_in_place(targets[key])  # and a graph that used the old values refuses backward()
        return LoadResult(missing, unexpected)

    # ---- printing ----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (layers override it)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self._modules.items():
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_text}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n" + "\n".join(lines) + "\n)"


def _copy_onto(value: Any, target: Tensor) -> Any:
    """A fresh array with ``value``'s numbers on ``target``'s backend and dtype."""
    array = value.data if isinstance(value, Tensor) else value
    if _backend.backend_of(array) != target.backend:
        array = _backend.from_host(_backend.to_host(array), target.backend)
    return target.xp.astype(array, target.data.dtype, copy=True)
