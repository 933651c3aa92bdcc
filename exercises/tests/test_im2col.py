"""Exercise im2col: against minidl's im2col, and a convolution as im2col + one GEMM against conv2d."""

from __future__ import annotations

import numpy as np

import minidl as md
import minidl.nn.functional as F
from minidl.ops.conv import im2col as minidl_im2col

EXERCISE = "im2col"


def test_matches_minidl_for_strides_and_padding(ex):
    rng = np.random.default_rng(0)
    for shape, (kh, kw), stride, padding in [((1, 1, 4, 4), (3, 3), 1, 0), ((2, 3, 6, 5), (3, 2), 1, 1),
                                             ((2, 2, 7, 7), (3, 3), 2, 1), ((1, 4, 5, 5), (1, 1), 1, 0)]:
        x = rng.standard_normal(shape)
        expected = minidl_im2col(md.tensor(x, dtype=md.float64), kernel_size=(kh, kw), stride=stride,
                                 padding=padding).numpy()
        got = ex.im2col(x, kh, kw, stride, padding)
        assert got.shape == expected.shape, f"{shape} k={kh}x{kw} s={stride} p={padding}: {got.shape}"
        np.testing.assert_array_equal(got, expected)


def test_a_convolution_is_im2col_and_one_gemm(ex):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    cols = ex.im2col(x, 3, 3, 1, 1)                                  # (2*6*6, 27)
    out = (cols @ w.reshape(4, -1).T).reshape(2, 6, 6, 4).transpose(0, 3, 1, 2)
    expected = F.conv2d(md.tensor(x, dtype=md.float64), md.tensor(w, dtype=md.float64), padding=1).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
