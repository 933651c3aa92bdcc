"""Parameter: a Tensor that a Module learns.

A Parameter is an ordinary leaf Tensor with ``requires_grad=True``; the only
thing its type adds is a signal to `Module`: assigning one
to a module attribute registers it, so ``module.parameters()`` finds it.
"""

from __future__ import annotations

from typing import Any

from minidl import backend as _backend
from minidl.autograd.tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor: a leaf that requires grad and that Modules register.

    Built from a Tensor, it shares that tensor's array; from anything else
    (a list, a NumPy array), it is made like ``md.tensor(data)`` (float32).

    >>> import minidl as md, minidl.nn as nn
    >>> w = nn.Parameter(md.zeros((2, 3)))
    >>> w.requires_grad, w.shape
    (True, (2, 3))
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        if not isinstance(data, Tensor):
            from minidl.ops.creation import tensor

            data = tensor(data)
        if requires_grad and not data.dtype.is_floating:
            raise TypeError(f"a Parameter that requires grad must be floating point, got {data.dtype.name}; "
                            "convert with .astype(md.float32)")
        self._data, self.xp, self.backend = data.data, data.xp, data.backend
        self.requires_grad, self.grad, self.creator, self.name = requires_grad, None, None, None
        self.grad_hooks, self._version, self._base, self._views = None, 0, None, None

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def move_tensor_(tensor: Tensor, spec: Any) -> None:
    """Move ``tensor`` (and its gradient) to a backend or device in place, keeping the object and its dtype.

    ``spec`` is what ``Tensor.to`` takes: a backend (``"cupy"``) or a device
    (``"cuda"``: the current library's GPU where it has one, as PyTorch's,
    else CuPy). Modules use this so that the Parameter objects an optimizer
    holds stay the same objects after ``model.to("cuda")``.
    """
    name, data = _backend.moved_array(tensor.data, tensor.backend, spec)
    if data is None:
        return
    tensor._data = data  # (not .data: it checks the backend)
    tensor.xp = _backend.namespace(name)
    tensor.backend = name
    if tensor.grad is not None:
        tensor.grad = tensor.grad.to(spec)
