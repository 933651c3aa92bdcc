"""Exercise, chapter 6 (Convolution as im2col + GEMM): im2col.

Write ``im2col(x, kh, kw, stride=1, padding=0)`` for a NumPy image batch ``x``
(N, C, H, W): pad with zeros, then return the (N*OH*OW, C*kh*kw) matrix whose
row ``(n*OH + i)*OW + j`` is the window at output pixel (i, j) of image n,
its columns ordered channel first, then kernel row, then kernel column (the
order of ``weight.reshape(out_channels, -1)``).  OH = (H + 2*padding - kh) // stride + 1.

A loop over output pixels is fine for a first version; then try a loop over
the kh*kw kernel offsets only, as minidl does (one strided slice per offset).

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_im2col.py -q``
"""

from __future__ import annotations


def im2col(x, kh: int, kw: int, stride: int = 1, padding: int = 0):
    raise NotImplementedError("exercise im2col: write im2col")
