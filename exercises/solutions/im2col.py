"""Reference solution of exercises/im2col.py: one strided slice per kernel offset."""

from __future__ import annotations

import numpy as np


def im2col(x, kh: int, kw: int, stride: int = 1, padding: int = 0):
    n, c, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    # slices[u, v] holds, for every window at once, the entry at kernel offset (u, v): (N, C, OH, OW)
    slices = [[x[:, :, u:u + stride * (oh - 1) + 1:stride, v:v + stride * (ow - 1) + 1:stride] for v in range(kw)]
              for u in range(kh)]
    patches = np.stack([np.stack(row, axis=-1) for row in slices], axis=-2)     # (N, C, OH, OW, kh, kw)
    return patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
