"""The GEMV kernel: one sample through a layer, ``y = x @ B``, the memory-bound twin of GEMM.

A GEMM of n x n matrices does 2n^3 FLOPs on 3n^2 numbers: each number loaded
is used n times, so a good kernel is limited by arithmetic.  A GEMV does 2n^2
FLOPs on n^2 numbers: each element of B is used exactly once, so no tiling
can help and the best a kernel can do is read B at the memory's full speed.
That is why it is measured in GB/s, against the card's bandwidth.

Reading at full speed takes many loads in flight at once, so the work is cut
finely.  A block owns 32 neighbouring columns of B (thread x: each warp reads
128 contiguous bytes per step) and one chunk of ``CHUNK`` rows of B (grid axis
y), shared among 4 thread rows (thread y).  The 4 partial sums of a column
meet in shared memory, and the chunks' sums are added into C with atomic
additions (so C starts at zero, and the order of those few additions, hence
the last bit of the result, may vary from run to run).

The kernel computes ``C = A @ B`` as one GEMV per row of A (grid axis z), so
it works as a matmul of any shape; but for a batch it streams all of B once
per row: fine for one sample, wasteful for many (which is the lesson of GEMM).
"""

from __future__ import annotations

from numba import cuda, float32

from minidl.kernels.cuda_common import blocks, cuda_kernel

COLUMNS = 32      # columns of B per block (one warp wide)
SPLIT = 4         # thread rows sharing a chunk: 32 x 4 = 128 threads per block
CHUNK = 256       # rows of B per block: enough blocks to keep every multiprocessor's loads in flight
MAX_GRID_Z = 65535


@cuda_kernel(launch_bounds=(COLUMNS * SPLIT,))
def gemv_kernel(a, b, c):
    partial = cuda.shared.array((SPLIT, COLUMNS), float32)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    col = cuda.blockIdx.x * COLUMNS + tx
    k_start = cuda.blockIdx.y * CHUNK
    row = cuda.blockIdx.z                          # which vector (row of A)
    k_stop = min(k_start + CHUNK, a.shape[1])
    acc = float32(0.0)
    if col < c.shape[1]:
        for k in range(k_start + ty, k_stop, SPLIT):   # thread row ty takes every SPLIT-th row of the chunk
            acc += a[row, k] * b[k, col]
    partial[ty, tx] = acc
    cuda.syncthreads()
    if ty == 0 and col < c.shape[1]:
        total = partial[0, tx]
        for i in range(1, SPLIT):
            total += partial[i, tx]
        cuda.atomic.add(c, (row, col), total)     # chunks of the same column add up in C


@cuda_kernel()
def zero_kernel(c):
    row, col = cuda.grid(2)
    if row < c.shape[0] and col < c.shape[1]:
        c[row, col] = float32(0.0)


def gemv(a, b, c) -> None:
    """``c[...] = a @ b`` as one matrix-vector product per row of ``a``."""
    zero_kernel[(blocks(c.shape[0], 16), blocks(c.shape[1], 16)), (16, 16)](c)
    for start in range(0, c.shape[0], MAX_GRID_Z):   # grid axis z holds at most 65535 rows per launch
        rows = slice(start, min(start + MAX_GRID_Z, c.shape[0]))
        grid = (blocks(c.shape[1], COLUMNS), blocks(a.shape[1], CHUNK), rows.stop - rows.start)
        gemv_kernel[grid, (COLUMNS, SPLIT)](a[rows], b, c[rows])
