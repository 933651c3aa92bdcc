"""In-place operations: ``+=``, ``t[key] = v``, ``add_``, ``zero_``, ... with PyTorch's rules.

The Tensor is the mutable box: an in-place op computes the new value with
the ordinary (differentiable) op and puts its array into the same Tensor
object, so the code works where arrays are immutable too, and a Parameter
updated under ``md.no_grad()`` stays the object the optimizer and the
module hold. The rules are PyTorch's:

- under ``no_grad`` (an optimizer step) the array is replaced and nothing is
  recorded; the tensor keeps ``requires_grad``;
- outside it, a leaf that requires grad cannot change in place (its
  gradient would no longer mean anything): a RuntimeError says what to do;
- a tensor inside a graph changes by taking the new op as its creator
  (``h += residual`` in a ResNet block records an addition);
- every in-place change bumps the tensor's ``_version``. A recorded change
  keeps the earlier value, by version, and ``backward()`` hands it to the ops
  that used it (so ``h[0] += v`` inside a graph differentiates correctly); an
  op whose input changed unrecorded (under ``no_grad``, an optimizer step)
  raises at ``backward()``, naming itself, instead of using the new values.

Views (a slice, a transpose, a reshape where the layout allows, ``detach()``)
share values with their base as in PyTorch: changing one in place writes
through to the other (see `minidl.ops.views`).
"""

from __future__ import annotations

from typing import Any, Callable

from minidl import backend as _backend
from minidl.autograd.dtypes import to_backend_dtype
from minidl.autograd.engine import mark_changed_in_place
from minidl.autograd.function import Function
from minidl.autograd.grad_mode import is_grad_enabled
from minidl.autograd.tensor import Tensor
from minidl.ops.creation import constant_like, full
from minidl.ops.elementwise import astype
from minidl.ops.indexing import GetItem, clamp_slices, needs_flip_emulation, positive_steps
from minidl.ops import views
from minidl.ops.layout import Clone, flip
from minidl.ops.shape import broadcast_to, sum_to


def update_(target: Tensor, op: str, compute: Callable[..., Tensor], *args: Any) -> Tensor:
    """``target`` becomes ``compute(target, *args)``, in place; returns ``target``."""
    if target._base is not None:  # a view: the new value is written into its base (minidl.ops.views)
        views.check_writable(target, op)
    elif target.requires_grad and target.creator is None and is_grad_enabled():
        raise RuntimeError(
            f"a leaf tensor that requires grad (shape {target.shape}) is being used in an in-place operation "
            f"({op}); update parameters inside `with md.no_grad():`, or write `x = x + ...` for a new tensor"
        )
    before = views.snapshot(target)
    result = _fit(op, target, compute(before, *args))
    if target._base is not None:
        return views.write_view(target, before, result)
    target._data = result.data
    mark_changed_in_place(target)
    if result.creator is not None:  # recorded: the tensor now comes out of the new op (which keeps `before`)
        views.take_new_value(target, before, result)
    elif is_grad_enabled():
        views.forget_graph(target, before)  # a new value that depends on nothing (zero_, fill_)
    views.rederive_views(target)
    return target


def _fit(op: str, target: Tensor, result: Tensor) -> Tensor:
    """The result in the target's shape and dtype, or PyTorch's refusal."""
    if result.shape != target.shape:
        raise RuntimeError(f"{op}: the result has shape {result.shape}, which does not fit the tensor's shape "
                           f"{target.shape} (an in-place op cannot change the shape); write `x = x ... y` instead")
    if result.dtype is not target.dtype:
        if result.dtype.kind != target.dtype.kind:
            raise RuntimeError(f"{op}: result type {result.dtype.name} can't be cast to the tensor's type "
                               f"{target.dtype.name}; write `x = x ... y` for a new tensor, or convert x first")
        result = astype(result, target.dtype)
    return result


def filled(target: Tensor, value: Any) -> Tensor:
    """A tensor of ``target``'s shape and dtype, full of ``value`` (for ``zero_`` and ``fill_``)."""
    if isinstance(value, Tensor):
        return copied(target, value)
    return full(target.shape, value, dtype=target.dtype, backend=target.backend)


def copied(target: Tensor, source: Any) -> Tensor:
    """``source`` broadcast to ``target``'s shape in its dtype (for ``copy_``); gradients flow to ``source``."""
    source = constant_like(source, target)
    if source.dtype is not target.dtype:
        source = astype(source, target.dtype)
    # A copy, recorded as a node: the tensor then comes out of an op, not a leaf, and its array is not
    # ``source``'s (an optimizer's step, which writes into parameter arrays, must not change ``source``)
    return Clone.apply(broadcast_to(source, target.shape))


class SetItem(Function):
    """A copy of ``a`` with ``a[key] = value``: the gradient goes to ``value`` there and to ``a`` elsewhere."""

    key: tuple

    def forward(self, a, value):
        xp = self.xp
        # set_at writes into the copy where the library can, and makes another where it cannot (JAX, Dask)
        out = _backend.set_at(xp.asarray(a, copy=True), self.key, value)
        if self.needs_input_grad[0]:
            self.kept = _backend.set_at(xp.ones_like(a), self.key, 0)
        return out

    def backward(self, grad, a, value):
        wants_a, wants_value = self.needs_input_grad
        return (grad * self.kept if wants_a else None,
                sum_to(GetItem.apply(grad, key=self.key), value.shape) if wants_value else None)


def setitem(target: Tensor, key: Any, value: Any) -> Tensor:
    """``target`` with ``target[key] = value`` (a new tensor; ``Tensor.__setitem__`` stores it in place)."""
    value = constant_like(value, target)
    if value.dtype is not target.dtype:  # PyTorch casts the value to the tensor's dtype
        value = astype(value, target.dtype)
    key = key if isinstance(key, tuple) else (key,)
    key = tuple(item.data if isinstance(item, Tensor) else
                target.xp.asarray(item, dtype=to_backend_dtype(target.xp, "int64")) if isinstance(item, list) else
                item for item in key)
    if not any(item is Ellipsis for item in key) and sum(item is not None for item in key) < target.ndim:
        key = key + (Ellipsis,)
    key = clamp_slices(key, target.shape)
    if needs_flip_emulation(target, key):  # x[::-1] = v on PyTorch: x[positive] = flip(v)
        key, flips = positive_steps(key, target.ndim)
        value = flip(broadcast_to(value, tuple(target.data[key].shape)), axis=flips) if flips else value
    try:
        return SetItem.apply(target, value, key=key)
    except (IndexError, TypeError, ValueError) as error:
        raise IndexError(f"x[{key!r}] = value: the index does not fit a tensor of shape {target.shape} with a "
                         f"value of shape {value.shape} on {target.backend}: {error}") from None
