"""Tensor methods with PyTorch's names, from one table.

``TENSOR_METHODS`` maps a method name to the function in ``md.*`` it calls
with the tensor as first argument (``x.unsqueeze(0)`` is
``md.unsqueeze(x, 0)``). `install` puts them on `Tensor` when
``minidl.ops`` is imported, the same documented exception as Tensor's
operators (a lower layer's class calling ops). The docs page "Coming from
PyTorch" is generated from these tables, so it cannot drift from the code.
"""

from __future__ import annotations

from typing import Any, Callable

from minidl import backend as _backend
from minidl.autograd.dtypes import DTYPES, DType, bool_, float32, float64, int32, int64
from minidl.autograd.tensor import Tensor
from minidl.ops import (along_axis, elementwise, floor_division, layout, piecewise, reduction, search, shape,
                        statistics, strides, unary)
from minidl.ops.diagonal import diagonal
from minidl.ops.narrow import narrow, select
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


def _t(self: Tensor) -> Tensor:
    """PyTorch's ``x.t()``: the transpose of a matrix (a 0-d or 1-D tensor is returned as it is)."""
    if self.ndim > 2:
        raise ValueError(f"x.t() transposes at most 2 dimensions, got shape {self.shape}; use x.transpose(d0, d1) "
                         f"or x.mT for the last two")
    return self.T


def _clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    return piecewise.clip(self, min, max)


# method name -> function(tensor, ...): what x.name(...) runs.
TENSOR_METHODS: dict[str, Callable] = {
    # shape
    "view": _shape_arguments(layout.view), "permute": _permute, "transpose": layout.transpose,
    "unsqueeze": layout.unsqueeze, "squeeze": shape.squeeze, "flatten": shape.flatten, "expand": layout.expand,
    "repeat": layout.repeat, "split": layout.split, "chunk": layout.chunk, "flip": layout.flip, "roll": layout.roll,
    "tril": layout.tril, "triu": layout.triu, "clone": layout.clone,
    "t": _t, "contiguous": layout.contiguous,
    "is_contiguous": strides.is_contiguous, "narrow": narrow, "select": select, "diagonal": diagonal, "numel": lambda self: int(self.size), "dim": lambda self: self.ndim,
    # reductions and search
    "sum": reduction.sum, "mean": reduction.mean, "max": search.max, "min": search.min,
    "amax": reduction.max, "amin": reduction.min,
    "argmax": search.argmax, "argmin": search.argmin, "sort": search.sort, "argsort": search.argsort,
    "topk": search.topk, "var": statistics.var, "std": statistics.std, "logsumexp": statistics.logsumexp,
    "prod": statistics.prod, "cumsum": statistics.cumsum, "any": statistics.any, "all": statistics.all,
    "softmax": softmax, "log_softmax": log_softmax,
    # elementwise
    "clamp": _clamp, "clip": _clamp, "maximum": piecewise.maximum, "minimum": piecewise.minimum,
    "pow": elementwise.pow, "sin": unary.sin, "cos": unary.cos, "rsqrt": unary.rsqrt, "erf": unary.erf,
    "log1p": unary.log1p, "expm1": unary.expm1, "sign": unary.sign, "floor": unary.floor, "ceil": unary.ceil,
    "round": unary.round, "isnan": unary.isnan, "isinf": unary.isinf, "isfinite": unary.isfinite,
    "square": lambda self: self * self,
    # arithmetic and comparisons by name
    "add": elementwise.add, "sub": elementwise.subtract, "mul": elementwise.multiply,
    "div": floor_division.divide_rounded, "remainder": floor_division.remainder,
    "floor_divide": floor_division.floor_divide,
    "neg": elementwise.negative, "eq": elementwise.equal, "ne": elementwise.not_equal, "lt": elementwise.less,
    "le": elementwise.less_equal, "gt": elementwise.greater, "ge": elementwise.greater_equal,
    # shaped like another tensor
    "view_as": lambda self, other: layout.view(self, other.shape),
    "reshape_as": lambda self, other: shape.reshape(self, other.shape),
    "expand_as": lambda self, other: shape.broadcast_to(self, other.shape),
    "type_as": lambda self, other: elementwise.astype(self, other.dtype),
    "unbind": layout.unbind,
    # indexing
    "masked_fill": along_axis.masked_fill, "gather": along_axis.gather, "scatter_add": along_axis.scatter_add,
}

# PyTorch spellings minidl does not have, and what to write instead (Tensor.__getattr__ reads it).
MISSING_ATTRIBUTES: dict[str, str] = {
    "nelement": "x.numel() (or x.size, the element count)",
    "ndimension": "x.ndim",
    "swapaxes": "x.transpose(dim0, dim1)",
    "norm": "md.sqrt((x * x).sum())",
    "new_zeros": "md.zeros(shape, dtype=x.dtype, device=x.device)",
    "new_ones": "md.ones(shape, dtype=x.dtype, device=x.device)",
    "new_tensor": "md.tensor(data, dtype=x.dtype, device=x.device)",
    "data_ptr": "nothing: minidl tensors do not expose memory addresses",
    "storage": "nothing: minidl tensors have no separate storage; read x.data (the backend array)",
    "stride": "nothing: minidl arrays do not expose strides (x.is_contiguous() tells whether x is a "
              "non-contiguous view)",
    "index_select": "x[index] for axis 0, or md.gather",
    "masked_select": "x[mask] (a bool mask selects, with gradients)",
    "unfold": "nothing yet (minidl's im2col is md.ops.im2col)",
    "fmod": "md.where(x < 0, -((-x) % abs(y)), x % abs(y)) (C's fmod: the dividend's sign); x % y is "
            "Python's and PyTorch's remainder (the divisor's sign)",
}


def install(cls: type) -> None:
    """Attach every method of `TENSOR_METHODS` to ``cls`` (called once, when ``minidl.ops`` loads)."""
    for name, function in TENSOR_METHODS.items():
        def method(self, *args, _function=function, **kwargs):
            return _function(self, *args, **kwargs)
        method.__name__ = method.__qualname__ = name
        method.__doc__ = f"``x.{name}(...)`` is ``{getattr(function, '__module__', 'minidl')}." \
                         f"{getattr(function, '__name__', name)}(x, ...)``. {function.__doc__ or ''}".strip()
        setattr(cls, name, method)



def to(x: Tensor, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False,
       non_blocking: bool = False) -> Tensor:
    """``x.to(...)``: read a device or backend name, a dtype, or another tensor (its backend and dtype)."""
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.backend, arg.dtype
        elif _is_dtype(arg):
            dtype = arg
        else:
            device = arg
    result = x
    if device is not None:
        name, data = _backend.moved_array(x.data, x.backend, device)
        if data is not None:
            result = Tensor._wrap(data, _backend.namespace(name), name, x.requires_grad)
    if dtype is not None:
        result = elementwise.astype(result, dtype)
    return layout.clone(result) if copy and result is x else result


def _is_dtype(value: Any) -> bool:
    if isinstance(value, (DType, type)) or (isinstance(value, str) and value in DTYPES):
        return True
    return hasattr(value, "kind") and hasattr(value, "itemsize")  # a NumPy dtype object


def _type(x: Tensor, dtype: Any = None) -> Any:
    """``x.type()`` names the dtype; ``x.type(dtype)`` converts, as ``x.to(dtype)``."""
    return repr(x.dtype) if dtype is None else elementwise.astype(x, dtype)


def _converter(dtype: DType) -> Callable:
    def convert(self: Tensor) -> Tensor:
        return elementwise.astype(self, dtype)
    convert.__doc__ = f"This tensor as {dtype.name} (``x.astype(md.{dtype.name})``)."
    return convert


TENSOR_METHODS.update({
    "float": _converter(float32), "double": _converter(float64), "long": _converter(int64),
    "int": _converter(int32), "bool": _converter(bool_), "type": _type,
    "cpu": lambda self: to(self, "cpu"), "cuda": lambda self: to(self, "cuda"),
})

# property name -> function(tensor): what x.name reads.
TENSOR_PROPERTIES: dict[str, Callable] = {
    "device": lambda self: _backend.device_of(self.backend, self.data),
    "is_cuda": lambda self: _backend.device_of(self.backend, self.data).type == "cuda",
    "grad_fn": lambda self: self.creator,
}


def install_properties(cls: type) -> None:
    for name, function in TENSOR_PROPERTIES.items():
        setattr(cls, name, property(function, doc=f"PyTorch's ``x.{name}``."))


install(Tensor)
install_properties(Tensor)
