"""Views: tensors that share their values with the tensor they were taken from, as in PyTorch.

``x[0]``, ``x.T``, ``x.reshape(...)`` (when the layout allows), ``x.view(...)``,
``x.permute(...)``, ``x.squeeze()``, ``x.unsqueeze(0)``, ``x.expand(...)``,
``md.narrow``, ``md.select``, ``md.diagonal`` and ``x.detach()`` return *views*: writing into
one in place changes the tensor it came from, and changing that tensor in place
is seen by the view.

minidl's in-place ops never write into an array (the Tensor is the mutable
box, so that immutable array libraries work; only an optimizer's step writes
into parameters' arrays, where it can), so sharing is kept by bookkeeping instead
of by memory. A view records its *base* (the tensor that owns the values,
never itself a view) and the *steps* that derive it from the base (each one
an instance of a view op of `VIEW_OPS`, with its parameters). Then

- writing into a view computes the new view, writes it into the base through
  the steps (each view op knows how to put a value back: ``write_into``), and
  derives every live view of that base again;
- a base changed in place derives its views again;
- a base and its views share one version counter (each change bumps all of
  them), so an op that saved a view refuses ``backward()`` after the base
  changed unrecorded, as in PyTorch;
- with grad on, the base takes a `WriteView` node as its creator (PyTorch's
  ``CopySlices``): the gradient of the written region goes to the new value,
  the rest to the old base, and each view is derived again from the new base.

Each view also carries its strides (in elements of its base, computed in
`minidl.ops.strides`), so that `reshape` copies exactly where PyTorch's
copies, ``view`` refuses where PyTorch's refuses, and writing into an
``expand``-ed view is refused.

>>> import minidl as md
>>> x = md.zeros((2, 3))
>>> row = x[1]
>>> row += 1                       # writes into x
>>> x.tolist()
[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
>>> x.T[0, 1] = 5.0                # and any view of x sees it
>>> row.tolist()
[5.0, 1.0, 1.0]
"""

from __future__ import annotations

import weakref
from typing import Any

from minidl.autograd.engine import mark_changed_in_place, remember_earlier_value
from minidl.autograd.function import Function
from minidl.autograd.grad_mode import is_grad_enabled, set_grad_enabled
from minidl.autograd.tensor import Tensor
from minidl.backend import array_device
from minidl.ops.strides import contiguous_strides, overlaps

# Every view op (a Function class with ``write_into`` and ``view_strides``), by name.
VIEW_OPS: dict[str, type] = {}


def view_op(cls: type) -> type:
    """Register a Function class as a view op: its result shares values with its input.

    A view op defines ``write_into(base, value)`` (``base`` with the view replaced by ``value``) and
    ``view_strides(shape, strides)`` (the view's strides from its input's, or None where none fit).
    """
    if not hasattr(cls, "copies_when_strides_fail"):
        cls.copies_when_strides_fail = False
    VIEW_OPS[cls.__name__] = cls
    return cls


class ViewOf:
    """What a view knows: its base, the steps from the base to it, whether grads flow, and (worked out
    when first asked, from its source's) its strides in elements of the base."""

    __slots__ = ("base", "steps", "differentiable", "made_without_grad", "_strides", "_source")

    def __init__(self, base: Tensor, steps: tuple, differentiable: bool, source: tuple) -> None:
        self.base, self.steps, self.differentiable = base, steps, differentiable
        self.made_without_grad = not is_grad_enabled()
        self._strides, self._source = None, source  # source: (its ViewOf or None, its shape)

    @property
    def strides(self) -> tuple[int, ...]:
        if self._strides is None:
            info, shape = self._source
            source_strides = contiguous_strides(shape) if info is None else info.strides
            self._strides = self.steps[-1].view_strides(shape, source_strides)
            self._source = None
        return self._strides


# ---- making views --------------------------------------------------------------------------------------
def step_of(cls: type, params: dict) -> Function:
    """An unrecorded instance of view op ``cls`` with ``params``: one step from a base to a view."""
    step = object.__new__(cls)
    step.__dict__.update(params)
    return step


def make_view(cls: type, source: Tensor, **params: Any) -> Tensor:
    """``cls.apply(source, **params)`` as a view of ``source``; a copy where the layout allows no view
    (a view op that can copy, ``Reshape``, says so with ``copies_when_strides_fail``)."""
    step = step_of(cls, params)
    out = cls.apply(source, **params)
    if out is source:
        return out
    strides = None
    if cls.copies_when_strides_fail and source._base is not None:
        strides = step.view_strides(source.shape, source._base.strides)
        if strides is None:  # a copy, PyTorch's reshape of a non-contiguous tensor: one in memory too (an
            out._data = out.xp.asarray(out._data, copy=True)  # optimizer writes parameter arrays in place)
            return out
    attach(out, source, step, strides)
    return out


def attach(out: Tensor, source: Tensor, step: Function, strides: tuple | None = None,
           differentiable: bool = True) -> Tensor:
    """Record ``out`` as a view of ``source`` (so of ``source``'s base) one ``step`` further."""
    info = source._base
    if info is None:
        base, steps = source, (step,)
    else:
        base, steps, differentiable = info.base, info.steps + (step,), differentiable and info.differentiable
    view_info = out._base = ViewOf(base, steps, differentiable, (info, source.shape))
    if strides is not None:
        view_info._strides, view_info._source = strides, None
    out._version = base._version
    views = base._views
    if views is None:
        views = base._views = []  # weak references to the views (no callbacks: no reference cycle)
    views.append(weakref.ref(out))
    count = len(views)
    if count >= 8 and not count & (count - 1):  # at 8, 16, 32, ...: drop the dead (amortised O(1) a view)
        views[:] = [ref for ref in views if ref() is not None]
    return out


@view_op
class Alias(Function):
    """The same values (the step of ``detach()``, which is a view that stops gradients)."""

    def forward(self, a):
        return a

    def backward(self, grad, a):
        return grad

    def write_into(self, base, value):
        return value

    def view_strides(self, shape, strides):
        return strides


def detach(x: Tensor) -> Tensor:
    """A view of ``x`` cut from the graph: same values, changed in place together, no gradient."""
    out = Tensor._wrap(x._data, x.xp, x.backend, False)
    return attach(out, x, step_of(Alias, {}), differentiable=False)


# ---- deriving views and writing into them, on arrays -----------------------------------------------------
def derive(xp: Any, base: Any, steps: tuple) -> Any:
    """The view's array: ``steps`` run on ``base``'s array."""
    for step in steps:
        step.xp = xp
        base = step.forward(base)
    return base


def write_steps(xp: Any, base: Any, steps: tuple, value: Any) -> Any:
    """A new array for the base: ``base`` with the view that ``steps`` derive replaced by ``value``."""
    if not steps:
        return value
    first = steps[0]
    first.xp = xp
    if len(steps) > 1:
        value = write_steps(xp, first.forward(base), steps[1:], value)
        first.xp = xp
    return first.write_into(base, value)


class WriteView(Function):
    """``base`` with the view at ``steps`` replaced by ``value`` (PyTorch's ``CopySlices``).

    The gradient of the written region goes to ``value``; the rest goes to ``base``.
    """

    steps: tuple

    def forward(self, base, value):
        return write_steps(self.xp, base, self.steps, value)

    def backward(self, grad, base, value):
        wants_base, wants_value = self.needs_input_grad
        return (ZeroView.apply(grad, steps=self.steps) if wants_base else None,
                DeriveView.apply(grad, steps=self.steps) if wants_value else None)


class ZeroView(Function):
    """``a`` with the view at ``steps`` set to zero (its own gradient)."""

    steps: tuple

    def forward(self, a):
        return write_steps(self.xp, a, self.steps, self.xp.zeros_like(derive(self.xp, a, self.steps)))

    def backward(self, grad, a):
        return ZeroView.apply(grad, steps=self.steps)


class DeriveView(Function):
    """The view at ``steps`` of ``a`` (all steps in one node)."""

    steps: tuple

    def forward(self, a):
        return derive(self.xp, a, self.steps)

    def backward(self, grad, a):
        return EmbedView.apply(grad, steps=self.steps, shape=tuple(a.shape))


class EmbedView(Function):
    """Zeros of ``shape`` with the view at ``steps`` set to ``a`` (the gradient of DeriveView)."""

    steps: tuple
    shape: tuple[int, ...]

    def forward(self, a):
        return write_steps(self.xp, self.xp.zeros(self.shape, dtype=a.dtype, device=array_device(a)), self.steps, a)

    def backward(self, grad, a):
        return DeriveView.apply(grad, steps=self.steps)


# ---- in place: write through, and derive the views again ------------------------------------------------
def snapshot(x: Tensor) -> Tensor:
    """A Tensor holding ``x``'s present value, creator and version (``x`` before an in-place change)."""
    before = Tensor._wrap(x._data, x.xp, x.backend, x.requires_grad)
    before.creator, before._version = x.creator, x._version
    return before


def check_writable(target: Tensor, op: str) -> None:
    """PyTorch's refusals for in-place changes of a view, before anything is computed."""
    info = target._base
    if overlaps(target.shape, info.strides):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor refers "
                           f"to a single memory location (this view of shape {target.shape} comes from expand or "
                           f"broadcast_to); clone() the tensor before writing into it")
    if any(type(step).__name__ == "BroadcastTo" for step in info.steps):
        raise RuntimeError(f"{op}: this view of shape {target.shape} is taken from an expand-ed (broadcast_to) "
                           f"tensor; minidl refuses to write through one even where no two elements share a value "
                           f"(PyTorch allows that case): clone() the tensor before writing into it, or write into "
                           f"the tensor that was expanded")
    base = info.base
    if is_grad_enabled() and target.requires_grad and target.creator is None:  # x.detach().requires_grad_()
        raise RuntimeError(f"a leaf tensor that requires grad (shape {target.shape}) is being used in an in-place "
                           f"operation ({op}); update it inside `with md.no_grad():`")
    if info.differentiable and info.made_without_grad and is_grad_enabled() and base.requires_grad:
        raise RuntimeError(f"{op}: a view was created in no_grad mode and is being modified in place with grad "
                           f"mode enabled; which gradient was meant is ambiguous (PyTorch refuses too): make the "
                           f"view and the in-place change both inside the no_grad block or both outside it")
    if info.differentiable and is_grad_enabled() and base.requires_grad and base.creator is None:
        raise RuntimeError(f"a view of a leaf tensor that requires grad (shape {base.shape}) is being used in an "
                           f"in-place operation ({op}); update parameters inside `with md.no_grad():`, or "
                           f"write into a clone()")


def take_new_value(target: Tensor, before: Tensor, result: Tensor) -> None:
    """``target`` (already holding ``result``'s array) now comes out of ``result``'s op, recorded."""
    if target.creator is not None:
        # the old node's output is the old value, which ``before`` holds
        target.creator._output_ref = weakref.ref(before)
    remember_earlier_value(target, before)  # for the ops that used the old value
    result.creator.__dict__["earlier_output"] = before  # alive while the new node is (copy_ does not use it)
    target.creator, target.requires_grad = result.creator, True
    result.creator._output_ref = weakref.ref(target)
    result.creator.output_version = target._version


def write_view(target: Tensor, before: Tensor, result: Tensor) -> Tensor:
    """Write ``result`` (the new value of view ``target``, which was ``before``) into its base; returns
    ``target``."""
    info = target._base
    base = info.base
    if is_grad_enabled() and info.differentiable and (result.requires_grad or base.requires_grad):
        before = snapshot(base)
        new_base = WriteView.apply(before, result, steps=info.steps)
        base._data = new_base._data
        mark_changed_in_place(base)
        take_new_value(base, before, new_base)
    else:
        base._data = write_steps(base.xp, base._data, info.steps, result._data)
        mark_changed_in_place(base)
    rederive_views(base)
    if not info.differentiable and result.creator is not None:  # x.detach().add_(y): the detached view
        take_new_value(target, before, result)                  # comes out of the op; its base does not
    return target


def rederive_views(base: Tensor) -> None:
    """After ``base`` changed in place: every live view takes its new values and version, and (a view
    through which gradients flow, of a base that requires grad) comes out of the base again, as PyTorch
    regenerates a view's ``grad_fn``. With grad on the change was recorded, so the ops that used a view's
    old value keep it; an unrecorded change (``no_grad``, an optimizer step) leaves them to refuse."""
    views = base._views
    if not views:
        return
    grad_on = is_grad_enabled()
    for ref in list(views):  # (a copy: deriving may make views of the base)
        view_ = ref()
        if view_ is None:
            continue
        info = view_._base
        before = snapshot(view_) if grad_on and info.differentiable else None
        view_._data = derive(base.xp, base._data, info.steps)
        view_._version = base._version
        view_.xp, view_.backend = base.xp, base.backend  # (a base moved by model.to() keeps its views)
        if not info.differentiable:
            continue
        if base.requires_grad:
            with set_grad_enabled(True):
                derived = base
                for step in info.steps:
                    derived = type(step).apply(derived, **step.__dict__)
            if before is not None:
                take_new_value(view_, before, derived)
            else:
                view_.creator, view_.requires_grad = derived.creator, True
                derived.creator._output_ref = weakref.ref(view_)
                derived.creator.output_version = view_._version
        elif before is not None:
            forget_graph(view_, before)


def forget_graph(target: Tensor, before: Tensor) -> None:
    """``target``'s new value depends on nothing (``zero_()`` in a graph); ops that used the old one keep it."""
    if target.creator is not None:
        remember_earlier_value(target, before, hold=True)
        target.creator, target.requires_grad = None, False


def changed_in_place(x: Tensor) -> None:
    """Count a change made to ``x``'s array outside an op (an optimizer's step, a loaded state): ``x`` and
    its views take a new version, and the views its new values."""
    if x._base is not None:  # (a view's new array goes into its base first)
        base = x._base.base
        base._data = write_steps(base.xp, base._data, x._base.steps, x._data)
        x = base
    mark_changed_in_place(x)
    rederive_views(x)
