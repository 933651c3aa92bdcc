"""The GEMV kernel: one sample through a layer, ``y = x @ B``, the memory-bound twin of GEMM.

A GEMM of n x n matrices does 2n^3 FLOPs on 3n^2 numbers: each number loaded
is used n times, so a good kernel is limited by arithmetic.  A GEMV does 2n^2
FLOPs on n^2 numbers: each element of B is used exactly once, so no tiling
can help and the best a kernel can do is read B at the memory's full speed.
That is why it is measured in GB/s, against the card's bandwidth.

The kernel computes ``C = A @ B`` as one GEMV per row of A (grid axis y), so it
works as a matmul of any shape, but for a batch it streams all of B once per
row: fine for one sample, wasteful for many (which is the lesson of GEMM).

Within one GEMV, a block owns 32 neighbouring columns of B (thread x, so each
warp reads 128 contiguous bytes per step) and splits the K rows of B among 16
thread rows (thread y), to have enough loads in flight to saturate memory.
The 16 partial sums of a column are then added in shared memory by a tree
reduction (16 -> 8 -> 4 -> 2 -> 1).
"""

from __future__ import annotations

from numba import cuda, float32

from minidl.kernels.cuda_common import blocks, cuda_kernel

COLUMNS = 32     # columns of B per block (one warp wide)
SPLIT = 16       # thread rows sharing the K dimension: 32 x 16 = 512 threads


@cuda_kernel(launch_bounds=(COLUMNS * SPLIT,))
def gemv_kernel(a, b, c):
    partial = cuda.shared.array((SPLIT, COLUMNS), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    col = cuda.blockIdx.x * COLUMNS + tx
    row = cuda.blockIdx.y                          # which vector (row of A)
    acc = float32(0.0)
    if col < c.shape[1]:
        for k in range(ty, a.shape[1], SPLIT):     # thread row ty takes every SPLIT-th k
            acc += a[row, k] * b[k, col]
    partial[ty, tx] = acc
    cuda.syncthreads()
    step = SPLIT // 2
    while step > 0:                                # tree reduction over the thread rows
        if ty < step:
            partial[ty, tx] += partial[ty + step, tx]
        cuda.syncthreads()
        step //= 2
    if ty == 0 and col < c.shape[1]:
        c[row, col] = partial[0, tx]


def gemv(a, b, c) -> None:
    """``c[...] = a @ b`` as one matrix-vector product per row of ``a``."""
    grid = (blocks(c.shape[1], COLUMNS), c.shape[0])
    gemv_kernel[grid, (COLUMNS, SPLIT)](a, b, c)
