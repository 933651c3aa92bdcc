"""The autograd core: Tensor, Function, the backward engine and grad mode."""

from minidl.autograd.dtypes import DType, DTYPES, as_dtype, bool_, dtype_of, float32, float64, int32, int64, uint8
from minidl.autograd.function import Function, is_grad_enabled, no_grad, set_grad_enabled
from minidl.autograd.tensor import Tensor

__all__ = [
    "DTYPES", "DType", "Function", "Tensor", "as_dtype", "bool_", "dtype_of", "float32", "float64",
    "int32", "int64", "is_grad_enabled", "no_grad", "set_grad_enabled", "uint8",
]
