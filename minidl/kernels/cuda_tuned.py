"""CUDA rungs 6 and 7: the same 128x128 / 8x8 blocking as rung 5, better fed.

Both split one step of K into three moves, written once below as device
functions: global memory -> registers (``load_to_registers``), registers ->
shared memory (``store_to_tiles``), and the 8x8 outer products out of shared
memory (``multiply_tiles``).

Rung 6, ``conflict_free``: shared memory is split into 32 banks (4-byte
words, address mod 32); a warp's loads from distinct addresses in the same
bank are served one after another.  In rung 5, thread t of a warp reads
B columns ``8 * (t % 16) + j``: 16 addresses 8 words apart, which fall in only
4 banks, so every B load costs 4 rounds.  Here a thread owns the strided
columns ``t % 16 + 16 * j`` instead: the warp reads 16 neighbouring words (16
banks, the other half-warp reading the same ones), one round.  The same
stride makes the final writes of C coalesced.  For A, the 16 threads of a
half-warp read the same word (a broadcast), but the two half-warps read rows
8 apart: 64 words apart in rows of 8 words, the same bank, 2 rounds.  One
word of padding per row (rows of 9) moves them 8 banks apart.

Rung 7, ``prefetch`` (double buffering): two pairs of tiles.  While the block
multiplies out of one pair, each thread has already issued the global loads
of the next step into registers, so their latency (hundreds of cycles) hides
behind the arithmetic instead of stalling it; and one ``syncthreads`` per step
suffices instead of two.
"""

from __future__ import annotations

from numba import cuda, float32

from minidl.kernels.cuda_blocktile import A_STRIDE, B_STRIDE, BK, BM, BN, THREADS, TM, TN, square_of_thread, zero_tile
from minidl.kernels.cuda_common import blocks, cuda_device, cuda_kernel

A_LOADS = BM // A_STRIDE    # values of A each thread copies per step (4)
B_LOADS = BK // B_STRIDE    # values of B each thread copies per step (4)
COLUMN_STRIDE = BN // TN    # a thread's columns are 16 apart: thread_col, thread_col + 16, ...
A_ROW = BK + 1              # words per row of the shared A tile: one of padding, against bank conflicts


@cuda_device
def load_to_registers(a, b, k0, row0, col0, tid, a_next, b_next):
    """Fetch this thread's share of the next A and B tiles from global memory (0 outside)."""
    m, depth, n = a.shape[0], a.shape[1], b.shape[1]
    load_a_row, load_a_col = tid // BK, tid % BK
    load_b_row, load_b_col = tid // BN, tid % BN
    for p in range(A_LOADS):
        r, k = row0 + load_a_row + p * A_STRIDE, k0 + load_a_col
        a_next[p] = a[r, k] if r < m and k < depth else float32(0.0)
    for p in range(B_LOADS):
        k, col = k0 + load_b_row + p * B_STRIDE, col0 + load_b_col
        b_next[p] = b[k, col] if k < depth and col < n else float32(0.0)


@cuda_device
def store_to_tiles(a_tile, b_tile, tid, a_next, b_next):
    """Write the fetched values into the shared tiles (neighbouring threads, neighbouring words)."""
    for p in range(A_LOADS):
        a_tile[tid // BK + p * A_STRIDE, tid % BK] = a_next[p]
    for p in range(B_LOADS):
        b_tile[tid // BN + p * B_STRIDE, tid % BN] = b_next[p]


@cuda_device
def multiply_tiles(a_tile, b_tile, thread_row, thread_col, acc):
    """``acc += A_tile[rows] @ B_tile[:, cols]`` for this thread's 8 rows and 8 strided columns."""
    a_regs = cuda.local.array(TM, float32)
    b_regs = cuda.local.array(TN, float32)
    for kk in range(BK):
        for i in range(TM):
            a_regs[i] = a_tile[thread_row * TM + i, kk]     # a broadcast per half-warp, in 2 distinct banks
        for j in range(TN):
            b_regs[j] = b_tile[kk, thread_col + j * COLUMN_STRIDE]   # 16 neighbouring words: no conflict
        for i in range(TM):
            for j in range(TN):
                acc[i, j] += a_regs[i] * b_regs[j]


@cuda_device
def write_strided_tile(c, acc, row, col):
    """Copy a thread's sums to C: rows ``row + i``, columns ``col + 16 j`` (a half-warp writes 16 neighbours)."""
    for i in range(TM):
        for j in range(TN):
            if row + i < c.shape[0] and col + j * COLUMN_STRIDE < c.shape[1]:
                c[row + i, col + j * COLUMN_STRIDE] = acc[i, j]


@cuda_kernel(launch_bounds=(THREADS,))
def conflict_free_kernel(a, b, c):
    a_tile = cuda.shared.array((BM, A_ROW), float32)
    b_tile = cuda.shared.array((BK, BN), float32)
    acc = cuda.local.array((TM, TN), float32)
    a_next = cuda.local.array(A_LOADS, float32)
    b_next = cuda.local.array(B_LOADS, float32)
    tid = cuda.threadIdx.x
    row0, col0, thread_row, thread_col = square_of_thread()
    zero_tile(acc)
    for k0 in range(0, a.shape[1], BK):
        load_to_registers(a, b, k0, row0, col0, tid, a_next, b_next)
        store_to_tiles(a_tile, b_tile, tid, a_next, b_next)
        cuda.syncthreads()
        multiply_tiles(a_tile, b_tile, thread_row, thread_col, acc)
        cuda.syncthreads()
    write_strided_tile(c, acc, row0 + thread_row * TM, col0 + thread_col)


def conflict_free(a, b, c) -> None:
    """``c[...] = a @ b``, rung 5 with strided columns per thread: no shared-memory bank conflicts."""
    grid = (blocks(c.shape[1], BN), blocks(c.shape[0], BM))
    conflict_free_kernel[grid, THREADS](a, b, c)


@cuda_kernel(launch_bounds=(THREADS,))
def prefetch_kernel(a, b, c):
    a_tiles = cuda.shared.array((2, BM, A_ROW), float32)    # two buffers: compute in one, fill the other
    b_tiles = cuda.shared.array((2, BK, BN), float32)
    acc = cuda.local.array((TM, TN), float32)
    a_next = cuda.local.array(A_LOADS, float32)
    b_next = cuda.local.array(B_LOADS, float32)
    tid = cuda.threadIdx.x
    row0, col0, thread_row, thread_col = square_of_thread()
    zero_tile(acc)
    steps = (a.shape[1] + BK - 1) // BK
    load_to_registers(a, b, 0, row0, col0, tid, a_next, b_next)
    store_to_tiles(a_tiles[0], b_tiles[0], tid, a_next, b_next)
    cuda.syncthreads()
    for step in range(steps):
        current = step % 2
        more = step + 1 < steps                           # the same for every thread of the block
        if more:                                          # issue the next loads now, use them later
            load_to_registers(a, b, (step + 1) * BK, row0, col0, tid, a_next, b_next)
        multiply_tiles(a_tiles[current], b_tiles[current], thread_row, thread_col, acc)
        if more:                                          # nobody reads this buffer during this step
            store_to_tiles(a_tiles[1 - current], b_tiles[1 - current], tid, a_next, b_next)
        cuda.syncthreads()
    write_strided_tile(c, acc, row0 + thread_row * TM, col0 + thread_col)


def prefetch(a, b, c) -> None:
    """``c[...] = a @ b``, rung 6 with double-buffered tiles."""
    grid = (blocks(c.shape[1], BN), blocks(c.shape[0], BM))
    prefetch_kernel[grid, THREADS](a, b, c)
