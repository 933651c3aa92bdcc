"""The autograd core: Tensor, dtypes, Function (and its PyTorch-style ctx form), the backward engine, grad mode,
autocast and hooks."""

from minidl.autograd.dtypes import (DType, DTYPES, as_dtype, bool_, dtype_of, float16, float32, float64, int32, int64,
                                    uint8)
from minidl.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minidl.autograd.tensor import Tensor
from minidl.autograd.function import Function

__all__ = [
    "DTYPES", "DType", "Function", "Tensor", "as_dtype", "bool_", "dtype_of", "enable_grad", "float16", "float32",
    "float64", "int32", "int64", "is_grad_enabled", "no_grad", "set_grad_enabled", "uint8",
]
