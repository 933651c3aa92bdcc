"""CPU rung 3: cache blocking, and one band of rows of C per core.

The i-k-j loop of rung 2 reads all of B for every row of C.  At n = 1024, B
is 4 MB: more than a core's L2 cache, so B comes from L3 or memory again and
again, and the loop waits for data.

Cache blocking cuts the three loops into tiles: a BM x BN tile of C
accumulates the products of a BM x BK tile of A and a BK x BN tile of B.  The
B tile (128 x 256 float32 = 128 KB) stays in the L2 cache while all BM rows of
C use it, and each row segment of C (1 KB) stays in L1 while BK rows of B pass
through it.  Same arithmetic, far fewer trips to slow memory.

The bands of BM rows are independent (each writes its own rows of C), so
``prange`` hands them to different cores with no locking.
"""

from __future__ import annotations

from numba import njit, prange

BM, BK, BN = 32, 128, 256   # rows of C per band, depth of a tile, columns of C per tile


@njit(cache=True, fastmath=True, parallel=True)
def blocked(a, b, c) -> None:
    """``c[...] = a @ b`` with cache-sized tiles, bands of rows in parallel."""
    m, depth = a.shape
    n = b.shape[1]
    for band in prange((m + BM - 1) // BM):          # one band of rows per task, spread over cores
        i0 = band * BM
        i1 = min(i0 + BM, m)                         # the last band may be shorter
        c[i0:i1, :] = 0
        for k0 in range(0, depth, BK):
            k1 = min(k0 + BK, depth)
            for j0 in range(0, n, BN):
                j1 = min(j0 + BN, n)
                for i in range(i0, i1):              # the i-k-j loop of rung 2, inside one tile
                    c_row = c[i, j0:j1]
                    for k in range(k0, k1):
                        a_ik = a[i, k]
                        b_row = b[k, j0:j1]
                        for j in range(j1 - j0):
                            c_row[j] += a_ik * b_row[j]
