"""Exercise, chapter 8 (Writing your own GEMM): the cache-blocked rung.

Rung 3 of the CPU ladder (``minidl/kernels/cpu_blocked.py``) cuts the three
loops of ``C = A @ B`` into tiles: a BM x BN tile of C accumulates the products
of BM x BK tiles of A and BK x BN tiles of B, so the tiles being worked on stay
in the caches.  Write, in plain Python and NumPy (a tile product may use ``@``):

- ``tile_ranges(size, block)``: the ``(start, stop)`` of each tile along one axis,
  the last one shorter when ``block`` does not divide ``size``;
- ``blocked_matmul(a, b, bm, bk, bn)``: ``a @ b`` computed tile by tile with those ranges.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_blocked_gemm.py -q``
"""

from __future__ import annotations


def tile_ranges(size: int, block: int) -> list[tuple[int, int]]:
    raise NotImplementedError("exercise blocked_gemm: write tile_ranges")


def blocked_matmul(a, b, bm: int = 32, bk: int = 128, bn: int = 256):
    raise NotImplementedError("exercise blocked_gemm: write blocked_matmul")
