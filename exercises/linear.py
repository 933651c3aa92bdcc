"""Exercise, chapter 4 (Layers as BLAS calls): a Linear layer's three GEMMs.

``y = x @ w.T + b`` with ``x`` (batch, in), ``w`` (out, in) as in PyTorch, ``b`` (out,).
Write, with NumPy arrays:

- ``linear_forward(x, w, b)``: one GEMM (and a broadcast add);
- ``linear_backward(grad, x, w)``: given ``grad`` = dL/dy (batch, out), return
  ``(dx, dw, db)``: two GEMMs and a sum over the batch.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_linear.py -q``
"""

from __future__ import annotations


def linear_forward(x, w, b):
    raise NotImplementedError("exercise linear: write linear_forward (one GEMM)")


def linear_backward(grad, x, w):
    raise NotImplementedError("exercise linear: write linear_backward (two GEMMs and a sum)")
