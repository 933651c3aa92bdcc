"""CUDA rung 8, ``warptile``: rung 7's double-buffered 128x128 tiles, with each warp owning a compact sub-tile.

In rungs 5 to 7 a block's 256 threads tile its 128x128 square of C as a
16 x 16 grid, row-major: the 32 threads of a warp are two rows of that grid,
so together they need 2 x 8 = 16 rows of A and all 128 columns of B at every
step of k. Warp tiling adds a level to the hierarchy (block, *warp*, thread),
as CUTLASS and cuBLAS do: the block's square is cut into 8 warp tiles of
64 x 32 (2 down, 4 across), and a warp's 32 threads share one of them. Each
thread still computes 64 outputs, but as 2 x 2 squares of 4 x 4, 32 rows or
16 columns apart inside the warp tile:

    warp tile 64 x 32 = (2 x 32) x (2 x 16);  a 32 x 16 quarter = 8 x 4 threads, each a 4 x 4 square

So at each k a warp reads 64 values of A and 32 of B from shared memory
(rung 7's warps: 16 and 128), every thread's 8 + 8 loads from words that sit
in different banks (A rows are padded to 9 words; B columns 4 apart), and a
warp's working set is a compact block: the layout that later steps (tensor
core fragments, which are per-warp 16 x 8 tiles) build on.

Loads from global memory and double buffering are rung 7's, reused. Every
load is still one 4-byte word: the 128-bit vector loads that published
ladders pair with warp tiling are a separate rung. Whether this layout is
faster than rung 7 on an H100 has not been measured yet (written without a
GPU; checked for correctness under the simulator).
"""

from __future__ import annotations

from numba import cuda, float32

from minidl.kernels.cuda_blocktile import BK, BM, BN, THREADS, TM, TN, zero_tile
from minidl.kernels.cuda_common import blocks, cuda_device, cuda_kernel
from minidl.kernels.cuda_tuned import A_LOADS, A_ROW, B_LOADS, load_to_registers, store_to_tiles

WM, WN = 64, 32                  # a warp's tile of C: 2 x 4 warps cover the 128 x 128 block
WARPS_ACROSS = BN // WN          # 4
SUB = 4                          # a thread's squares are 4 x 4 ...
ITER_M, ITER_N = TM // SUB, TN // SUB   # ... repeated 2 x 2 times
SUB_M, SUB_N = WM // ITER_M, WN // ITER_N  # 32 and 16: the distance between a thread's repeats
LANES_ACROSS = SUB_N // SUB      # 4 lanes across, 8 down, in each 32 x 16 quarter of the warp tile


@cuda_device
def warp_square(tid):
    """(first row, first column) of this thread's outputs inside the block tile; repeats are SUB_M / SUB_N on."""
    warp, lane = tid // 32, tid % 32
    row = (warp // WARPS_ACROSS) * WM + (lane // LANES_ACROSS) * SUB
    col = (warp % WARPS_ACROSS) * WN + (lane % LANES_ACROSS) * SUB
    return row, col


@cuda_device
def multiply_warp_tiles(a_tile, b_tile, row, col, acc):
    """``acc += A_tile[rows] @ B_tile[:, cols]`` for this thread's 2 x 2 squares of 4 x 4."""
    a_regs = cuda.local.array(TM, float32)
    b_regs = cuda.local.array(TN, float32)
    for kk in range(BK):
        for im in range(ITER_M):
            for i in range(SUB):
                a_regs[im * SUB + i] = a_tile[row + im * SUB_M + i, kk]
        for jn in range(ITER_N):
            for j in range(SUB):
                b_regs[jn * SUB + j] = b_tile[kk, col + jn * SUB_N + j]
        for i in range(TM):
            for j in range(TN):
                acc[i, j] += a_regs[i] * b_regs[j]


@cuda_device
def write_warp_tile(c, acc, row, col):
    """Copy the thread's sums to C: output (i, j) sits at row + (i // 4) * 32 + i % 4, col + (j // 4) * 16 + j % 4."""
    for i in range(TM):
        r = row + (i // SUB) * SUB_M + i % SUB
        for j in range(TN):
            column = col + (j // SUB) * SUB_N + j % SUB
            if r < c.shape[0] and column < c.shape[1]:
                c[r, column] = acc[i, j]


@cuda_kernel(launch_bounds=(THREADS,))
def warptile_kernel(a, b, c):
    a_tiles = cuda.shared.array((2, BM, A_ROW), float32)
    b_tiles = cuda.shared.array((2, BK, BN), float32)
    acc = cuda.local.array((TM, TN), float32)
    a_next = cuda.local.array(A_LOADS, float32)
    b_next = cuda.local.array(B_LOADS, float32)
    tid = cuda.threadIdx.x
    row0, col0 = cuda.blockIdx.y * BM, cuda.blockIdx.x * BN
    row, col = warp_square(tid)
    zero_tile(acc)
    steps = (a.shape[1] + BK - 1) // BK
    load_to_registers(a, b, 0, row0, col0, tid, a_next, b_next)
    store_to_tiles(a_tiles[0], b_tiles[0], tid, a_next, b_next)
    cuda.syncthreads()
    for step in range(steps):
        current = step % 2
        more = step + 1 < steps
        if more:
            load_to_registers(a, b, (step + 1) * BK, row0, col0, tid, a_next, b_next)
        multiply_warp_tiles(a_tiles[current], b_tiles[current], row, col, acc)
        if more:
            store_to_tiles(a_tiles[1 - current], b_tiles[1 - current], tid, a_next, b_next)
        cuda.syncthreads()
    write_warp_tile(c, acc, row0 + row, col0 + col)


def warptile(a, b, c) -> None:
    """``c[...] = a @ b``, rung 7 with warp tiles of 64 x 32 and 2 x 2 squares of 4 x 4 per thread."""
    grid = (blocks(c.shape[1], BN), blocks(c.shape[0], BM))
    warptile_kernel[grid, THREADS](a, b, c)
