"""CUDA rungs 6 and 7: the same 128x128 / 8x8 blocking as rung 5, better fed.

Both split one step of K into three moves, written once below as device
functions: global memory -> registers (``load_to_registers``), registers ->
shared memory (``store_to_tiles``), and the 8x8 outer products out of shared
memory (``multiply_tiles``).

Rung 6, ``transposed``: the A tile is stored transposed, ``a_tile[k, row]``.
In rung 5 a thread read its 8 values of A down a column of the tile, 8
separate shared loads 32 bytes apart; now they are 8 neighbouring floats,
which the compiler can fetch as two 128-bit loads (and B already was).

Rung 7, ``prefetch`` (double buffering): two pairs of tiles.  While the block
multiplies out of one pair, each thread has already issued the global loads
of the next step into registers, so their latency (hundreds of cycles) hides
behind the arithmetic instead of stalling it; and one ``syncthreads`` per step
suffices instead of two.
"""

from __future__ import annotations

from numba import cuda, float32

from minidl.kernels.cuda_blocktile import (A_STRIDE, B_STRIDE, BK, BM, BN, THREADS, TM, TN, write_tile,
                                           zero_tile)
from minidl.kernels.cuda_common import blocks, cuda_device, cuda_kernel

A_LOADS = BM // A_STRIDE    # values of A each thread copies per step (4)
B_LOADS = BK // B_STRIDE    # values of B each thread copies per step (4)


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
    """Write the fetched values into shared memory, A transposed: ``a_tile[k, row]``."""
    for p in range(A_LOADS):
        a_tile[tid % BK, tid // BK + p * A_STRIDE] = a_next[p]
    for p in range(B_LOADS):
        b_tile[tid // BN + p * B_STRIDE, tid % BN] = b_next[p]


@cuda_device
def multiply_tiles(a_tile, b_tile, thread_row, thread_col, acc, a_regs, b_regs):
    """``acc += A_tile[rows] @ B_tile[:, cols]`` for this thread's 8x8 square, as BK outer products."""
    for kk in range(BK):
        for i in range(TM):
            a_regs[i] = a_tile[kk, thread_row * TM + i]     # 8 neighbours in shared memory
        for j in range(TN):
            b_regs[j] = b_tile[kk, thread_col * TN + j]
        for i in range(TM):
            for j in range(TN):
                acc[i, j] += a_regs[i] * b_regs[j]


@cuda_kernel(launch_bounds=(THREADS,))
def transposed_kernel(a, b, c):
    a_tile = cuda.shared.array((BK, BM), float32)
    b_tile = cuda.shared.array((BK, BN), float32)
    acc = cuda.local.array((TM, TN), float32)
    a_regs = cuda.local.array(TM, float32)
    b_regs = cuda.local.array(TN, float32)
    a_next = cuda.local.array(A_LOADS, float32)
    b_next = cuda.local.array(B_LOADS, float32)
    tid = cuda.threadIdx.x
    row0, col0 = cuda.blockIdx.y * BM, cuda.blockIdx.x * BN
    thread_row, thread_col = tid // (BN // TN), tid % (BN // TN)
    zero_tile(acc)
    for k0 in range(0, a.shape[1], BK):
        load_to_registers(a, b, k0, row0, col0, tid, a_next, b_next)
        store_to_tiles(a_tile, b_tile, tid, a_next, b_next)
        cuda.syncthreads()
        multiply_tiles(a_tile, b_tile, thread_row, thread_col, acc, a_regs, b_regs)
        cuda.syncthreads()
    write_tile(c, acc, row0 + thread_row * TM, col0 + thread_col * TN)


def transposed(a, b, c) -> None:
    """``c[...] = a @ b``, rung 5 with the A tile transposed in shared memory."""
    grid = (blocks(c.shape[1], BN), blocks(c.shape[0], BM))
    transposed_kernel[grid, THREADS](a, b, c)


@cuda_kernel(launch_bounds=(THREADS,))
def prefetch_kernel(a, b, c):
    a_tiles = cuda.shared.array((2, BK, BM), float32)    # two buffers: compute in one, fill the other
    b_tiles = cuda.shared.array((2, BK, BN), float32)
    acc = cuda.local.array((TM, TN), float32)
    a_regs = cuda.local.array(TM, float32)
    b_regs = cuda.local.array(TN, float32)
    a_next = cuda.local.array(A_LOADS, float32)
    b_next = cuda.local.array(B_LOADS, float32)
    tid = cuda.threadIdx.x
    row0, col0 = cuda.blockIdx.y * BM, cuda.blockIdx.x * BN
    thread_row, thread_col = tid // (BN // TN), tid % (BN // TN)
    zero_tile(acc)
    steps = blocks(a.shape[1], BK)
    load_to_registers(a, b, 0, row0, col0, tid, a_next, b_next)
    store_to_tiles(a_tiles[0], b_tiles[0], tid, a_next, b_next)
    cuda.syncthreads()
    for step in range(steps):
        current = step % 2
        more = step + 1 < steps                           # the same for every thread of the block
        if more:                                          # issue the next loads now, use them later
            load_to_registers(a, b, (step + 1) * BK, row0, col0, tid, a_next, b_next)
        multiply_tiles(a_tiles[current], b_tiles[current], thread_row, thread_col, acc, a_regs, b_regs)
        if more:                                          # nobody reads this buffer during this step
            store_to_tiles(a_tiles[1 - current], b_tiles[1 - current], tid, a_next, b_next)
        cuda.syncthreads()
    write_tile(c, acc, row0 + thread_row * TM, col0 + thread_col * TN)


def prefetch(a, b, c) -> None:
    """``c[...] = a @ b``, rung 6 with double-buffered tiles."""
    grid = (blocks(c.shape[1], BN), blocks(c.shape[0], BM))
    prefetch_kernel[grid, THREADS](a, b, c)
