"""Reference solution of exercises/blocked_gemm.py."""

from __future__ import annotations

import numpy as np


def tile_ranges(size: int, block: int) -> list[tuple[int, int]]:
    return [(start, min(start + block, size)) for start in range(0, size, block)]


def blocked_matmul(a, b, bm: int = 32, bk: int = 128, bn: int = 256):
    m, depth = a.shape
    c = np.zeros((m, b.shape[1]), dtype=np.result_type(a, b))
    for i0, i1 in tile_ranges(m, bm):                 # a band of rows of C (one core's share in minidl)
        for k0, k1 in tile_ranges(depth, bk):         # a slab of the shared dimension
            for j0, j1 in tile_ranges(b.shape[1], bn):
                c[i0:i1, j0:j1] += a[i0:i1, k0:k1] @ b[k0:k1, j0:j1]
    return c
