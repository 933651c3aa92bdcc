"""Exercise blocked_gemm: tiles cover every index once, and ragged shapes come out right."""

from __future__ import annotations

import numpy as np

EXERCISE = "blocked_gemm"


def test_tile_ranges_cover_each_index_once(ex):
    assert ex.tile_ranges(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert ex.tile_ranges(8, 4) == [(0, 4), (4, 8)]
    assert ex.tile_ranges(3, 8) == [(0, 3)]
    assert ex.tile_ranges(0, 8) == []


def test_blocked_matmul_on_ragged_shapes(ex):
    rng = np.random.default_rng(0)
    for (m, k, n), (bm, bk, bn) in [((37, 53, 29), (8, 16, 8)), ((5, 3, 7), (32, 128, 256)),
                                     ((64, 64, 64), (16, 16, 16)), ((1, 40, 9), (4, 7, 5))]:
        a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        c = ex.blocked_matmul(a, b, bm, bk, bn)
        assert c.shape == (m, n)
        np.testing.assert_allclose(c, a @ b, rtol=1e-10, atol=1e-10)
