"""Tensor: a backend array, plus what autograd needs to know about it.

A Tensor keeps its array (``data``), the namespace that array belongs to
(``xp``, looked up once here, never per op), the backend's name, whether it
wants a gradient, its gradient, and the Function that created it.
Operators and methods forward to [`minidl.ops`][minidl.ops]: the one place where a
lower layer calls a higher one (as in DeZero and needle), so that ``a + b``
reads as it does in NumPy.
"""

from __future__ import annotations

import operator
from types import ModuleType
from typing import Any

from minidl import backend as _backend
from minidl.autograd import engine
from minidl.autograd.dtypes import DType, dtype_of


class Tensor:
    """An n-dimensional array on one backend that can record its own history.

    >>> import minidl as md
    >>> x = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [2.0, 4.0, 6.0]
    """

    # _base: how a view derives from its base (a minidl.ops.views.ViewOf), or None; _views: a base's live views
    __slots__ = ("_data", "xp", "backend", "requires_grad", "grad", "creator", "name", "grad_hooks", "_version",
                 "_base", "_views", "__weakref__")
    __array_priority__ = 1000  # so numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        from minidl.ops.creation import tensor as _make

        made = _make(data, requires_grad=requires_grad)
        self._data, self.xp, self.backend = made.data, made.xp, made.backend
        self.requires_grad, self.grad, self.creator, self.name = made.requires_grad, None, None, None
        self.grad_hooks, self._version, self._base, self._views = None, 0, None, None

    @classmethod
    def _wrap(cls, data: Any, xp: ModuleType, backend: str, requires_grad: bool = False) -> "Tensor":
        """Fast path for ops: wrap an array whose namespace is already known."""
        tensor = object.__new__(cls)
        tensor._data = data
        tensor._version = 0
        tensor.xp = xp
        tensor.backend = backend
        tensor.requires_grad = requires_grad
        tensor.grad = None
        tensor.creator = None
        tensor.name = None
        tensor.grad_hooks = None
        tensor._base = tensor._views = None
        return tensor

    # ---- what it is -------------------------------------------------------
    def _set_data(self, value: Any) -> None:
        """``t.data = value``: an array of the tensor's backend, or a Tensor whose array is taken (as in PyTorch)."""
        if type(value) is not type(self._data):  # (the same type, an optimizer's update, needs no check)
            if isinstance(value, Tensor):
                if value.backend != self.backend:
                    raise ValueError(f"cannot set .data of a {self.backend!r} tensor to a {value.backend!r} tensor; "
                                     f"move it first with .to({self.backend!r})")
                value = value._data
            elif isinstance(value, (int, float, bool, list, tuple)) or _backend.is_array(value) and \
                    _backend.backend_of(value) != self.backend:
                raise TypeError(f".data of a {self.backend!r} tensor must be an array of that backend or a Tensor, "
                                f"got {type(value).__module__}.{type(value).__name__}; wrap it with md.tensor(...)")
        self._data = value

    data = property(operator.attrgetter("_data"), _set_data,
                    doc="The backend array. Setting it with a Tensor stores that tensor's array; "
                        "setting it records no graph and does not count as an in-place change.")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        """The number of elements (the Array API's ``x.size``; PyTorch's ``x.size()`` is ``x.shape`` here)."""
        size = 1
        for dim in self._data.shape:
            size *= dim
        return ElementCount(size)

    @property
    def dtype(self) -> DType:
        return dtype_of(self._data.dtype)

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __repr__(self) -> str:
        body = repr(self.numpy()).replace("array(", "tensor(", 1)
        extras = [f"backend={self.backend!r}"]
        if self.creator is not None:
            extras.append(f"grad_fn={self.creator.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return body[:-1] + ", " + ", ".join(extras) + ")" if body.endswith(")") else body

    # ---- moving data out and around ----------------------------------------
    def numpy(self) -> Any:
        """A host NumPy array with the same values (a copy unless already NumPy)."""
        return _backend.to_host(self.data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        host = self.numpy()
        return host if dtype is None else host.astype(dtype)

    def item(self) -> float | int | bool:
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}; "
                             "reduce it first (.sum(), .mean()) or read all values with .tolist()")
        return self.numpy().reshape(()).item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __bool__(self) -> bool:
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """This tensor on another backend or device, in another dtype, or both (PyTorch's ``to``).

        ``x.to("cupy")``, ``x.to("cuda")``, ``x.to(md.float64)``, ``x.to("cpu", md.float32)``,
        ``x.to(other)``; a move makes a new leaf; ``self`` when nothing changes.
        (Written in `minidl.ops.torch_methods.to`.)
        """
        return _ops.torch_methods.to(self, *args, **kwargs)

    def astype(self, dtype: Any) -> "Tensor":
        return _ops.astype(self, dtype)

    def detach(self) -> "Tensor":
        """A view of the same values, cut from the graph (changing one in place changes the other)."""
        return _ops.views.detach(self)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        self.requires_grad = flag
        return self

    def half(self) -> "Tensor":
        """This tensor in float16 (differentiable), as ``torch.Tensor.half``."""
        return _ops.astype(self, "float16")

    # ---- autograd -------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Compute gradients of this tensor with respect to every leaf that requires grad.

        ``grad`` is d(something)/d(self); it may be omitted for a one-element tensor.
        The graph is freed afterwards unless ``retain_graph`` (which defaults to
        ``create_graph``: a differentiable gradient still needs the graph).
        """
        if retain_graph is None:
            retain_graph = create_graph
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation had "
                "requires_grad=True (or it ran under md.no_grad())"
            )
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward() without an argument needs a one-element tensor (a loss), but this one has "
                    f"shape {self.shape}; reduce it first (loss.sum() or loss.mean()) or pass "
                    f"backward(grad) with a gradient of shape {self.shape}"
                )
            grad_tensor = Tensor._wrap(self.xp.ones_like(self.data), self.xp, self.backend)
        else:
            grad_tensor = grad if isinstance(grad, Tensor) else _ops.tensor(grad, dtype=self.dtype, backend=self.backend)
            if grad_tensor.shape != self.shape:
                raise ValueError(f"backward(grad): grad has shape {grad_tensor.shape}, expected {self.shape}")
            if grad_tensor.dtype is not self.dtype:
                raise TypeError(f"backward(grad): grad is {grad_tensor.dtype.name} but the tensor is "
                                f"{self.dtype.name}; pass grad.astype(md.{self.dtype.name})")
        if self.creator is None:
            self.grad = grad_tensor if self.grad is None else self.grad + grad_tensor
            return
        engine.backward(self, grad_tensor, retain_graph, create_graph)

    def zero_grad(self) -> None:
        self.grad = None

    def register_post_accumulate_grad_hook(self, hook: Any) -> "RemovableHandle":
        """Call ``hook(self)`` each time ``backward()`` has added into ``self.grad`` (a leaf), as in PyTorch.

        Data-parallel training uses it to send a gradient off as soon as it is
        ready. Returns a handle whose ``remove()`` takes the hook out again.

        >>> import minidl as md
        >>> w = md.ones((2,), requires_grad=True)
        >>> handle = w.register_post_accumulate_grad_hook(lambda t: print("ready", t.grad.tolist()))
        >>> (w * 3).sum().backward()
        ready [3.0, 3.0]
        >>> handle.remove()
        """
        if self.creator is not None:
            raise RuntimeError("register_post_accumulate_grad_hook works on leaf tensors only (parameters); "
                               "this tensor was made by an op")
        if self.grad_hooks is None:
            self.grad_hooks = {}
        return RemovableHandle(self.grad_hooks, hook)

    # ---- operators ---------------------------------------------------------------
    __hash__ = object.__hash__

    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.subtract(self, other)
    def __rsub__(self, other): return _ops.subtract(other, self)
    def __mul__(self, other): return _ops.multiply(self, other)
    def __rmul__(self, other): return _ops.multiply(other, self)
    def __truediv__(self, other): return _ops.divide(self, other)
    def __rtruediv__(self, other): return _ops.divide(other, self)
    def __floordiv__(self, other): return _ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return _ops.floor_divide(other, self)
    def __mod__(self, other): return _ops.remainder(self, other)
    def __rmod__(self, other): return _ops.remainder(other, self)
    def __pow__(self, other): return _ops.pow(self, other)
    def __rpow__(self, other): return _ops.pow(other, self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __neg__(self): return _ops.negative(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __lt__(self, other): return _ops.less(self, other)
    def __le__(self, other): return _ops.less_equal(self, other)
    def __gt__(self, other): return _ops.greater(self, other)
    def __ge__(self, other): return _ops.greater_equal(self, other)
    def __eq__(self, other): return _ops.equal(self, other)  # type: ignore[override]
    def __ne__(self, other): return _ops.not_equal(self, other)  # type: ignore[override]
    def __getitem__(self, key): return _ops.getitem(self, key)

    # ---- in place, as in PyTorch (see minidl.ops.inplace: the tensor keeps its identity, its array is replaced) ----
    def __iadd__(self, other): return _ops.update_(self, "+=", _ops.add, other)
    def __isub__(self, other): return _ops.update_(self, "-=", _ops.subtract, other)
    def __imul__(self, other): return _ops.update_(self, "*=", _ops.multiply, other)
    def __itruediv__(self, other): return _ops.update_(self, "/=", _ops.divide, other)
    def __ifloordiv__(self, other): return _ops.update_(self, "//=", _ops.floor_divide, other)
    def __imod__(self, other): return _ops.update_(self, "%=", _ops.remainder, other)
    def __setitem__(self, key, value): _ops.update_(self, "[...] =", _ops.setitem, key, value)
    def add_(self, other, alpha=1): return _ops.update_(self, "add_", _ops.add, other * alpha if alpha != 1 else other)
    def sub_(self, other, alpha=1):
        return _ops.update_(self, "sub_", _ops.subtract, other * alpha if alpha != 1 else other)
    def mul_(self, other): return _ops.update_(self, "mul_", _ops.multiply, other)
    def div_(self, other, rounding_mode=None):
        return _ops.update_(self, "div_", _ops.divide_rounded, other, rounding_mode)
    def clamp_(self, min=None, max=None): return _ops.update_(self, "clamp_", _ops.clip, min, max)
    def zero_(self): return _ops.update_(self, "zero_", _ops.filled, 0)
    def fill_(self, value): return _ops.update_(self, "fill_", _ops.filled, value)
    def copy_(self, source): return _ops.update_(self, "copy_", _ops.copied, source)

    # ---- methods that mirror md.* functions (PyTorch's names: minidl/ops/torch_methods.py) ---------
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def sqrt(self): return _ops.sqrt(self)
    def tanh(self): return _ops.tanh(self)
    def sigmoid(self): return _ops.sigmoid(self)
    def relu(self): return _ops.relu(self)
    def abs(self): return _ops.abs(self)
    def matmul(self, other): return _ops.matmul(self, other)
    def permute_dims(self, axes): return _ops.permute_dims(self, axes)
    def broadcast_to(self, shape): return _ops.broadcast_to(self, shape)
    def expand_dims(self, axis): return _ops.expand_dims(self, axis)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def __getattr__(self, name: str) -> Any:
        """Only for names a Tensor lacks: a PyTorch spelling gets minidl's, the rest the usual error."""
        ops = globals().get("_ops")  # (absent only while minidl is still being imported)
        advice = ops.torch_methods.MISSING_ATTRIBUTES.get(name) if ops is not None else None
        if advice is not None:
            raise AttributeError(f"minidl Tensors have no {name!r} (a PyTorch name); write {advice}")
        if name.endswith("_") and not name.startswith("_") and hasattr(type(self), name[:-1]):
            raise AttributeError(f"minidl Tensors have no in-place {name!r}; write x = x.{name[:-1]}(...) "
                                 f"(a new tensor), or update in place with the operators or copy_: "
                                 f"`with md.no_grad(): p -= lr * p.grad` or x.copy_(x.{name[:-1]}(...))")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def T(self) -> "Tensor":
        """The transpose: axes reversed (for a matrix, rows and columns swapped)."""
        return _ops.permute_dims(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> "Tensor":
        """The last two axes swapped (a batch of matrices transposed)."""
        return _ops.matrix_transpose(self)


class ElementCount(int):
    """``x.size``: an int, which explains itself when called as PyTorch's ``x.size()``."""

    def __call__(self, dim: int | None = None) -> None:
        where = "x.shape" if dim is None else f"x.shape[{dim}]"
        raise TypeError(f"x.size is the number of elements ({int(self)}), as in the Array API standard; "
                        f"for PyTorch's x.size({'' if dim is None else dim}) write {where}")


class RemovableHandle:
    """What registering a hook returns: ``remove()`` unregisters it."""

    _next_id = 0

    def __init__(self, hooks: dict, hook: Any) -> None:
        RemovableHandle._next_id += 1
        self._hooks, self._id = hooks, RemovableHandle._next_id
        hooks[self._id] = hook

    def remove(self) -> None:
        self._hooks.pop(self._id, None)


# The documented exception to "every layer imports downward": Tensor's operators and methods call ops.
from minidl import ops as _ops  # noqa: E402  (ops needs Tensor defined first)
