"""CUDA rungs 4 and 5: register blocking, several outputs per thread.

After shared-memory tiling, the bottleneck is the shared memory itself: the
tiled kernel does two shared loads per multiply-add.  The cure is to let each
thread compute several outputs and reuse every value it loads from shared
memory for several of them, keeping the partial sums in registers (a
``cuda.local.array`` of constant size, indexed with constants after
unrolling, lives in registers).

Rung 4, ``blocktile1d``: a block computes a 64x64 tile of C with 512 threads,
each thread a column of 8 outputs.  Per step, one value of B (from shared
memory) is reused for 8 multiply-adds.

Rung 5, ``blocktile2d``: a block computes 128x128 with 256 threads, each
thread an 8x8 square.  Per step, 8 values of A and 8 of B feed 64
multiply-adds: 4 times fewer shared loads per FLOP than rung 4.

Both walk K in steps of ``BK = 8``: each step copies a (BM x 8) slice of A and
an (8 x BN) slice of B into shared memory, every thread helping, with zeros
outside the matrices so that any M, N, K works.
"""

from __future__ import annotations

from numba import cuda, float32

from minidl.kernels.cuda_common import blocks, cuda_device, cuda_kernel

# Rung 4: 64x64 tile of C per block, K in steps of 8, 8 outputs per thread.
BM1, BN1, BK1, TM1 = 64, 64, 8, 8
THREADS1 = (BM1 * BN1) // TM1          # 512


@cuda_kernel(launch_bounds=(THREADS1,))
def blocktile1d_kernel(a, b, c):
    a_tile = cuda.shared.array((BM1, BK1), float32)
    b_tile = cuda.shared.array((BK1, BN1), float32)
    acc = cuda.local.array(TM1, float32)
    m, n, depth = c.shape[0], c.shape[1], a.shape[1]
    tid = cuda.threadIdx.x
    row0 = cuda.blockIdx.y * BM1
    col0 = cuda.blockIdx.x * BN1
    thread_col = tid % BN1               # neighbouring threads, neighbouring columns (coalesced B)
    thread_row = tid // BN1              # which group of TM1 rows
    load_a_row, load_a_col = tid // BK1, tid % BK1    # 64 x 8 = 512 elements: one per thread
    load_b_row, load_b_col = tid // BN1, tid % BN1    # 8 x 64 = 512 elements: one per thread
    for i in range(TM1):
        acc[i] = float32(0.0)
    for k0 in range(0, depth, BK1):
        r, k = row0 + load_a_row, k0 + load_a_col
        a_tile[load_a_row, load_a_col] = a[r, k] if r < m and k < depth else float32(0.0)
        k, col = k0 + load_b_row, col0 + load_b_col
        b_tile[load_b_row, load_b_col] = b[k, col] if k < depth and col < n else float32(0.0)
        cuda.syncthreads()
        for kk in range(BK1):
            b_value = b_tile[kk, thread_col]             # loaded once, used TM1 times
            for i in range(TM1):
                acc[i] += a_tile[thread_row * TM1 + i, kk] * b_value
        cuda.syncthreads()
    col = col0 + thread_col
    for i in range(TM1):
        r = row0 + thread_row * TM1 + i
        if r < m and col < n:
            c[r, col] = acc[i]


def blocktile1d(a, b, c) -> None:
    """``c[...] = a @ b``, 64x64 block tiles, 8 outputs per thread."""
    grid = (blocks(c.shape[1], BN1), blocks(c.shape[0], BM1))
    blocktile1d_kernel[grid, THREADS1](a, b, c)


# Rung 5: 128x128 tile of C per block, K in steps of 8, an 8x8 square per thread.
BM, BN, BK, TM, TN = 128, 128, 8, 8, 8
THREADS = (BM * BN) // (TM * TN)       # 256
A_STRIDE = THREADS // BK               # rows of the A tile loaded per pass (32)
B_STRIDE = THREADS // BN               # rows of the B tile loaded per pass (2)


@cuda_kernel(launch_bounds=(THREADS,))
def blocktile2d_kernel(a, b, c):
    a_tile = cuda.shared.array((BM, BK), float32)
    b_tile = cuda.shared.array((BK, BN), float32)
    acc = cuda.local.array((TM, TN), float32)
    a_regs = cuda.local.array(TM, float32)
    b_regs = cuda.local.array(TN, float32)
    m, n, depth = c.shape[0], c.shape[1], a.shape[1]
    tid = cuda.threadIdx.x
    row0, col0, thread_row, thread_col = square_of_thread()
    load_a_row, load_a_col = tid // BK, tid % BK
    load_b_row, load_b_col = tid // BN, tid % BN
    zero_tile(acc)
    for k0 in range(0, depth, BK):
        for offset in range(0, BM, A_STRIDE):   # 128 x 8 values, 256 threads: 4 passes
            r, k = row0 + load_a_row + offset, k0 + load_a_col
            a_tile[load_a_row + offset, load_a_col] = a[r, k] if r < m and k < depth else float32(0.0)
        for offset in range(0, BK, B_STRIDE):   # 8 x 128 values: 4 passes
            k, col = k0 + load_b_row + offset, col0 + load_b_col
            b_tile[load_b_row + offset, load_b_col] = b[k, col] if k < depth and col < n else float32(0.0)
        cuda.syncthreads()
        for kk in range(BK):
            for i in range(TM):                  # 8 + 8 shared loads ...
                a_regs[i] = a_tile[thread_row * TM + i, kk]
            for j in range(TN):
                b_regs[j] = b_tile[kk, thread_col * TN + j]
            for i in range(TM):                  # ... feed 64 multiply-adds (an outer product)
                for j in range(TN):
                    acc[i, j] += a_regs[i] * b_regs[j]
        cuda.syncthreads()
    write_tile(c, acc, row0 + thread_row * TM, col0 + thread_col * TN)


def blocktile2d(a, b, c) -> None:
    """``c[...] = a @ b``, 128x128 block tiles, an 8x8 square of outputs per thread."""
    grid = (blocks(c.shape[1], BN), blocks(c.shape[0], BM))
    blocktile2d_kernel[grid, THREADS](a, b, c)


@cuda_device
def zero_tile(acc):
    for i in range(TM):
        for j in range(TN):
            acc[i, j] = float32(0.0)


@cuda_device
def write_tile(c, acc, row, col):
    """Copy a thread's TM x TN partial sums to C at (row, col), skipping what lies outside C."""
    for i in range(TM):
        for j in range(TN):
            if row + i < c.shape[0] and col + j < c.shape[1]:
                c[row + i, col + j] = acc[i, j]


@cuda_device
def square_of_thread():
    """Where this block's BM x BN tile of C starts, and which TM x TN square of it this thread owns."""
    tid = cuda.threadIdx.x               # 16 x 16 threads, row-major over the squares
    return cuda.blockIdx.y * BM, cuda.blockIdx.x * BN, tid // (BN // TN), tid % (BN // TN)
