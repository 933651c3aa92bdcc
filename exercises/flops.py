"""Exercise, chapter 1 (The computer's side): count what a matrix product costs.

For ``C (m x n) = A (m x k) @ B (k x n)`` write:

- ``gemm_flops(m, n, k)``: floating-point operations (a multiply and an add per term);
- ``gemm_bytes(m, n, k, itemsize)``: bytes that must cross memory at the least
  (read A and B once, write C once);
- ``arithmetic_intensity(m, n, k, itemsize)``: FLOPs per byte.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_flops.py -q``
"""

from __future__ import annotations


def gemm_flops(m: int, n: int, k: int) -> int:
    raise NotImplementedError("exercise flops: write gemm_flops")


def gemm_bytes(m: int, n: int, k: int, itemsize: int = 4) -> int:
    raise NotImplementedError("exercise flops: write gemm_bytes")


def arithmetic_intensity(m: int, n: int, k: int, itemsize: int = 4) -> float:
    raise NotImplementedError("exercise flops: write arithmetic_intensity")
