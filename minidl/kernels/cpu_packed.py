"""CPU rung 4: packing and a register micro-kernel (the structure of every fast BLAS).

Rung 3 still loads and stores a row of C for every multiply-add.  A core can
do two SIMD multiply-adds per cycle but only about one store, so memory
traffic to L1, not arithmetic, sets its speed.  The fix is to keep a small
block of C in registers for the whole K loop:

- the micro-kernel computes an MR x NR = 8 x 16 block of C.  Its partial sums
  are 8 rows of 16 floats, 16 SIMD registers of 8 float32 (AVX2), loaded
  once and stored once.  Each step k reads 16 values of B and 8 of A and does
  128 multiply-adds on them, all from registers.
- packing copies the part of A (and of B) that the micro-kernel walks into a
  small contiguous buffer, in exactly the order it reads it, so that its
  loads are sequential and cache-resident, and ragged edges become
  zero padding (the micro-kernel always computes a full 8 x 16 block; only
  the valid part is written back).
- blocking as in rung 3: a packed panel of B (KC = 256 rows; 1 MB at
  n = 1024) stays in L2 while every band of MC = 64 rows of C uses it, and
  the micro-kernel's strips (8 KB of A, 16 KB of B) stay in L1.  The bands
  go to different cores.

The partial sums live in ``stack_array``: an array on the stack with a size
fixed at compile time.  After LLVM unrolls the 16-wide loops, every element
has a constant index and the array turns into registers.  (A ``np.zeros``
would live on the heap, where the compiler cannot do that.)  The 8 rows are
written out one by one for the same reason: the compiler must see 8
independent rows of sums.
"""

from __future__ import annotations

import numpy as np
from numba import carray, njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

MR, NR = 8, 16                # micro-kernel: rows x columns of C held in registers
MC, KC, NC = 64, 256, 4096    # blocking: rows of C per task, depth of a panel, columns of a B panel


@intrinsic
def _stack_pointer(typingctx, size, like):
    """A pointer to ``size`` (a compile-time constant) elements of ``like.dtype`` on the stack."""
    if not isinstance(size, types.IntegerLiteral):
        return None

    def codegen(context, builder, signature, args):
        element = context.get_data_type(like.dtype)
        return cgutils.alloca_once(builder, element, size=size.literal_value)

    return types.CPointer(like.dtype)(size, like), codegen


@njit(inline="always")   # inlined into the caller, so the stack space is the caller's: still valid after return
def stack_array(like):
    """A zeroed length-NR array of ``like``'s dtype on the stack: registers, once unrolled."""
    row = carray(_stack_pointer(NR, like), (NR,))
    for j in range(NR):
        row[j] = 0
    return row


@njit(fastmath=True, inline="always")
def micro_kernel(a_strip, b_strip, depth, c, i0, j0, rows, cols):
    """``C[i0:i0+rows, j0:j0+cols] += A_strip @ B_strip`` with an 8 x 16 block of sums in registers.

    ``a_strip[k * MR + i]`` is A[i0 + i, k] and ``b_strip[k * NR + j]`` is B[k, j0 + j] (packed, zero-padded).
    """
    s0, s1, s2, s3 = stack_array(c), stack_array(c), stack_array(c), stack_array(c)
    s4, s5, s6, s7 = stack_array(c), stack_array(c), stack_array(c), stack_array(c)
    for k in range(depth):
        a = a_strip[k * MR:(k + 1) * MR]
        b = b_strip[k * NR:(k + 1) * NR]
        for j in range(NR):           # 16 columns: two 8-wide SIMD registers per row
            s0[j] += a[0] * b[j]
            s1[j] += a[1] * b[j]
            s2[j] += a[2] * b[j]
            s3[j] += a[3] * b[j]
            s4[j] += a[4] * b[j]
            s5[j] += a[5] * b[j]
            s6[j] += a[6] * b[j]
            s7[j] += a[7] * b[j]
    sums = (s0, s1, s2, s3, s4, s5, s6, s7)
    for i in range(rows):             # write back only the part inside C
        c_row = c[i0 + i]
        row_sums = sums[i]
        for j in range(cols):
            c_row[j0 + j] += row_sums[j]


@njit(cache=True, fastmath=True, parallel=True)
def packed(a, b, c) -> None:
    """``c[...] = a @ b`` with packed panels and an 8 x 16 register micro-kernel."""
    m, depth = a.shape
    n = b.shape[1]
    c[:, :] = 0
    for k0 in range(0, depth, KC):
        kc = min(KC, depth - k0)
        for j0 in range(0, n, NC):
            nc = min(NC, n - j0)
            b_panel = pack_b(b, k0, kc, j0, nc)
            for band in prange((m + MC - 1) // MC):     # bands of MC rows of C, one per task
                i0 = band * MC
                mc = min(MC, m - i0)
                a_panel = pack_a(a, i0, mc, k0, kc)
                for strip_b in range(b_panel.shape[0]):
                    for strip_a in range(a_panel.shape[0]):
                        micro_kernel(a_panel[strip_a], b_panel[strip_b], kc, c, i0 + strip_a * MR,
                                     j0 + strip_b * NR, min(MR, mc - strip_a * MR), min(NR, nc - strip_b * NR))


@njit(cache=True, parallel=True)
def pack_b(b, k0, kc, j0, nc):
    """B[k0:k0+kc, j0:j0+nc] as strips of NR columns: ``panel[s, k * NR + j] = B[k0 + k, j0 + s * NR + j]``."""
    strips = (nc + NR - 1) // NR
    panel = np.zeros((strips, kc * NR), dtype=b.dtype)
    for s in prange(strips):
        width = min(NR, nc - s * NR)
        for k in range(kc):
            for j in range(width):
                panel[s, k * NR + j] = b[k0 + k, j0 + s * NR + j]
    return panel


@njit(cache=True)
def pack_a(a, i0, mc, k0, kc):
    """A[i0:i0+mc, k0:k0+kc] as strips of MR rows: ``panel[s, k * MR + i] = A[i0 + s * MR + i, k0 + k]``."""
    strips = (mc + MR - 1) // MR
    panel = np.zeros((strips, kc * MR), dtype=a.dtype)
    for s in range(strips):
        for i in range(min(MR, mc - s * MR)):
            a_row = a[i0 + s * MR + i]
            for k in range(kc):
                panel[s, k * MR + i] = a_row[k0 + k]
    return panel
