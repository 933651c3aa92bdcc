"""CPU rungs 1 and 2: the same three loops, in two orders.

``C[i, j] = sum_k A[i, k] * B[k, j]`` is three nested loops, and all six
orders compute the same numbers.  They do not run at the same speed, because
memory is read in cache lines of 64 bytes (16 float32) and the CPU computes
on SIMD registers of 8 or 16 float32 at once.

Rung 1, ``naive`` (i-j-k): the innermost loop walks down a column of B,
one element per cache line, a whole row apart: almost every load misses the
cache, and the loop is a chain of dependent additions that cannot use SIMD.

Rung 2, ``ikj``: move k out one level.  Now the innermost loop is
``C[i, :] += A[i, k] * B[k, :]``: two rows, read and written contiguously,
whose elements are independent, so the compiler turns it into SIMD
multiply-adds.  Nothing else changed.

Both run on one core; parallelism arrives with cache blocking (rung 3).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def naive(a, b, c) -> None:
    """``c[...] = a @ b`` with the textbook i-j-k loop."""
    m, depth = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            acc = c.dtype.type(0)      # the dtype of C (float32 stays float32)
            for k in range(depth):
                acc += a[i, k] * b[k, j]
            c[i, j] = acc


@njit(cache=True, fastmath=True)       # fastmath: lets LLVM fuse * and + into one FMA instruction
def ikj(a, b, c) -> None:
    """``c[...] = a @ b`` with the i-k-j loop: contiguous, vectorised inner loop."""
    m, depth = a.shape
    for i in range(m):
        c_row = c[i]                   # a view: no copy, just a name for row i
        c_row[:] = 0
        for k in range(depth):
            a_ik = a[i, k]
            b_row = b[k]
            for j in range(c_row.shape[0]):
                c_row[j] += a_ik * b_row[j]
