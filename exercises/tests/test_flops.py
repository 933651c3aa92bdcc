"""Exercise flops: the cost of a GEMM in operations, bytes, and their ratio."""

from __future__ import annotations

import math

EXERCISE = "flops"


def test_counts_of_a_square_product(ex):
    assert ex.gemm_flops(1024, 1024, 1024) == 2 * 1024**3
    assert ex.gemm_bytes(1024, 1024, 1024, 4) == 3 * 1024 * 1024 * 4


def test_intensity_grows_with_size_for_square_products_and_not_for_a_vector(ex):
    assert math.isclose(ex.arithmetic_intensity(4096, 4096, 4096, 4), 4096 / 6)
    assert ex.arithmetic_intensity(1, 4096, 4096, 4) < 0.51     # GEMV: each weight used once
    assert ex.arithmetic_intensity(512, 1024, 784, 8) == ex.arithmetic_intensity(512, 1024, 784, 4) / 2
