"""Exercise, chapter 7 (The GPU): a shared-memory tile, run under Numba's CUDA simulator.

``tile_kernel(a, b, c)`` runs with one block per TILE x TILE tile of C and one
thread per element of that tile.  Write it like rung 3 of the CUDA ladder
(``minidl/kernels/cuda_simple.py``, ``tiled_kernel``): for each step of K,

1. each thread copies ONE element of A's tile and ONE of B's tile into
   ``cuda.shared.array((TILE, TILE), float32)`` arrays (0 outside the matrices);
2. ``cuda.syncthreads()``: the tiles are complete before anyone reads them;
3. each thread adds its TILE products out of shared memory;
4. ``cuda.syncthreads()`` again, before the next copy overwrites the tiles;

then the thread writes its element of C (if it lies inside C).  Use ``float32(0.0)``,
never ``0.0``, which would make Numba compute in float64.

No GPU needed: the test runs the kernel in the simulator (slow: one 16 x 16 product).
Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_cuda_tile.py -q``
"""

from __future__ import annotations

import numpy as np
from numba import cuda, float32  # noqa: F401  (float32: for your kernel)

TILE = 8


@cuda.jit
def tile_kernel(a, b, c):
    raise NotImplementedError("exercise cuda_tile: write tile_kernel")


def tiled_matmul(a, b, kernel=None):
    """``a @ b`` (float32) by ``kernel``, one block per TILE x TILE tile of the result."""
    kernel = kernel or tile_kernel
    c = np.zeros((a.shape[0], b.shape[1]), dtype=np.float32)
    grid = ((c.shape[1] + TILE - 1) // TILE, (c.shape[0] + TILE - 1) // TILE)
    kernel[grid, (TILE, TILE)](a, b, c)
    return c
