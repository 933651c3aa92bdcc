"""Matrix multiplication: the operation that does almost all the work of a network.

``C = A @ B`` has two gradients, and both are matrix products again:
``dA = dC @ B.T`` and ``dB = A.T @ dC``.  So a training step is three GEMMs
per layer, and whichever GEMM ``md.set_matmul`` selects runs all three.
"""

from __future__ import annotations

from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.backend import get_matmul
from minidl.ops.shape import broadcast_shapes, expand_dims, matrix_transpose, squeeze, unbroadcast


def _gemm(xp, a, b):
    spec = get_matmul()
    if spec == "xp":
        return xp.matmul(a, b)
    from minidl.kernels.registry import run_matmul

    return run_matmul(spec, xp, a, b)


class MatMul(Function):
    def forward(self, a, b):
        return _gemm(self.xp, a, b)

    def backward(self, grad):
        a, b = self.inputs
        grad_a = unbroadcast(matmul(grad, matrix_transpose(b)), a.shape) if a.requires_grad else None
        grad_b = unbroadcast(matmul(matrix_transpose(a), grad), b.shape) if b.requires_grad else None
        return grad_a, grad_b


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with the Array API's rules: 1-D, 2-D and batched (broadcast) operands.

    >>> import minidl as md
    >>> (md.ones((2, 3)) @ md.ones((3, 4))).shape
    (2, 4)
    """
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        from minidl.ops.creation import constant_like

        a, b = (constant_like(a, b), b) if isinstance(b, Tensor) else (a, constant_like(b, a))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}")
    if a.ndim == 1 and b.ndim == 1:
        return squeeze(matmul(expand_dims(a, 0), expand_dims(b, -1)), (0, 1))
    if a.ndim == 1:
        return squeeze(matmul(expand_dims(a, 0), b), -2)
    if b.ndim == 1:
        return squeeze(matmul(a, expand_dims(b, -1)), -1)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the first ({a.shape[-1]}) "
            f"must equal the second-to-last axis of the second ({b.shape[-2]})"
        )
    if a.ndim > 2 or b.ndim > 2:
        broadcast_shapes("matmul (batch axes)", a.shape[:-2], b.shape[:-2])
    if a.data.dtype != b.data.dtype:
        raise TypeError(f"matmul: dtypes {a.dtype.name} and {b.dtype.name} differ; convert one with .astype()")
    return MatMul.apply(a, b)


class Linear(Function):
    """``y = x @ W.T + b``: one GEMM forward, two GEMMs (and a sum) backward."""

    def forward(self, x, weight, bias=None):
        y = _gemm(self.xp, x, self.xp.matrix_transpose(weight))
        return y if bias is None else y + bias

    def backward(self, grad):
        x, weight = self.inputs[0], self.inputs[1]
        grad_x = matmul(grad, weight) if x.requires_grad else None            # (N, out) @ (out, in)
        grad_weight = None
        if weight.requires_grad:                                              # (out, N) @ (N, in)
            grad_weight = matmul(matrix_transpose(_rows(grad)), _rows(x))
        grads = (grad_x, grad_weight)
        if len(self.inputs) == 3:
            bias = self.inputs[2]
            grads += (unbroadcast(grad, bias.shape) if bias.requires_grad else None,)
        return grads


def _rows(t: Tensor) -> Tensor:
    """Fold leading batch axes into one, so the weight gradient is a single 2-D GEMM."""
    from minidl.ops.shape import reshape

    return t if t.ndim == 2 else reshape(t, (-1, t.shape[-1]))


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features), as in PyTorch."""
    if x.ndim < 1 or weight.ndim != 2:
        raise ValueError(f"linear: expected input (..., in_features) and weight (out, in), got {x.shape} and {weight.shape}")
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight expects "
            f"{weight.shape[1]} (weight shape {weight.shape}, i.e. in_features={weight.shape[1]})"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias shape {bias.shape} should be ({weight.shape[0]},)")
    if x.ndim == 1:
        return squeeze(linear(expand_dims(x, 0), weight, bias), 0)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Linear.apply(*inputs)
