"""Exercise roofline, with the H100's measured ceilings (docs/measurements/h100-2026-11-26/gemm_cuda.txt)."""

from __future__ import annotations

import math

EXERCISE = "roofline"
PEAK = 51.7e12         # FLOP/s, cuBLAS SGEMM at n = 4096, TF32 off (measured)
BANDWIDTH = 3.01e12    # bytes/s, a plain copy at n = 16384 (measured)


def test_gemv_is_memory_bound_and_a_large_gemm_compute_bound(ex):
    assert ex.bound(0.5, PEAK, BANDWIDTH) == "memory"
    assert math.isclose(ex.attainable(0.5, PEAK, BANDWIDTH), 1.505e12)
    assert ex.bound(4096 / 6, PEAK, BANDWIDTH) == "compute"
    assert ex.attainable(4096 / 6, PEAK, BANDWIDTH) == PEAK


def test_the_ridge_is_where_the_two_roofs_meet(ex):
    ridge = ex.ridge_point(PEAK, BANDWIDTH)
    assert 17 < ridge < 18
    assert math.isclose(ex.attainable(ridge, PEAK, BANDWIDTH), PEAK)
