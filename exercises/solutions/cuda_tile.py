"""Reference solution of exercises/cuda_tile.py."""

from __future__ import annotations

from functools import partial

from numba import cuda, float32

from exercises import cuda_tile as skeleton

TILE = skeleton.TILE


@cuda.jit
def tile_kernel(a, b, c):
    a_tile = cuda.shared.array((TILE, TILE), float32)
    b_tile = cuda.shared.array((TILE, TILE), float32)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    m, n, depth = c.shape[0], c.shape[1], a.shape[1]
    acc = float32(0.0)
    for k0 in range(0, depth, TILE):
        a_tile[ty, tx] = a[row, k0 + tx] if row < m and k0 + tx < depth else float32(0.0)
        b_tile[ty, tx] = b[k0 + ty, col] if k0 + ty < depth and col < n else float32(0.0)
        cuda.syncthreads()
        for kk in range(TILE):
            acc += a_tile[ty, kk] * b_tile[kk, tx]
        cuda.syncthreads()
    if row < m and col < n:
        c[row, col] = acc


tiled_matmul = partial(skeleton.tiled_matmul, kernel=tile_kernel)
