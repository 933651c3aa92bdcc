"""Reference solution of exercises/flops.py."""

from __future__ import annotations


def gemm_flops(m: int, n: int, k: int) -> int:
    return 2 * m * n * k                       # m*n dot products of length k: k multiplies, k adds


def gemm_bytes(m: int, n: int, k: int, itemsize: int = 4) -> int:
    return (m * k + k * n + m * n) * itemsize


def arithmetic_intensity(m: int, n: int, k: int, itemsize: int = 4) -> float:
    return gemm_flops(m, n, k) / gemm_bytes(m, n, k, itemsize)
