"""The first three CUDA rungs: one thread per output element of ``C = A @ B``.

All kernels take row-major float32 arrays ``a`` (M, K), ``b`` (K, N) and fill
``c`` (M, N).  Threads that fall outside C (the last blocks, when M or N is
not a multiple of the block) do nothing but still take part in
``syncthreads``: a thread that returns early would leave its block waiting.

Rung 1, ``naive``: thread (x, y) computes C[x, y].  The 32 threads of a warp
have consecutive x, so at each step they read 32 elements of A that are a
whole row apart: 32 separate memory transactions where one would do.

Rung 2, ``coalesced``: swap the roles, x indexes columns (the two kernels
differ in that one line: the arithmetic is the same ``dot_product``).  Now a warp reads
B[k, j..j+31], 128 contiguous bytes, in one transaction, and all its threads
read the same A[i, k] (a broadcast).

Rung 3, ``tiled``: each block first copies a 32x32 tile of A and of B into
shared memory (on-chip, about as fast as L1), then every thread reads 32
values of each from there.  Each element of A or B is fetched from global
memory once per block instead of once per thread: 32 times less traffic.
"""

from __future__ import annotations

from numba import cuda, float32

from minidl.kernels.cuda_common import blocks, cuda_device, cuda_kernel

BLOCK = 32   # threads per block side: 32 x 32 = 1024 threads, the maximum
TILE = 32    # shared-memory tile side of rung 3 (equal to BLOCK: one element per thread)


@cuda_device
def dot_product(a, b, c, row, col):
    """``c[row, col] = a[row, :] @ b[:, col]``, if (row, col) lies inside C."""
    if row < c.shape[0] and col < c.shape[1]:
        acc = float32(0.0)            # float32(0.0), not 0.0: a Python float would make acc float64
        for k in range(a.shape[1]):
            acc += a[row, k] * b[k, col]
        c[row, col] = acc


@cuda_kernel()
def naive_kernel(a, b, c):
    row = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x   # x -> row: the uncoalesced choice
    col = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
    dot_product(a, b, c, row, col)


def naive(a, b, c) -> None:
    """``c[...] = a @ b``, one thread per output, warps running down columns of C."""
    grid = (blocks(c.shape[0], BLOCK), blocks(c.shape[1], BLOCK))
    naive_kernel[grid, (BLOCK, BLOCK)](a, b, c)


@cuda_kernel()
def coalesced_kernel(a, b, c):
    col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x   # x -> column: a warp reads one row segment
    row = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
    dot_product(a, b, c, row, col)


def coalesced(a, b, c) -> None:
    """``c[...] = a @ b``, one thread per output, warps running along rows of C."""
    grid = (blocks(c.shape[1], BLOCK), blocks(c.shape[0], BLOCK))
    coalesced_kernel[grid, (BLOCK, BLOCK)](a, b, c)


@cuda_kernel()
def tiled_kernel(a, b, c):
    a_tile = cuda.shared.array((TILE, TILE), float32)
    b_tile = cuda.shared.array((TILE, TILE), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    m, n, depth = c.shape[0], c.shape[1], a.shape[1]
    acc = float32(0.0)
    for k0 in range(0, depth, TILE):
        # Each thread copies one element of each tile; outside the matrices it writes 0,
        # which adds nothing to the dot products: that is how ragged edges stay correct.
        k = k0 + tx
        a_tile[ty, tx] = a[row, k] if row < m and k < depth else float32(0.0)
        k = k0 + ty
        b_tile[ty, tx] = b[k, col] if k < depth and col < n else float32(0.0)
        cuda.syncthreads()            # the tiles are complete before anyone reads them
        for kk in range(TILE):
            acc += a_tile[ty, kk] * b_tile[kk, tx]
        cuda.syncthreads()            # everyone is done reading before the next copy overwrites them
    if row < m and col < n:
        c[row, col] = acc


def tiled(a, b, c) -> None:
    """``c[...] = a @ b`` through 32x32 shared-memory tiles."""
    grid = (blocks(c.shape[1], TILE), blocks(c.shape[0], TILE))
    tiled_kernel[grid, (TILE, TILE)](a, b, c)
