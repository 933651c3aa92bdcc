"""Matrix multiplication: the operation that does almost all the work of a network.

``C = A @ B`` has two gradients, and both are matrix products again:
``dA = dC @ B.T`` and ``dB = A.T @ dC``.  So a training step is three GEMMs
per layer, and whichever GEMM ``md.set_matmul`` selects runs all three.
"""

from __future__ import annotations

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.dtypes import same_dtype
from minidl.autograd.function import Function
from minidl.autograd.hooks import installed_hooks
from minidl.autograd.tensor import Tensor
from minidl.kernels.matmul import gemm
from minidl.ops.autocasting import cast_for_gemm
from minidl.ops.checks import broadcast_shapes, expect_tensor
from minidl.ops.creation import constant_like
from minidl.ops.shape import PermuteDims, Reshape, expand_dims, squeeze, sum_to


def _transposed(x):
    """``x`` with its last two axes swapped (a Tensor, or an array inside a backward)."""
    ndim = len(x.shape)
    return PermuteDims.apply(x, axes=tuple(range(ndim - 2)) + (ndim - 1, ndim - 2))


def _rows(x):
    """Fold leading batch axes into one, so a weight gradient is a single 2-D GEMM."""
    return x if len(x.shape) == 2 else Reshape.apply(x, shape=(-1, x.shape[-1]))


class MatMul(Function):
    def forward(self, a, b):
        return gemm(a, b)

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        return (sum_to(MatMul.apply(grad, _transposed(b)), a.shape) if wants_a else None,
                sum_to(MatMul.apply(_transposed(a), grad), b.shape) if wants_b else None)

    def gemm_flops(self) -> int:
        a, b = self.inputs[0].shape, self.inputs[1].shape  # both >= 2-D: matmul() reshapes 1-D operands first
        batch = 1
        for dim in broadcast_shapes("matmul", a[:-2], b[:-2]):
            batch *= dim
        return 2 * batch * a[-2] * a[-1] * b[-1]


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with the Array API's rules: 1-D, 2-D and batched (broadcast) operands.

    >>> import minidl as md
    >>> (md.ones((2, 3)) @ md.ones((3, 4))).shape
    (2, 4)
    """
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        a, b = (constant_like(a, b), b) if isinstance(b, Tensor) else (a, constant_like(b, a))
    if _autocast_dtype.get() is not None:  # md.autocast(): the product in float16
        a, b = cast_for_gemm(a, b)
    shape_a, shape_b = a._data.shape, b._data.shape
    if a.dtype.kind == "bool" or b.dtype.kind == "bool":
        raise TypeError(f"matmul of bool tensors is not defined (PyTorch refuses it too); convert with "
                        f".astype(md.int64) or .astype(md.float32) (got {a.dtype.name} and {b.dtype.name})")
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
    if not same_dtype(a._data.dtype, b._data.dtype):
        raise TypeError(f"matmul: dtypes {a.dtype.name} and {b.dtype.name} differ; convert one with .astype()")
    return MatMul.apply(a, b)


class TransposedMatMul(Function):
    """``a.mT @ b`` as one node: Linear's weight gradient ``grad.T @ x``.

    The same product as ``matmul(matrix_transpose(a), b)``, one node instead of
    two: the weight gradient is computed for every layer at every step, so the
    transpose node it saves is per-step overhead (the transpose itself is a view).
    """

    def forward(self, a, b):
        return gemm(a.T, b)  # both 2-D (Linear folds batch axes first): .T is a view

    def backward(self, grad, a, b):
        # C = A^T B, so dA = B dC^T and dB = A dC.
        wants_a, wants_b = self.needs_input_grad
        return (MatMul.apply(b, _transposed(grad)) if wants_a else None,
                MatMul.apply(a, grad) if wants_b else None)

    def gemm_flops(self) -> int:
        a, b = self.inputs[0].shape, self.inputs[1].shape  # a.mT @ b, both 2-D
        return 2 * a[0] * a[1] * b[1]


class Linear(Function):
    """``y = x @ W.T + b``: one GEMM forward, two GEMMs (and a sum) backward."""

    def forward(self, x, weight, bias=None):
        # Leading batch axes folded into the rows: one GEMM, not one per batch entry (as matmul's rules would)
        y = gemm(x if x.ndim == 2 else self.xp.reshape(x, (-1, x.shape[-1])), weight.T)  # .T: a cheap view
        if bias is not None:
            y += bias  # in place: y is a fresh array, and one less temporary counts at large batch
        return y if x.ndim == 2 else self.xp.reshape(y, x.shape[:-1] + (y.shape[-1],))

    def backward(self, grad, x, weight, bias=None):
        inputs, x_shape = self.inputs, tuple(x.shape)  # (inputs read directly: this runs for every layer, every step)
        if len(x_shape) != 2:  # batch axes folded into N, as in the forward
            grad, x = _rows(grad), _rows(x)
        grad_x = None
        if inputs[0].requires_grad:  # (N, out) @ (out, in)
            grad_x = _backward_gemm(grad, weight)
            if len(x_shape) != 2:
                grad_x = Reshape.apply(grad_x, shape=x_shape)
        # (out, N) @ (N, in)
        grad_weight = _backward_gemm(grad, x, transpose_a=True) if inputs[1].requires_grad else None
        if bias is None:
            return grad_x, grad_weight
        return grad_x, grad_weight, sum_to(grad, bias.shape) if inputs[2].requires_grad else None

    def gemm_flops(self) -> int:
        x, weight = self.inputs[0].shape, self.inputs[1].shape
        rows = 1
        for dim in x[:-1]:
            rows *= dim
        return 2 * rows * weight[1] * weight[0]


def _backward_gemm(a, b, transpose_a: bool = False):
    """``a @ b`` (``a.T @ b`` with ``transpose_a``) in a backward formula, on Tensors or on raw arrays.

    On Tensors (under ``create_graph``) it is a recorded node, MatMul or TransposedMatMul. On raw arrays with
    no hook watching the ops (the profiler, anomaly mode and md.compile's trace install one, and then see
    the node), it is the GEMM of that node's forward, without the node that Function.apply would make and
    throw away: up to two per layer at every step (docs/measurements/cpu-2026-12-05/README.txt, torch-phases/).
    """
    if isinstance(a, Tensor) or installed_hooks():
        return TransposedMatMul.apply(a, b) if transpose_a else MatMul.apply(a, b)
    return gemm(a.T, b) if transpose_a else gemm(a, b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features), as in PyTorch."""
    expect_tensor("linear", x)
    if _autocast_dtype.get() is not None:  # md.autocast(): the product (and its bias) in float16
        x, weight, bias = cast_for_gemm(x, weight, bias)
    x_shape, weight_shape, dtype = x._data.shape, weight._data.shape, x._data.dtype
    # Every check in one condition, so that a call that passes them (every call of a training step) pays for
    # no more; _refuse_linear finds the one that failed and names it.
    if (len(weight_shape) != 2 or not len(x_shape) or x_shape[-1] != weight_shape[1] or weight._data.dtype is not dtype
            or bias is not None and (bias._data.dtype is not dtype or tuple(bias._data.shape) != (weight_shape[0],))):
        _refuse_linear(x, weight, bias)
    if len(x_shape) == 1:
        return squeeze(linear(expand_dims(x, 0), weight, bias), 0)
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def _refuse_linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """Raise for the first check of ``linear`` that its operands fail; return where none fails (dtypes equal
    but not the same object)."""
    x_shape, weight_shape = x._data.shape, weight._data.shape
    if len(x_shape) < 1 or len(weight_shape) != 2:
        raise ValueError(f"linear: expected input (..., in_features) and weight (out, in), got {x.shape} and "
                         f"{weight.shape}; one sample is a 1-D tensor of features, a batch is 2-D (N, in_features)")
    if x_shape[-1] != weight_shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight expects "
            f"{weight.shape[1]} (weight shape {weight.shape}, i.e. in_features={weight.shape[1]})"
            + ("; flatten images (N, C, H, W) first: nn.Flatten() before the layer" if len(x_shape) == 4 else "")
        )
    if bias is not None and tuple(bias._data.shape) != (weight_shape[0],):
        raise ValueError(f"linear: bias shape {bias.shape} should be ({weight.shape[0]},)")
    for other in (weight,) if bias is None else (weight, bias):
        if not same_dtype(other._data.dtype, x._data.dtype):  # GEMM would promote
            raise TypeError(f"linear: input is {x.dtype.name} but a parameter is {other.dtype.name}; "
                            f"convert one with .astype()")
