"""Matrix multiplication: the operation that does almost all the work of a network.

``C = A @ B`` has two gradients, and both are matrix products again:
``dA = dC @ B.T`` and ``dB = A.T @ dC``.  So a training step is three GEMMs
per layer, and whichever GEMM ``md.set_matmul`` selects runs all three.
"""

from __future__ import annotations

from minidl.autograd.dtypes import same_dtype
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.backend import get_matmul
from minidl.ops.creation import constant_like, expect_tensor
from minidl.ops.shape import (broadcast_shapes, expand_dims, matrix_transpose, reshape, squeeze, sum_array_to,
                              unbroadcast)


def _gemm(xp, a, b):
    spec = get_matmul()
    if spec == "xp":
        return a @ b  # the standard's operator: xp.matmul without array-api-compat's wrapper around it
    from minidl.kernels.registry import run_matmul

    return run_matmul(spec, xp, a, b)


class MatMul(Function):
    def forward(self, a, b):
        return _gemm(self.xp, a, b)

    def backward(self, grad):
        a, b = self.inputs
        # Shapes were checked on the way forward, so the products skip matmul()'s checks.
        grad_a = unbroadcast(MatMul.apply(grad, matrix_transpose(b)), a.shape) if a.requires_grad else None
        grad_b = unbroadcast(MatMul.apply(matrix_transpose(a), grad), b.shape) if b.requires_grad else None
        return grad_a, grad_b

    def backward_arrays(self, grad):
        a, b = self.inputs
        xp = self.xp
        grad_a = sum_array_to(xp, _gemm(xp, grad, xp.matrix_transpose(b.data)), a.shape) if a.requires_grad else None
        grad_b = sum_array_to(xp, _gemm(xp, xp.matrix_transpose(a.data), grad), b.shape) if b.requires_grad else None
        return grad_a, grad_b


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with the Array API's rules: 1-D, 2-D and batched (broadcast) operands.

    >>> import minidl as md
    >>> (md.ones((2, 3)) @ md.ones((3, 4))).shape
    (2, 4)
    """
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        a, b = (constant_like(a, b), b) if isinstance(b, Tensor) else (a, constant_like(b, a))
    shape_a, shape_b = a.data.shape, b.data.shape
    if not shape_a or not shape_b:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}")
    if a.ndim == 1 and b.ndim == 1:
        return squeeze(matmul(expand_dims(a, 0), expand_dims(b, -1)), (0, 1))
    if a.ndim == 1:
        return squeeze(matmul(expand_dims(a, 0), b), -2)
    if b.ndim == 1:
        return squeeze(matmul(a, expand_dims(b, -1)), -1)
    if shape_a[-1] != shape_b[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the first ({a.shape[-1]}) "
            f"must equal the second-to-last axis of the second ({b.shape[-2]})"
        )
    if len(shape_a) > 2 or len(shape_b) > 2:
        broadcast_shapes("matmul (batch axes)", shape_a[:-2], shape_b[:-2])
    if not same_dtype(a.data.dtype, b.data.dtype):
        raise TypeError(f"matmul: dtypes {a.dtype.name} and {b.dtype.name} differ; convert one with .astype()")
    return MatMul.apply(a, b)


class TransposedMatMul(Function):
    """``a.mT @ b`` as one node: Linear's weight gradient ``grad.T @ x``.

    The same product as ``matmul(matrix_transpose(a), b)``, one node instead of
    two: the weight gradient is computed for every layer at every step, so the
    transpose node it saves is per-step overhead (the transpose itself is a view).
    """

    def forward(self, a, b):
        return _gemm(self.xp, self.xp.matrix_transpose(a), b)

    def backward(self, grad):
        a, b = self.inputs
        # C = A^T B, so dA = B dC^T and dB = A dC.
        grad_a = MatMul.apply(b, matrix_transpose(grad)) if a.requires_grad else None
        grad_b = MatMul.apply(a, grad) if b.requires_grad else None
        return grad_a, grad_b

    def backward_arrays(self, grad):
        a, b = self.inputs
        xp = self.xp
        return (_gemm(xp, b.data, xp.matrix_transpose(grad)) if a.requires_grad else None,
                _gemm(xp, a.data, grad) if b.requires_grad else None)


class Linear(Function):
    """``y = x @ W.T + b``: one GEMM forward, two GEMMs (and a sum) backward."""

    def forward(self, x, weight, bias=None):
        y = _gemm(self.xp, x, weight.T)  # .T, not xp.matrix_transpose: weight is 2-D, and .T is a cheap view
        if bias is not None:
            y += bias  # in place: y is a fresh array, and one less temporary counts at large batch
        return y

    def backward(self, grad):
        x, weight = self.inputs[0], self.inputs[1]
        # Shapes were checked by linear(), so the products skip matmul()'s checks.
        grad_x = MatMul.apply(grad, weight) if x.requires_grad else None     # (N, out) @ (out, in)
        grad_weight = None
        if weight.requires_grad:                                              # (out, N) @ (N, in)
            grad_weight = TransposedMatMul.apply(_rows(grad), _rows(x))
        grads = (grad_x, grad_weight)
        if len(self.inputs) == 3:
            bias = self.inputs[2]
            grads += (unbroadcast(grad, bias.shape) if bias.requires_grad else None,)
        return grads

    def backward_arrays(self, grad):
        inputs, xp = self.inputs, self.xp
        x, weight = inputs[0].data, inputs[1].data
        grad_x = _gemm(xp, grad, weight) if inputs[0].requires_grad else None
        grad_weight = None
        if inputs[1].requires_grad:
            grad_weight = _gemm(xp, _array_rows(xp, grad).T, _array_rows(xp, x))
        if len(inputs) == 2:
            return grad_x, grad_weight
        bias = inputs[2]
        return grad_x, grad_weight, sum_array_to(xp, grad, bias.shape) if bias.requires_grad else None


def _rows(t: Tensor) -> Tensor:
    """Fold leading batch axes into one, so the weight gradient is a single 2-D GEMM."""
    return t if len(t.data.shape) == 2 else reshape(t, (-1, t.shape[-1]))


def _array_rows(xp, array):
    """``_rows`` on a raw array (Linear's array backward)."""
    return array if array.ndim == 2 else xp.reshape(array, (-1, array.shape[-1]))


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features), as in PyTorch."""
    expect_tensor("linear", x)
    x_shape, weight_shape = x.data.shape, weight.data.shape
    if len(x_shape) < 1 or len(weight_shape) != 2:
        raise ValueError(f"linear: expected input (..., in_features) and weight (out, in), got {x.shape} and "
                         f"{weight.shape}; one sample is a 1-D tensor of features, a batch is 2-D (N, in_features)")
    if x_shape[-1] != weight_shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight expects "
            f"{weight.shape[1]} (weight shape {weight.shape}, i.e. in_features={weight.shape[1]})"
            + ("; flatten images (N, C, H, W) first: nn.Flatten() before the layer" if len(x_shape) == 4 else "")
        )
    if bias is not None and tuple(bias.data.shape) != (weight_shape[0],):
        raise ValueError(f"linear: bias shape {bias.shape} should be ({weight.shape[0]},)")
    dtype = x.data.dtype
    for other in (weight,) if bias is None else (weight, bias):
        if other.data.dtype is not dtype and not same_dtype(other.data.dtype, dtype):  # GEMM would promote
            raise TypeError(f"linear: input is {x.dtype.name} but a parameter is {other.dtype.name}; "
                            f"convert one with .astype()")
    if len(x_shape) == 1:
        return squeeze(linear(expand_dims(x, 0), weight, bias), 0)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Linear.apply(*inputs)
