"""Tensor methods with PyTorch's names, from one table.

``TENSOR_METHODS`` maps a method name to the function in ``md.*`` it calls
with the tensor as first argument (``x.unsqueeze(0)`` is
``md.unsqueeze(x, 0)``). :func:`install` puts them on :class:`Tensor` when
``minidl.ops`` is imported, the same documented exception as Tensor's
operators (a lower layer's class calling ops). The docs page "Coming from
PyTorch" is generated from these tables, so it cannot drift from the code.
"""

from __future__ import annotations

from typing import Any, Callable

from minidl.autograd.tensor import Tensor
from minidl.ops import along_axis, elementwise, layout, reduction, search, shape, statistics, unary
from minidl.ops.softmax import log_softmax, softmax


def _shape_arguments(function: Callable) -> Callable:
    """``x.view(2, 3)`` and ``x.view((2, 3))`` both mean shape (2, 3)."""
    def method(self: Tensor, *shape_: Any) -> Tensor:
        if len(shape_) == 1 and isinstance(shape_[0], (tuple, list)):
            shape_ = tuple(shape_[0])
        return function(self, shape_)
    return method


def _permute(self: Tensor, *dims: Any) -> Tensor:
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    return shape.permute_dims(self, dims)


def _clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    return elementwise.clip(self, min, max)


# method name -> function(tensor, ...): what x.name(...) runs.
TENSOR_METHODS: dict[str, Callable] = {
    # shape
    "view": _shape_arguments(shape.reshape), "permute": _permute, "transpose": layout.transpose,
    "unsqueeze": layout.unsqueeze, "squeeze": shape.squeeze, "flatten": shape.flatten, "expand": layout.expand,
    "repeat": layout.repeat, "split": layout.split, "chunk": layout.chunk, "flip": layout.flip, "roll": layout.roll,
    "tril": layout.tril, "triu": layout.triu, "clone": layout.clone,
    "contiguous": lambda self: self, "numel": lambda self: int(self.size), "dim": lambda self: self.ndim,
    # reductions and search
    "sum": reduction.sum, "mean": reduction.mean, "max": search.max, "min": search.min,
    "amax": reduction.max, "amin": reduction.min,
    "argmax": search.argmax, "argmin": search.argmin, "sort": search.sort, "argsort": search.argsort,
    "topk": search.topk, "var": statistics.var, "std": statistics.std, "logsumexp": statistics.logsumexp,
    "prod": statistics.prod, "cumsum": statistics.cumsum, "any": statistics.any, "all": statistics.all,
    "softmax": softmax, "log_softmax": log_softmax,
    # elementwise
    "clamp": _clamp, "clip": _clamp, "maximum": elementwise.maximum, "minimum": elementwise.minimum,
    "pow": elementwise.pow, "sin": unary.sin, "cos": unary.cos, "rsqrt": unary.rsqrt, "erf": unary.erf,
    "log1p": unary.log1p, "expm1": unary.expm1, "sign": unary.sign, "floor": unary.floor, "ceil": unary.ceil,
    "round": unary.round, "isnan": unary.isnan, "isinf": unary.isinf, "isfinite": unary.isfinite,
    "square": lambda self: self * self,
    # indexing
    "masked_fill": along_axis.masked_fill, "gather": along_axis.gather, "scatter_add": along_axis.scatter_add,
}

# PyTorch spellings minidl does not have, and what to write instead (Tensor.__getattr__ reads it).
MISSING_ATTRIBUTES: dict[str, str] = {
    "nelement": "x.numel() (or x.size, the element count)",
    "ndimension": "x.ndim",
    "t": "x.T (or x.mT for the last two axes)",
    "swapaxes": "x.transpose(dim0, dim1)",
    "norm": "md.sqrt((x * x).sum())",
    "new_zeros": "md.zeros(shape, dtype=x.dtype, device=x.device)",
    "new_ones": "md.ones(shape, dtype=x.dtype, device=x.device)",
    "new_tensor": "md.tensor(data, dtype=x.dtype, device=x.device)",
    "data_ptr": "nothing: minidl tensors do not expose memory addresses",
    "storage": "nothing: minidl tensors have no separate storage; read x.data (the backend array)",
    "stride": "nothing: minidl arrays do not expose strides",
    "is_contiguous": "nothing: treat every minidl tensor as contiguous (x.contiguous() returns x)",
    "index_select": "x[index] for axis 0, or md.gather",
    "masked_select": "x[mask] is not supported; use md.where(mask, x, 0) or gather the indices",
    "unfold": "nothing yet (minidl's im2col is md.ops.im2col)",
}


def install(cls: type) -> None:
    """Attach every method of :data:`TENSOR_METHODS` to ``cls`` (called once, when ``minidl.ops`` loads)."""
    for name, function in TENSOR_METHODS.items():
        def method(self, *args, _function=function, **kwargs):
            return _function(self, *args, **kwargs)
        method.__name__ = method.__qualname__ = name
        method.__doc__ = f"``x.{name}(...)`` is ``{getattr(function, '__module__', 'minidl')}." \
                         f"{getattr(function, '__name__', name)}(x, ...)``. {function.__doc__ or ''}".strip()
        setattr(cls, name, method)


install(Tensor)
