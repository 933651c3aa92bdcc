"""Linear: the fully connected layer.

``Linear`` is one GEMM: a batch ``x`` of shape (N, in) times the transposed
weight (in, out), plus a bias; its backward is two more GEMMs.
"""

from __future__ import annotations

from minidl.autograd.dtypes import as_dtype
from minidl.autograd.tensor import Tensor
from minidl.nn import init
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter
from minidl.ops.checks import expect_tensor
from minidl.ops.creation import zeros
from minidl.ops.linalg import linear


class Linear(Module):
    """``y = x @ weight.T + bias``, with ``weight`` of shape (out_features, in_features) as in PyTorch.

    Initialised like PyTorch: weight and bias uniform in ``+-1/sqrt(in_features)``
    (see [`minidl.nn.init.default_layer_init_()`][minidl.nn.init.default_layer_init_]), drawn on the host.

    >>> import minidl as md, minidl.nn as nn
    >>> layer = nn.Linear(64, 10)
    >>> layer.weight.shape, layer(md.ones((32, 64))).shape
    ((10, 64), (32, 10))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 backend: str | None = None) -> None:
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear needs positive sizes, got in_features={in_features}, "
                             f"out_features={out_features}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = as_dtype(dtype) if dtype is not None else None
        self.weight = Parameter(zeros((out_features, in_features), dtype=dtype, backend=backend))
        self.bias = Parameter(zeros((out_features,), dtype=dtype, backend=backend)) if bias else None
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor("Linear", x)  # a NumPy batch would otherwise fail deep in F.linear
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
