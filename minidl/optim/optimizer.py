"""Optimizer: the base class that holds parameter groups and per-parameter state.

An optimizer step is plain array arithmetic on ``p.data`` and ``p.grad.data``:
no graph is recorded (raw arrays have no autograd), computed by ``p.xp`` so
the state (momentum, Adam's moments) lives on the parameter's own backend.
Updates are in place, as in PyTorch: ``p.data`` (and the state arrays) keep
their identity and change their values, so ``model.state_dict()``,
``p.detach()`` and ``optimizer.state_dict()`` are live views that follow
later steps (``md.save`` writes them out at once; copy to keep a snapshot).
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Callable, Iterable, Iterator

from minidl import backend as _backend
from minidl.autograd.grad_mode import set_grad_enabled
from minidl.autograd.tensor import Tensor
from minidl.ops.views import changed_in_place


_FLOAT_SETTINGS = ("lr", "weight_decay", "momentum", "dampening", "eps", "alpha", "rho", "lr_decay",
                   "initial_accumulator_value")

_hold_replaced = contextvars.ContextVar("minidl_hold_replaced_gradients", default=True)
# Who watches optimizer updates (md.compile's tracer), if anyone: see observing_updates.
_update_observer: contextvars.ContextVar[Any] = contextvars.ContextVar("minidl_update_observer", default=None)


@contextlib.contextmanager
def observing_updates(observer: Any) -> Iterator[None]:
    """Inside the block, each ``step()`` runs its update inside ``observer.updating(optimizer)`` (a context).

    md.compile's tracer uses it to make hyperparameters and state inputs of
    the traced program; ``update_observer()`` lets code that cannot be traced
    (GradScaler) ask for ``observer.refuse(reason)``.
    """
    token = _update_observer.set(observer)
    try:
        yield
    finally:
        _update_observer.reset(token)


def update_observer() -> Any:
    """The observer of `observing_updates`, or None outside one."""
    return _update_observer.get()


@contextlib.contextmanager
def free_replaced_gradients_at_once() -> Iterator[None]:
    """Inside the block, ``zero_grad()`` lets the old gradients go at once (md.compile traces in one).

    A traced step must leave nothing behind when it returns: a step that ends
    with ``zero_grad()`` would otherwise leave its traced gradients held.
    """
    token = _hold_replaced.set(False)
    try:
        yield
    finally:
        _hold_replaced.reset(token)


class Optimizer:
    """Base class: subclasses define ``step()`` using ``self.param_groups`` and ``self.state_of(p)``.

    ``params`` is an iterable of Parameters, or of dicts ``{"params": [...],
    "lr": ...}`` (parameter groups, each with its own hyperparameters).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError("an optimizer takes an iterable of parameters (model.parameters()), not one Tensor; "
                            "wrap it in a list")
        if callable(getattr(params, "parameters", None)):
            raise TypeError(f"{type(self).__name__} got the model itself ({type(params).__name__}); "
                            "pass model.parameters()")
        one_shot = iter(params) is params  # a generator or iterator can be read only once
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list: nothing to optimize. " + (
                "The iterator it got was already used up (model.parameters() is a generator and can be read "
                "only once): call model.parameters() again for each optimizer, or keep list(model.parameters())"
                if one_shot else "Pass model.parameters() of a model that has layers with weights"))
        self.defaults = defaults
        self._retired: list[Tensor] = []
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones take the defaults)."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for existing in self.param_groups for p in existing["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                named = isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                raise TypeError(f"{type(self).__name__} can only optimize Tensors, got a {type(p).__name__}"
                                + ("; pass model.parameters(), not model.named_parameters()" if named else ""))
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(f"{type(self).__name__} got a tensor of shape {p.shape} that is not a leaf "
                                 "requiring grad; pass nn.Parameter objects (model.parameters())")
            if id(p) in seen:
                raise ValueError(f"a parameter of shape {p.shape} appears in two parameter groups")
            seen.add(id(p))
        full = dict(self.defaults)
        full.update({key: value for key, value in group.items() if key != "params"})
        for key in _FLOAT_SETTINGS:
            if key in full:
                full[key] = float(full[key])  # a NumPy float64 here would promote float32 updates
        full["params"] = params
        self.param_groups.append(full)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (set to None, so the next backward starts fresh).

        ``set_to_none=False`` keeps each gradient Tensor and fills it with zeros instead
        (PyTorch's older behaviour); the default, ``True``, is PyTorch's too.

        The old gradient arrays stay allocated until the next ``step()``: freed
        here, before the forward pass, several megabytes of them go back to the
        C allocator, which returns them to the operating system and then takes
        them back page by page for the next arrays (measured on NumPy at
        784-1024-1024-10, batch 512: about 4,800 page faults and 28% more CPU time
        per step; none at batch 64; docs/measurements/cpu-2026-12-04/gradient-release/).
        Held to the step, the
        step's own arrays are made while they live, as in a hand-written loop.
        """
        if not set_to_none:
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.data = p.xp.zeros_like(p.grad.data)
            return
        retired = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    retired.append(p.grad)
                    p.grad = None
        self._retired = retired if _hold_replaced.get() else []

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (optional) recomputes the loss first."""
        loss = None
        if closure is not None:
            with set_grad_enabled(True):
                loss = closure()
        self._retired = []  # the gradients zero_grad() replaced: see zero_grad
        observer = _update_observer.get()
        if observer is None:
            self.update()
        else:
            with observer.updating(self):
                self.update()
        self._materialise()
        for group in self.param_groups:  # a graph that used the old values (or views of them) now refuses
            for p in group["params"]:       # backward(), as in PyTorch; views of p take its new values
                if p.grad is not None:
                    changed_in_place(p)
        return loss

    def _materialise(self) -> None:
        """On a lazy library (Dask), compute the new parameters and state now, all in one go.

        Otherwise each parameter would stay a graph holding every step so far,
        and step n would recompute steps 1 to n (measured without this: 44 ms
        at step 1, 997 ms by step 80; docs/measurements/cpu-2026-12-04/backends/dask-unpersisted/).
        """
        if not _backend.library(self.param_groups[0]["params"][0].backend).lazy:
            return
        params = [p for group in self.param_groups for p in group["params"] if p.grad is not None]
        states = [state for state in (self.state.get(p) for p in params) if state]
        slots = [(state, key) for state in states for key, value in state.items() if hasattr(value, "shape")]
        arrays = _backend.materialise([p.data for p in params] + [state[key] for state, key in slots])
        for p, array in zip(params, arrays):
            p.data = array
        for (state, key), array in zip(slots, arrays[len(params):]):
            state[key] = array

    def update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def gradients(self, group: dict[str, Any], l2_penalty: bool = True) -> Iterator[tuple[Tensor, Any]]:
        """Each parameter of ``group`` that has a gradient, with its gradient array.

        With ``l2_penalty`` the group's ``weight_decay * p`` is added (PyTorch's
        L2 ``weight_decay``). Subclasses store any new state back into the state
        dict (``state["m"] = m``), even after an in-place update: an immutable
        array library makes a new array there, and the dict must hold it.
        """
        weight_decay = group.get("weight_decay", 0.0) if l2_penalty else 0.0
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = p.grad.data
            if weight_decay:
                grad = grad + weight_decay * p.data
            yield p, grad

    def state_of(self, p: Tensor) -> dict[str, Any]:
        """The state dict of parameter ``p``, moved to ``p``'s backend if the model moved since."""
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = {"backend": p.backend}
        elif state["backend"] != p.backend:
            for key, value in state.items():
                if hasattr(value, "shape"):
                    state[key] = _backend.from_host(_backend.to_host(value), p.backend)
            state["backend"] = p.backend
        return state

    # ---- saving and loading -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: Tensor or number}}, "param_groups": [...]}``, parameters by index.

        The state tensors share the optimizer's arrays, which later steps change in place.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            indices = []
            for p in group["params"]:
                index_of[id(p)] = len(index_of)
                indices.append(index_of[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        state = {}
        for p, values in self.state.items():
            state[index_of[id(p)]] = {
                key: Tensor._wrap(value, p.xp, p.backend) if hasattr(value, "shape") else value
                for key, value in values.items() if key != "backend"
            }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict()`` (onto each parameter's backend)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(saved["params"]) != len(own["params"]) for saved, own in zip(groups, self.param_groups)):
            raise ValueError("load_state_dict: the saved optimizer has groups of sizes "
                             f"{[len(g['params']) for g in groups]}, this one "
                             f"{[len(g['params']) for g in self.param_groups]}")
        params = [p for group in self.param_groups for p in group["params"]]
        for saved, own in zip(groups, self.param_groups):
            own.update({key: value for key, value in saved.items() if key != "params"})
        self.state = {}
        for index, values in state_dict["state"].items():
            p = params[int(index)]
            restored: dict[str, Any] = {"backend": p.backend}
            for key, value in values.items():
                if isinstance(value, Tensor):
                    value = value.data if value.backend == p.backend else value.to(p.backend).data
                restored[key] = value
            self.state[p] = restored

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params")
        return "\n".join(lines) + "\n)"
